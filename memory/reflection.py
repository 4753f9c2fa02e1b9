"""Reflection: higher-level memories written when enough importance has accumulated.

A :class:`Reflector` gets the observations since the last reflection (a :class:`Window`) and returns
reflections with evidence links; the stream writes them (and logs them as ``memory.written``, since
they cannot be derived from the world events). :class:`RuleReflector` summarises and counts; a model reflector
(issue 4) plugs in through the same protocol.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from simworld.memory.text import format_value


@dataclass(slots=True)
class Reflection:
    """A reflection to be written: text, importance (1-10) and the ids of the memories behind it."""

    text: str
    importance: float
    evidence: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Window:
    """The observations since the last reflection, as columns (cheap to hand over: nothing is rendered
    until a reflector asks for a text)."""

    owner: str | None
    events: list[Any]
    importance: list[float]
    now: float
    render: Callable[[Any], str]
    numbers: Callable[[Any], tuple[tuple[str, float], ...]] | None = None

    def ids(self) -> list[str]:
        return [f"e{e.seq}" for e in self.events]

    def text(self, i: int) -> str:
        return self.render(self.events[i])

    def __len__(self) -> int:
        return len(self.events)


class Reflector(Protocol):
    def reflect(self, window: Window) -> list[Reflection]: ...


class RuleReflector:
    """One summary per window: how many observations, of which kinds, the range of the numbers seen in the
    most common fields, and the most important observations, which become the evidence links."""

    def __init__(self, evidence: int = 5, numeric_fields: int = 3, notable: int = 3) -> None:
        self.evidence = evidence
        self.numeric_fields = numeric_fields
        self.notable = notable

    def reflect(self, window: Window) -> list[Reflection]:
        events, imp = window.events, window.importance
        if not events:
            return []
        kinds = Counter(e.kind for e in events)
        n = len(events)
        ranked = np.lexsort((-np.arange(n), -np.asarray(imp))).tolist()  # most important, then latest
        top = sorted(ranked[: self.evidence])
        evidence = tuple(f"e{events[i].seq}" for i in top)
        common = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        lines = [
            f"I observed {len(events)} events between t={format_value(float(events[0].t))} and "
            f"t={format_value(float(events[-1].t))}, mostly "
            + ", ".join(f"{k} ({n})" for k, n in common[:4]) + "."
        ]
        stats = self._numbers(events, window.numbers)
        if stats:
            lines.append("Numbers seen: " + "; ".join(
                f"{name} {format_value(lo)} to {format_value(hi)} (mean {format_value(mean)}, n={n})"
                for name, n, lo, hi, mean in stats) + ".")
        lines.append("Most notable: " + " | ".join(window.text(i) for i in ranked[: self.notable]) + ".")
        meta = {"observations": len(events), "from": float(events[0].t), "to": float(events[-1].t),
                "kinds": dict(common)}
        return [Reflection(" ".join(lines), round(max(imp[i] for i in top), 6), evidence, meta)]

    def _numbers(self, events: Sequence[Any], numbers: Callable[[Any], tuple[tuple[str, float], ...]] | None
                 ) -> list[tuple[str, int, float, float, float]]:
        """(field, count, min, max, mean) for the most common numeric top-level data fields."""
        values: dict[str, list[float]] = {}
        fields = numbers or _numeric_fields
        for e in events:
            for key, v in fields(e):
                seen = values.get(key)
                if seen is None:
                    values[key] = [v]
                else:
                    seen.append(v)
        ranked = sorted(values.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: self.numeric_fields]
        return [(k, len(v), float(min(v)), float(max(v)), float(sum(v)) / len(v)) for k, v in ranked]


def _numeric_fields(event: Any) -> tuple[tuple[str, float], ...]:
    return tuple((k, v) for k, v in event.data.items() if type(v) is float or type(v) is int)
