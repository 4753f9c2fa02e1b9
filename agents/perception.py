"""Perception: what of a witnessed event reaches the agent.

Any object with ``perceive(event) -> event | None`` is a perception (:class:`Perception`, a Protocol);
``None`` means the agent missed the event, and the agent logs that as ``agent.perceived``. A perception
may hand out an altered copy of the event (noise, a partial view).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from simworld.events import WorldEvent


@runtime_checkable
class Perception(Protocol):
    def perceive(self, event: WorldEvent) -> WorldEvent | None: ...


class Attention:
    """Every witnessed event becomes an observation, up to ``limit`` observations per simulated instant;
    the rest are missed. ``limit=None`` takes in everything (the agent then skips the call entirely)."""

    __slots__ = ("_t", "_taken", "limit")

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._t = -1.0
        self._taken = 0

    @property
    def takes_everything(self) -> bool:
        return self.limit is None

    def perceive(self, event: WorldEvent) -> WorldEvent | None:
        if self.limit is None:
            return event
        if event.t != self._t:
            self._t = event.t
            self._taken = 0
        if self._taken >= self.limit:
            return None
        self._taken += 1
        return event
