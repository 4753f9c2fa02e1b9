"""Persona effects from a sweep's results.csv, each with a 95% bootstrap CI (Principled Personas, "Helpful
assistant or fruitful facilitator"):

- :func:`expertise_advantage`: expert persona minus the baseline (no persona), paired run by run;
- :func:`robustness`: the worst-case drop from the baseline over irrelevant attributes (a name, a
  favourite colour): 0 or below means no attribute hurt;
- :func:`fidelity`: Kendall's tau between an ordered attribute (education level, expertise) and the metric,
  within each matched context, averaged;
- :func:`paraphrase_variance`: the variance of the metric's mean across control paraphrases ("a helpful
  assistant" and its rewordings): what wording alone moves.

Runs are paired on everything but the attribute compared: the seed and every other swept key (so an
arm of another format is never compared with this one). Only completed (or stopped) runs count. The
intervals resample those pairs (seeded: the same table gives the same intervals).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simworld import stats
from simworld.errors import BadInput

FIXED = ("run_id", "arm", "seed", "status", "error")
FINISHED = ("completed", "stopped")


@dataclass(frozen=True)
class Effect:
    """An estimate, its 95% bootstrap interval (None below two pairs), how many pairs or runs it rests
    on, and its parts (per attribute, per paraphrase)."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    parts: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n,
                "parts": dict(self.parts)}


@dataclass(frozen=True)
class Results:
    """A sweep's results: the swept keys (columns between ``arm`` and ``seed``) and its finished runs."""

    keys: list[str]
    rows: list[dict[str, Any]]


def load_results(path: str | Path) -> Results:
    """results.csv (or the sweep folder holding it); numbers parsed, unfinished runs left out."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            cols = list(reader.fieldnames or [])
            raw = list(reader)
    except OSError as err:
        raise BadInput(str(path), f"cannot read it: {err.strerror or err}") from None
    if "arm" not in cols or "seed" not in cols or "status" not in cols:
        raise BadInput(str(path), "not a sweep's results.csv (no arm, seed and status columns)")
    keys = cols[cols.index("arm") + 1: cols.index("seed")]
    rows = [{k: (v if k in keys or k in FIXED else _number(v)) for k, v in r.items()}
            for r in raw if r.get("status") in FINISHED]
    return Results(keys, rows)


def _number(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else None


def _table(res: Results | Sequence[Mapping[str, Any]], metric: str, key: str, levels: Sequence[str]
           ) -> np.ndarray:
    """One row per matched context (seed and the other swept keys), one column per level: the metric.
    Contexts missing any level are left out."""
    keys, rows = (res.keys, res.rows) if isinstance(res, Results) else (None, list(res))
    if keys is None:
        keys = [k for k in (rows[0] if rows else {}) if k not in FIXED and k != metric]
    if key not in keys:
        raise BadInput("personas", f"{key!r} is not a swept key (swept: {', '.join(keys)})")
    others = [k for k in keys if k != key]
    cells: dict[tuple[Any, ...], dict[str, float]] = {}
    for row in rows:
        value = row.get(metric)
        if row.get("status", "completed") not in FINISHED or not isinstance(value, (int, float)):
            continue
        context = (row.get("seed"), *(row.get(k) for k in others))
        cells.setdefault(context, {})[str(row[key])] = float(value)
    missing = [lv for lv in levels if not any(lv in c for c in cells.values())]
    if missing:
        raise BadInput("personas", f"no finished run has {key}={missing[0]} with a value of {metric!r}")
    full = [[c[lv] for lv in levels] for _, c in sorted(cells.items(), key=lambda kv: str(kv[0]))
            if all(lv in c for lv in levels)]
    return np.asarray(full, dtype=float).reshape(len(full), len(levels))


def _effect(data: np.ndarray, statistic: Callable[[np.ndarray], float], seed: int,
            parts: dict[str, float] | None = None) -> Effect:
    if len(data) == 0:
        return Effect(None, None, None, 0, parts or {})
    value = statistic(data)
    ci = stats.bootstrap_ci(data, statistic=statistic, seed=seed) if len(data) >= 2 else None
    ok = value is not None and math.isfinite(value)
    return Effect(value if ok else None, ci[0] if ci else None, ci[1] if ci else None, len(data), parts or {})


def expertise_advantage(res: Results | Sequence[Mapping[str, Any]], metric: str, key: str, expert: str,
                        baseline: str = "none", seed: int = 0) -> Effect:
    """Mean of (expert - baseline) over matched runs, e.g. ``key="persona.occupation", expert=
    "mathematician", baseline="none"``."""
    data = _table(res, metric, key, [baseline, expert])
    return _effect(data, lambda d: float(np.mean(d[:, 1] - d[:, 0])), seed)


def robustness(res: Results | Sequence[Mapping[str, Any]], metric: str, key: str, irrelevant: Sequence[str],
               baseline: str = "none", higher_is_better: bool = True, seed: int = 0) -> Effect:
    """The worst-case drop: max over the irrelevant attributes of mean(baseline - attribute) (the sign
    flipped when lower is better). ``parts``: each attribute's mean drop."""
    if not irrelevant:
        raise BadInput("personas", "robustness needs at least one irrelevant attribute")
    sign = 1.0 if higher_is_better else -1.0
    data = _table(res, metric, key, [baseline, *irrelevant])

    def worst(d: np.ndarray) -> float:
        return float(np.max(sign * (d[:, :1] - d[:, 1:]).mean(axis=0)))

    drops = sign * (data[:, :1] - data[:, 1:]).mean(axis=0) if len(data) else np.zeros(len(irrelevant))
    return _effect(data, worst, seed, {lv: float(x) for lv, x in zip(irrelevant, drops)})


def fidelity(res: Results | Sequence[Mapping[str, Any]], metric: str, key: str, order: Sequence[str],
             seed: int = 0) -> Effect:
    """Kendall's tau (tau-b) between the attribute's rank in ``order`` (lowest first) and the metric,
    within each matched context (a seed and the other swept keys), averaged over the contexts: 1 when
    every context orders the metric as the attribute. A context whose metric does not vary counts as 0
    (no order). ``parts``: the metric's mean at each level."""
    from scipy.stats import kendalltau

    if len(order) < 2:
        raise BadInput("personas", "fidelity needs at least two ordered levels")
    data = _table(res, metric, key, list(order))
    ranks = np.arange(len(order), dtype=float)

    def tau(values: np.ndarray) -> float:
        if len(np.unique(values)) < 2:
            return 0.0
        return float(kendalltau(ranks, values).statistic)

    taus = np.asarray([tau(row) for row in data], dtype=float)
    means = data.mean(axis=0) if len(data) else np.zeros(len(order))
    return _effect(taus, lambda t: float(np.mean(t)), seed, {lv: float(m) for lv, m in zip(order, means)})


def paraphrase_variance(res: Results | Sequence[Mapping[str, Any]], metric: str, key: str,
                        paraphrases: Sequence[str], seed: int = 0) -> Effect:
    """The sample variance (n - 1) of the per-paraphrase means, over matched runs; ``parts``: each
    paraphrase's mean."""
    if len(paraphrases) < 2:
        raise BadInput("personas", "paraphrase variance needs at least two paraphrases")
    data = _table(res, metric, key, list(paraphrases))
    means = data.mean(axis=0) if len(data) else np.zeros(len(paraphrases))
    return _effect(data, lambda d: float(np.var(d.mean(axis=0), ddof=1)), seed,
                   {p: float(m) for p, m in zip(paraphrases, means)})
