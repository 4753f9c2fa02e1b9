"""How right agents' beliefs are: every ``belief.updated`` of a run against the truth the log holds.

One function serves every scenario: the scenario (or the analysis) says where the truth of a belief is,
and :func:`score_beliefs` reports, per belief key, how many were scored, the mean absolute error of the
numeric ones and the accuracy of the categorical ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simworld.stats import mean


@dataclass(frozen=True, slots=True)
class BeliefRecord:
    """One logged belief update."""

    seq: int
    t: float
    owner: str
    about: str
    key: str
    value: Any
    confidence: float
    item: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> BeliefRecord:
        d = event["data"]
        return cls(int(event["seq"]), float(event["t"]), str(event["agent"]), str(d["about"]), str(d["key"]),
                   d.get("value"), float(d.get("confidence", 0.0)), d.get("item"))


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def latest(records: Iterable[BeliefRecord], by_item: bool = True) -> list[BeliefRecord]:
    """The last record per (owner, about, key[, item]), in the order of their last update."""
    last: dict[tuple[str, str, str, str | None], BeliefRecord] = {}
    for r in records:
        k = (r.owner, r.about, r.key, r.item if by_item else None)
        last.pop(k, None)
        last[k] = r
    return list(last.values())


def score_beliefs(
    records: Iterable[BeliefRecord],
    truth: Callable[[BeliefRecord], Any],
) -> dict[str, dict[str, Any]]:
    """Per belief key: ``n`` scored, ``mae`` over numeric beliefs with a numeric truth, ``accuracy`` over
    the others (equal to the truth). ``truth(record)`` returns the true value, or None when unknown
    (the belief is then not scored)."""
    errors: dict[str, list[float]] = defaultdict(list)
    hits: dict[str, list[float]] = defaultdict(list)
    for r in records:
        true = truth(r)
        if true is None:
            continue
        if is_number(true) and is_number(r.value):
            errors[r.key].append(abs(float(r.value) - float(true)))
        else:
            hits[r.key].append(float(r.value == true))
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(set(errors) | set(hits)):
        out[key] = {"n": len(errors[key]) + len(hits[key]), "mae": mean(errors[key]), "accuracy": mean(hits[key])}
    return out
