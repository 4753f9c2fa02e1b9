"""The debate's config (and the memory defaults of its agents)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from simworld.agents.brain_config import BrainSettings
from simworld.agents.population import PopulationSpec
from simworld.memory import ImportanceConfig, MemoryConfig

from simworld.files import DataFile

UpdateRule = Literal["degroot", "friedkin_johnsen", "hegselmann_krause", "deffuant", "argument"]


def debate_memory() -> MemoryConfig:
    """What a debate participant finds important: speeches and verdicts above the room's comings and goings."""
    kinds = {"message.sent": 5.0, "debate.move": 3.0, "debate.reaction": 1.0, "debate.interrupted": 4.0,
             "debate.verdict": 6.0, "debate.*": 2.0, "agent.acted": 1.0}
    return MemoryConfig(importance=ImportanceConfig(kinds=kinds))


class DebateConfig(BrainSettings):
    """Propositions, participants, the influence network and update rule, and the floor's timing."""

    propositions: list[str] = Field(
        default_factory=lambda: ["The city centre should be closed to private cars."], min_length=1,
        description="debated one after another; ids p1, p2, ...",
    )
    n_debaters: int | None = Field(default=None, ge=2, le=50, description="default 4, or the file's debaters")
    n_audience: int | None = Field(default=None, ge=0, le=5000, description="default 8, or the file's audience")
    personas: DataFile | None = Field(default=None, description="persona file with roles.debate (or {file: F, map: {field: their_field}})")
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    rounds: int = Field(default=3, ge=1, le=1000)
    update_rule: UpdateRule = "argument"
    network: Literal["complete", "small_world", "scale_free", "file"] = "small_world"
    network_file: Path | None = Field(default=None, description="edges for network: file")
    small_world_k: int = Field(default=4, ge=2)
    small_world_p: float = Field(default=0.2, ge=0.0, le=1.0)
    scale_free_m: int = Field(default=2, ge=1)
    self_weight: float = Field(default=0.5, ge=0.0, le=1.0, description="weight an agent keeps on its own view")
    debater_influence: float = Field(default=2.0, gt=0.0, description="debaters' weight multiplier in the network")
    network_steps: int = Field(default=1, ge=0, le=100_000, description="network updates at each round's break")
    stubbornness: float = Field(default=0.3, ge=0.0, le=1.0, description="Friedkin-Johnsen: mean anchoring")
    epsilon: float = Field(default=0.5, gt=0.0, le=2.0, description="bounded confidence radius (opinions in -1..1)")
    mu: float = Field(default=0.3, gt=0.0, le=0.5, description="Deffuant convergence rate")
    deffuant_pairs: int | None = Field(default=None, ge=1, description="encounters per step (default: participants)")
    persuasion_rate: float = Field(default=0.25, ge=0.0, le=1.0, description="argument rule: pull per heard move")
    audience_spread: float = Field(default=0.45, ge=0.0, description="sd of the audience's initial opinions")
    speak_time: float = Field(default=45.0, gt=0.0, description="median seconds per turn (verbosity scales it)")
    turn_limit: float = Field(default=90.0, gt=0.0, description="the moderator cuts a turn off here")
    interruptions: float = Field(default=1.0, ge=0.0, description="interruption propensity multiplier (0: none)")
    reactions: bool = True
    private_messages: bool = True
    leave_rate: float = Field(default=0.002, ge=0.0, description="audience: leavings per simulated second")
    away_time: float = Field(default=120.0, gt=0.0, description="mean time away before rejoining")
    break_time: float = Field(default=60.0, ge=0.0, description="pause between rounds")
    consensus_tol: float = Field(default=0.1, gt=0.0, description="metrics: spread that counts as consensus")
    memory: MemoryConfig = Field(default_factory=debate_memory)

    @model_validator(mode="after")
    def _network_file(self) -> DebateConfig:
        if self.network == "file" and self.network_file is None:
            raise ValueError("network: file needs network_file")
        return self
