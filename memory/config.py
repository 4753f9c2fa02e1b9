"""Memory settings: the config block a scenario exposes (``memory:``) and the persona's ``memory`` role.

Units: simworld time is in simulated seconds (the auction's clock runs in seconds), so ``decay`` is
applied per ``decay_unit`` simulated seconds, an hour by default. The defaults follow Generative Agents:
weights recency 0.5, importance 3, relevance 2; decay 0.99 per (game) hour; reflect when the importance
accumulated since the last reflection reaches 150 (importance is on the paper's 1-10 scale).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TraitsLike(Protocol):
    openness: float
    extraversion: float
    neuroticism: float


class PersonaLike(Protocol):
    """What memory reads of a persona (``simworld.agents.Persona``, or a persona read back from a log)."""

    @property
    def id(self) -> str: ...

    @property
    def big_five(self) -> TraitsLike: ...

    @property
    def roles(self) -> dict[str, Any]: ...


class ScoringWeights(BaseModel):
    """How much each normalised score part counts in a retrieval's total."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    recency: float = Field(default=0.5, ge=0.0)
    importance: float = Field(default=3.0, ge=0.0)
    relevance: float = Field(default=2.0, ge=0.0)


class ImportanceConfig(BaseModel):
    """The rule importance scorer (1-10 scale).

    An observation's importance is ``kinds[kind]`` (exact kind, else the longest matching ``prefix.*``
    key, else ``default`` plus keyword bonuses read from the kind name), scaled by the persona's
    sensitivity, plus ``self_bonus`` when the agent itself did it, plus a surprise bonus for the numeric
    field named in ``surprise[kind]`` (how far the value lies from what the agent saw before).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    default: float = Field(default=2.0, ge=0.0, le=10.0)
    kinds: dict[str, float] = Field(default_factory=dict, description="kind or 'prefix.*' -> base importance")
    keywords: dict[str, float] = Field(
        default_factory=lambda: {
            "won": 3.0, "lost": 3.0, "rejected": 3.0, "failed": 3.0, "message": 2.0, "said": 2.0,
        },
        description="words in a kind name that add to the default",
    )
    negative: list[str] = Field(
        default_factory=lambda: ["rejected", "lost", "failed", "dropped", "error", "refused", "denied"],
        description="words in a kind name that make an event negative (neuroticism amplifies it)",
    )
    social: list[str] = Field(
        default_factory=lambda: ["message", "said", "chat", "reply", "talk"],
        description="words in a kind name that make an event social (extraversion amplifies it)",
    )
    self_bonus: float = Field(default=2.0, ge=0.0, description="added when the agent is the event's actor")
    surprise: dict[str, str] = Field(default_factory=dict, description="kind -> numeric data field to be surprised by")
    surprise_weight: float = Field(default=1.0, ge=0.0, description="importance per standard deviation of surprise")
    surprise_cap: float = Field(default=3.0, ge=0.0, description="most standard deviations counted")
    written: dict[str, float] = Field(
        default_factory=lambda: {"plan": 5.0, "note": 4.0, "message": 4.0},
        description="default importance of memories a brain writes, by memory kind",
    )


class ReflectionConfig(BaseModel):
    """Reflection once enough importance has accumulated: ``rule`` writes a summary with evidence links at
    once; ``model`` leaves it to a model brain, which sees ``wants_reflection()`` and calls
    ``add_reflection(text, evidence)``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = True
    mode: Literal["rule", "model"] = "rule"
    threshold: float = Field(default=150.0, gt=0.0, description="accumulated importance that triggers it")
    evidence: int = Field(default=5, ge=1, description="most observations a reflection links to")


class CapacityConfig(BaseModel):
    """RecAgent-style short-term memory: when more than ``short_term`` observations are recent, the oldest
    leaves it and is promoted to long-term memory if its importance reaches ``promote_importance``,
    otherwise forgotten (kept in the record, never retrieved). Off when ``short_term`` is None."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    short_term: int | None = Field(default=None, ge=1)
    promote_importance: float = Field(default=5.0, ge=0.0)


class MemoryConfig(BaseModel):
    """Everything about an agent's memory that a config file can set (``--set memory.weights.relevance=1``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: Literal["stream", "list"] = Field(
        default="stream", description="stream: scored retrieval and reflection; list: a plain list (no retrieval)"
    )
    weights: ScoringWeights = Field(default_factory=ScoringWeights)
    decay: float = Field(default=0.99, gt=0.0, le=1.0, description="recency factor per decay_unit since last access")
    decay_unit: float = Field(default=3600.0, gt=0.0, description="simulated seconds per decay step (an hour)")
    normalize: Literal["minmax", "fixed"] = Field(
        default="minmax", description="minmax: each part scaled to [0, 1] over the candidates; fixed: by its range"
    )
    importance: ImportanceConfig = Field(default_factory=ImportanceConfig)
    reflection: ReflectionConfig = Field(default_factory=ReflectionConfig)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)
    embedder: Literal["hashing", "minilm"] = "hashing"
    embedding_dim: int = Field(default=256, ge=8, le=8192, description="hashing embedder only")
    store: Literal["numpy", "chroma"] = "numpy"
    chroma_path: Path | None = Field(default=None, description="chroma folder (default: <run dir>/chroma)")
    candidates: int = Field(default=100, ge=1, description="chroma: candidates fetched per factor before scoring")

    def for_persona(self, persona: PersonaLike | None) -> MemoryConfig:
        """This config with the persona's ``roles.memory`` (a :class:`MemoryRole`) applied over it."""
        raw = persona.roles.get("memory") if persona is not None else None
        if not raw:
            return self
        role = MemoryRole.model_validate(raw)
        return role.apply(self)


class MemoryRole(BaseModel):
    """``persona.roles.memory``: per-persona overrides of the scenario's memory config.

    ``weights`` may name only some parts; ``sensitivity`` multiplies every observation's importance.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    weights: dict[Literal["recency", "importance", "relevance"], float] = Field(default_factory=dict)
    decay: float | None = Field(default=None, gt=0.0, le=1.0)
    reflection_threshold: float | None = Field(default=None, gt=0.0)
    sensitivity: float = Field(default=1.0, ge=0.0, le=10.0)

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in v.values()):
            raise ValueError("weights must be non-negative")
        return v

    def apply(self, cfg: MemoryConfig) -> MemoryConfig:
        update: dict[str, Any] = {}
        if self.weights:
            update["weights"] = cfg.weights.model_copy(update={str(k): v for k, v in self.weights.items()})
        if self.decay is not None:
            update["decay"] = self.decay
        if self.reflection_threshold is not None:
            update["reflection"] = cfg.reflection.model_copy(update={"threshold": self.reflection_threshold})
        return cfg.model_copy(update=update) if update else cfg


_NO_ROLE = MemoryRole()




def persona_memory_role(persona: PersonaLike | None) -> MemoryRole:
    """The persona's memory role (defaults when it has none)."""
    raw = persona.roles.get("memory") if persona is not None else None
    return MemoryRole.model_validate(raw) if raw else _NO_ROLE
