"""The tom_rooms config: every key here can be set in YAML or with ``--set``."""

from __future__ import annotations

from pydantic import Field, field_validator
from simworld.agents.brain_config import BrainSettings
from simworld.agents.population import PopulationSpec
from simworld.memory import ImportanceConfig, MemoryConfig
from simworld.scenarios.tom_rooms.policies import policies

from simworld.config import check_shares
from simworld.files import DataFile


def tom_memory() -> MemoryConfig:
    """What an agent in the rooms finds important: things moved and things said above comings and goings."""
    kinds = {"tom.moved": 6.0, "message.sent": 5.0, "tom.looked": 4.0, "tom.noticed": 4.0, "tom.watching": 3.0,
             "tom.entered": 2.0, "tom.left": 2.0, "tom.*": 1.0, "agent.acted": 1.0}
    return MemoryConfig(importance=ImportanceConfig(kinds=kinds))


class TomRoomsConfig(BrainSettings):
    """Agents, rooms with containers, objects, and how long the story runs."""

    n_agents: int | None = Field(default=None, ge=2, le=100_000, description="default 3, or all personas in the file")
    personas: DataFile | None = Field(default=None, description="persona file (YAML/JSON/JSONL); roles.tom is optional (or {file: F, map: {field: their_field}})")
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    rooms: int = Field(default=1, ge=1, le=100_000)
    containers: int = Field(default=3, ge=2, le=100, description="containers per room")
    objects: int = Field(default=1, ge=1, le=1000, description="objects per room")
    steps: int = Field(default=10, ge=1, le=100_000_000, description="turns in the story (one agent acts per turn)")
    step_time: float = Field(default=1.0, gt=0.0, description="simulated time per turn")
    strategy: str | dict[str, float] = Field(
        default="persona", description="persona, honest, deceiver, random, or shares, e.g. {persona: 0.5, random: 0.5}")
    tells: bool = Field(default=True, description="agents may tell each other where things are (truthfully or not)")
    looks: bool = Field(default=True, description="agents may look into containers")
    watchers: bool = Field(default=True, description="agents may watch a room unseen from the hallway")
    belief_orders: int = Field(default=2, ge=0, le=2,
                               description="rule agents log their beliefs up to this order (0: none)")
    memory: MemoryConfig = Field(default_factory=tom_memory, description="each agent's memory stream")

    @field_validator("strategy")
    @classmethod
    def _known_strategies(cls, v: str | dict[str, float]) -> str | dict[str, float]:
        return check_shares(v, policies.names(), "strategy")
