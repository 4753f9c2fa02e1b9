"""What every agent memory offers (:class:`Memory`, a Protocol), and the simplest one: a plain list.

:class:`~simworld.memory.MemoryStream` is the full memory (scored retrieval, written memories,
reflection). ``memory: {kind: list}`` in a scenario config gives agents a :class:`ListMemory` instead
(fastest): its ``retrieve`` returns the most recent observations unscored and logs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from simworld.memory.records import OBSERVATION, OTHER_PREFIX, WRITTEN_PREFIX, MemoryRecord, Retrieved
from simworld.memory.text import describe_event

from simworld.events import WorldEvent

if TYPE_CHECKING:
    from simworld.world import World


@runtime_checkable
class Memory(Protocol):
    """What an agent and its brain need from a memory."""

    def bind(self, world: World, owner: str) -> None:
        """Join ``world`` as the memory of agent ``owner`` (written memories are logged there)."""

    def observe(self, observation: WorldEvent) -> None:
        """Take in one perceived event."""

    def recent(self, n: int) -> list[WorldEvent]:
        """The last ``n`` observations, oldest first."""

    def retrieve(self, query: str | None = None, k: int = 5, *, causes: Sequence[int] = ()) -> list[Retrieved]:
        """The ``k`` memories that matter most for ``query``, with their score parts."""

    def write(self, kind: str, text: str, importance: float | None = None, evidence: Sequence[str] = (),
              metadata: dict[str, Any] | None = None, causes: Sequence[int] = ()) -> MemoryRecord:
        """Add a memory that is not an observation (plan, note, reflection); logged as memory.written."""

    def wants_reflection(self) -> bool:
        """Whether a model brain should write a reflection now."""

    def add_reflection(self, text: str, evidence: Sequence[Any] = (), importance: float | None = None
                       ) -> MemoryRecord:
        """Store a reflection a model brain made from ``evidence``."""

    def __len__(self) -> int: ...


#: The name earlier releases used.
MemoryLike = Memory


class ListMemory:
    """Keeps observations (perceived world events) and written notes in arrival order; ``capacity``
    drops the oldest. Retrieval is by recency only and is not logged."""

    __slots__ = ("_counters", "_items", "capacity", "owner", "world")

    def __init__(self, capacity: int | None = None) -> None:
        self._items: list[WorldEvent | MemoryRecord] = []
        self.capacity = capacity
        self.world: World | None = None
        self.owner: str | None = None
        self._counters: dict[str, int] = {}

    def bind(self, world: World, owner: str) -> None:
        self.world, self.owner = world, owner

    def observe(self, observation: WorldEvent) -> None:
        self._items.append(observation)
        if self.capacity is not None and len(self._items) > self.capacity:
            del self._items[: len(self._items) - self.capacity]

    def recent(self, n: int) -> list[WorldEvent]:
        if n <= 0:
            return []
        out: list[WorldEvent] = []
        for item in reversed(self._items):
            if isinstance(item, WorldEvent):
                out.append(item)
                if len(out) == n:
                    break
        return out[::-1]

    def retrieve(self, query: str | None = None, k: int = 5, *, causes: Sequence[int] = ()) -> list[Retrieved]:
        out = []
        for item in self._items[-k:] if k > 0 else []:
            rec = item if isinstance(item, MemoryRecord) else _as_record(item)
            out.append(Retrieved(rec, 0.0, 0.0, 0.0, 0.0))
        return out

    def write(self, kind: str, text: str, importance: float | None = None, evidence: Sequence[str] = (),
              metadata: dict[str, Any] | None = None, causes: Sequence[int] = ()) -> MemoryRecord:
        prefix = WRITTEN_PREFIX.get(kind, OTHER_PREFIX)
        n = self._counters.get(prefix, 0)
        self._counters[prefix] = n + 1
        t = self.world.now if self.world is not None else 0.0
        imp = 5.0 if importance is None else float(importance)
        rec = MemoryRecord(f"{prefix}{n}", t, kind, text, imp, t, None, tuple(evidence), dict(metadata or {}))
        self._items.append(rec)
        if self.world is not None:
            self.world.log("memory.written", {"id": rec.id, "kind": kind, "text": text, "importance": imp,
                                              "evidence": list(rec.evidence), "metadata": rec.metadata},
                           agent=self.owner, causes=causes)
        return rec

    def wants_reflection(self) -> bool:
        return False

    def add_reflection(self, text: str, evidence: Sequence[Any] = (), importance: float | None = None
                       ) -> MemoryRecord:
        ids = [e.id if isinstance(e, (MemoryRecord, Retrieved)) else f"e{e.seq}" for e in evidence]
        return self.write("reflection", text, importance, ids)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[WorldEvent | MemoryRecord]:
        return iter(self._items)


def _as_record(event: WorldEvent) -> MemoryRecord:
    return MemoryRecord(f"e{event.seq}", event.t, OBSERVATION, lambda: describe_event(event), 0.0, event.t,
                        event.seq, (), {"event_kind": event.kind, "agent": event.agent, "data": event.data})
