"""Importance scorers: how much an observation matters to this agent, on a 1-10 scale.

The rule scorer is a deterministic function of the event, the persona and what the agent observed
before it, so that :func:`simworld.memory.rebuild_memory` recomputes it from the run log instead of the
log carrying it for every observation. It runs at intake (millions of times in a large run), so the
per-kind part is computed once per kind and cached; per observation it is a dict lookup, one comparison
and, only for kinds configured for surprise, a running mean update. A model scorer plugs in through the
same :class:`ImportanceScorer` protocol (issue 4).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from simworld.memory.config import ImportanceConfig, PersonaLike, persona_memory_role

_MAX = 10.0


class ImportanceScorer(Protocol):
    """Scores observations at intake and memories a brain writes.

    ``constant(kind, own)`` is the importance that every observation of ``kind`` has (by the agent
    itself when ``own``), or None when it depends on the event; the stream then caches it and skips the
    call for such observations. A scorer that cannot tell returns None always.
    """

    def score(self, event: Any) -> float: ...

    def constant(self, kind: str, own: bool) -> float | None: ...

    def score_written(self, kind: str, text: str) -> float: ...


class KindTable:
    """Each kind's base importance and valence (0 neutral, 1 negative, 2 social), worked out once per kind
    and shared by every agent whose memory uses the same :class:`ImportanceConfig`."""

    NEUTRAL, NEGATIVE, SOCIAL = 0, 1, 2

    def __init__(self, cfg: ImportanceConfig) -> None:
        self.cfg = cfg
        self._cache: dict[str, tuple[float, int]] = {}

    def get(self, kind: str) -> tuple[float, int]:
        hit = self._cache.get(kind)
        if hit is None:
            hit = self._cache[kind] = (self._base(kind), self._valence(kind))
        return hit

    def _base(self, kind: str) -> float:
        cfg = self.cfg
        base = cfg.kinds.get(kind)
        if base is not None:
            return base
        best, best_len = None, -1
        for key, value in cfg.kinds.items():
            if key.endswith(".*") and kind.startswith(key[:-1]) and len(key) > best_len:
                best, best_len = value, len(key)
        if best is not None:
            return best
        words = kind.replace("_", ".").split(".")
        return cfg.default + sum(v for k, v in cfg.keywords.items() if k in words)

    def _valence(self, kind: str) -> int:
        low = kind.lower()
        if any(w in low for w in self.cfg.negative):
            return self.NEGATIVE
        if any(w in low for w in self.cfg.social):
            return self.SOCIAL
        return self.NEUTRAL


class RuleImportance:
    """Kind table + keywords in the kind name + persona sensitivity + self involvement + surprise.

    Persona sensitivity: neuroticism amplifies negative kinds (rejections, losses), extraversion social
    ones (messages), openness the surprise bonus; ``roles.memory.sensitivity`` scales everything.
    """

    __slots__ = ("_base", "_factor", "_open", "_scale", "_stats", "_surprise", "cfg", "owner", "table")

    def __init__(self, cfg: ImportanceConfig, persona: PersonaLike | None = None, owner: str | None = None,
                 table: KindTable | None = None) -> None:
        self.cfg = cfg
        self.owner = owner if owner is not None else (persona.id if persona is not None else None)
        self.table = table if table is not None and table.cfg is cfg else KindTable(cfg)
        b5 = persona.big_five if persona is not None else None
        neuro = b5.neuroticism if b5 is not None else 0.5
        extra = b5.extraversion if b5 is not None else 0.5
        openness = b5.openness if b5 is not None else 0.5
        self._factor = (1.0, 0.5 + neuro, 0.5 + extra)  # by valence
        self._open = 0.5 + openness
        self._scale = persona_memory_role(persona).sensitivity
        self._base: dict[str, float] = {}
        self._surprise = dict(cfg.surprise)
        self._stats: dict[str, list[float]] = {}  # kind -> [count, mean, m2] of the surprise field

    def score(self, event: Any) -> float:
        kind = event.kind
        imp = self._base.get(kind)
        if imp is None:
            imp = self._learn(kind)
        if event.agent == self.owner and event.agent is not None:
            imp += self.cfg.self_bonus
        if self._surprise and kind in self._surprise:
            imp += self._surprised(kind, event.data.get(self._surprise[kind]))
        return min(_MAX, imp)

    def score_written(self, kind: str, text: str) -> float:
        return float(self.cfg.written.get(kind, self.cfg.default))

    def constant(self, kind: str, own: bool) -> float | None:
        if kind in self._surprise:
            return None
        imp = self.base(kind) + (self.cfg.self_bonus if own else 0.0)
        return min(_MAX, imp)

    def base(self, kind: str) -> float:
        """The per-kind part (cached): what a routine observation of ``kind`` by someone else scores."""
        imp = self._base.get(kind)
        return imp if imp is not None else self._learn(kind)

    # -- internals ----------------------------------------------------------------------------
    def _learn(self, kind: str) -> float:
        base, valence = self.table.get(kind)
        imp = round(min(_MAX, max(0.0, base * self._factor[valence] * self._scale)), 6)
        self._base[kind] = imp
        return imp

    def _surprised(self, kind: str, x: Any) -> float:
        """Bonus for a value far from the running mean of earlier values of this kind (Welford)."""
        if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x):
            return 0.0
        st = self._stats.get(kind)
        if st is None:
            self._stats[kind] = [1.0, float(x), 0.0]
            return 0.0
        n, mean, m2 = st
        bonus = 0.0
        if n >= 2:
            sd = math.sqrt(m2 / (n - 1))
            if sd > 0:
                z = min(self.cfg.surprise_cap, abs(x - mean) / sd)
                bonus = round(self.cfg.surprise_weight * self._open * z, 6)
        n += 1.0
        delta = x - mean
        mean += delta / n
        st[0], st[1], st[2] = n, mean, m2 + delta * (x - mean)
        return bonus
