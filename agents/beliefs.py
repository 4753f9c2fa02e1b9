"""Beliefs: what an agent thinks about other agents (theory of mind), every update logged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from simworld.world import World


class TypedBelief(BaseModel):
    """Base of a scenario's typed beliefs about another agent: subclass it with one optional field per
    thing an agent may believe (``budget: float | None``, ``priority: Literal[...] | None``). A model
    brain's theory-of-mind node then answers a list of these (schema-constrained like a decision), and
    each field it fills becomes a ``belief.updated`` with that field's name as the key."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    about: str = Field(description="the other agent's id")
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)

    @classmethod
    def keys(cls) -> list[str]:
        """The belief keys (every field but ``about`` and ``confidence``)."""
        return [k for k in cls.model_fields if k not in ("about", "confidence")]

    def values(self) -> dict[str, Any]:
        """The beliefs this answer states (fields left empty are not beliefs)."""
        return {k: getattr(self, k) for k in self.keys() if getattr(self, k) is not None}


@dataclass(slots=True)
class Belief:
    value: Any
    confidence: float
    t: float


class Beliefs:
    """``beliefs.update("bob", "value", 0.7, confidence=0.6)`` records and logs ``belief.updated``."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.world: World | None = None
        self._store: dict[str, dict[str, Belief]] = {}

    def bind(self, world: World) -> None:
        self.world = world

    def update(
        self,
        about: str,
        key: str,
        value: Any,
        confidence: float = 0.5,
        causes: Sequence[int] = (),
        **extra: Any,
    ) -> None:
        confidence = min(1.0, max(0.0, float(confidence)))
        t = self.world.now if self.world is not None else 0.0
        self._store.setdefault(about, {})[key] = Belief(value, confidence, t)
        if self.world is not None:
            data = {"about": about, "key": key, "value": value, "confidence": confidence}
            if extra:
                data.update(extra)
            self.world.log("belief.updated", data, agent=self.owner, causes=causes)

    def get(self, about: str, key: str, default: Any = None) -> Any:
        b = self._store.get(about, {}).get(key)
        return default if b is None else b.value

    def belief(self, about: str, key: str) -> Belief | None:
        return self._store.get(about, {}).get(key)

    def about(self, who: str) -> dict[str, Belief]:
        return dict(self._store.get(who, {}))

    def __iter__(self) -> Iterator[tuple[str, str, Belief]]:
        for who, keys in self._store.items():
            for key, b in keys.items():
                yield who, key, b

    def __len__(self) -> int:
        return sum(len(v) for v in self._store.values())
