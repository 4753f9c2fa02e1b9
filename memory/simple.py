"""The simplest memory: an ordered list of what the agent took in, behind the interface agents use.

:class:`MemoryLike` is what every memory offers; :class:`~simworld.memory.MemoryStream` adds scored
retrieval (``retrieve``), written memories (``write``) and reflection. ``memory: {kind: list}`` in a
scenario config gives agents this list instead (fastest; no retrieval).
"""

from __future__ import annotations

from typing import Any, Protocol


class MemoryLike(Protocol):
    """What an agent needs from its memory."""

    def observe(self, observation: Any) -> None: ...

    def recent(self, n: int) -> list[Any]: ...

    def __len__(self) -> int: ...


class ListMemory:
    """Keeps observations (perceived world events) in arrival order; ``capacity`` drops the oldest."""

    __slots__ = ("_items", "capacity")

    def __init__(self, capacity: int | None = None) -> None:
        self._items: list[Any] = []
        self.capacity = capacity

    def observe(self, observation: Any) -> None:
        self._items.append(observation)
        if self.capacity is not None and len(self._items) > self.capacity:
            del self._items[: len(self._items) - self.capacity]

    def recent(self, n: int) -> list[Any]:
        return self._items[-n:] if n > 0 else []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)
