"""The support scenario's config (and the memory defaults of its agents)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from simworld.agents.brain_config import BrainSettings
from simworld.agents.population import PopulationSpec
from simworld.memory import ImportanceConfig, MemoryConfig
from simworld.scenarios.support.policies import policies

from simworld.config import check_shares
from simworld.files import DataFile


def support_memory() -> MemoryConfig:
    """What a support participant finds important: disclosures and words above strategy labels."""
    kinds = {"message.sent": 5.0, "support.disclosed": 7.0, "support.strategy": 2.0, "support.*": 3.0,
             "agent.acted": 1.0}
    return MemoryConfig(importance=ImportanceConfig(kinds=kinds))


class SupportConfig(BrainSettings):
    """Seekers and supporters (or recorded conversations), how they are matched, and the talk's dynamics."""

    n_seekers: int | None = Field(default=None, ge=1, le=100_000, description="default 6, or the file's seekers")
    n_supporters: int | None = Field(default=None, ge=1, le=10_000, description="default 3, or the file's supporters")
    personas: DataFile | None = Field(default=None, description="persona file: roles.seeker or roles.supporter (or {file: F, map: {field: their_field}})")
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    conversations: Path | None = Field(default=None, description="ESConv-format JSON/JSONL to replay instead")
    matching: Literal["compare", "compatibility", "random"] = Field(
        default="compare", description="compare: half the seekers matched by compatibility, half at random")
    capacity: int | None = Field(default=None, ge=1, description="most seekers per supporter in each arm (None: no limit)")
    policy: str = Field(default="staged", description="supporters' rule policy: staged or random")
    max_turns: int = Field(default=20, ge=1, le=1000, description="supporter turns before the session closes")
    explore_turns: int = Field(default=3, ge=0)
    comfort_turns: int = Field(default=3, ge=0)
    noise: float = Field(default=0.15, ge=0.0, description="sd of the intensity response noise")
    resolved_at: float = Field(default=2.0, ge=1.0, le=5.0, description="intensity at or below which it is resolved")
    typing_speed: float = Field(default=4.0, gt=0.0, description="characters per simulated second")
    memory: MemoryConfig = Field(default_factory=support_memory)

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        check_shares(v, policies.names(), "policy")
        return v
