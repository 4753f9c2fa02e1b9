"""Beliefs: what an agent thinks about other agents (theory of mind), every update logged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simworld.world import World


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
