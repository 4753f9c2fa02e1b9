"""Perception: what of a witnessed event reaches the agent."""

from __future__ import annotations

from typing import Any


class Perception:
    """Every witnessed event becomes an observation, up to ``attention`` observations per simulated
    instant; the rest are missed (and the agent logs what it missed as ``agent.perceived``)."""

    __slots__ = ("_t", "_taken", "attention")

    def __init__(self, attention: int | None = None) -> None:
        self.attention = attention
        self._t = -1.0
        self._taken = 0

    def perceive(self, event: Any) -> Any | None:
        if self.attention is None:
            return event
        if event.t != self._t:
            self._t = event.t
            self._taken = 0
        if self._taken >= self.attention:
            return None
        self._taken += 1
        return event
