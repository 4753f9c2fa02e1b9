"""Summary statistics every scenario's metrics and the analysis package share: means, intervals, paired
tests. One rounding rule: none (metrics keep full precision; displays round).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


def _values(xs: Iterable[float | int | None]) -> np.ndarray:
    return np.asarray([float(x) for x in xs if x is not None], dtype=float)


def mean(xs: Iterable[float | int | None]) -> float | None:
    """The mean of the values that are not None; None when there are none."""
    v = _values(xs)
    return float(v.mean()) if len(v) else None


def sd(xs: Iterable[float | int | None]) -> float | None:
    """The sample standard deviation (n - 1); None below two values."""
    v = _values(xs)
    return float(v.std(ddof=1)) if len(v) > 1 else None


def se(xs: Iterable[float | int | None]) -> float | None:
    """The standard error of the mean; None below two values."""
    v = _values(xs)
    return float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def mean_ci(xs: Iterable[float | int | None], level: float = 0.95) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean; None below two values."""
    from scipy import stats

    v = _values(xs)
    if len(v) < 2:
        return None
    m, s = float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))
    if s == 0.0:
        return (m, m)
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1)) * s
    return (m - half, m + half)


def bootstrap_ci(
    xs: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] | None = None,
    level: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``statistic`` (default: the mean), with a seeded generator so the
    same data give the same interval. ``xs`` may be 2-D: rows are resampled together."""
    data = np.asarray(xs, dtype=float)
    if len(data) < 2:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(data), size=(n_resamples, len(data)))
    if statistic is None:
        stats_ = data[idx].mean(axis=1) if data.ndim == 1 else np.asarray([data[i].mean() for i in idx])
    else:
        stats_ = np.asarray([statistic(data[i]) for i in idx], dtype=float)
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(stats_, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


@dataclass(frozen=True)
class PairedTest:
    """``treatment - control`` over paired observations: the mean difference, its 95% CI, the paired
    t-test and Wilcoxon's signed-rank test."""

    n: int
    control_mean: float | None
    treatment_mean: float | None
    difference: float | None
    ci95: tuple[float, float] | None
    t: float
    p_value: float
    wilcoxon_p_value: float

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ci95"] = list(self.ci95) if self.ci95 is not None else None
        return out


def paired_test(control: Sequence[float] | np.ndarray, treatment: Sequence[float] | np.ndarray) -> PairedTest:
    """Paired comparison; with fewer than two pairs or no difference at all, p-values are 1."""
    from scipy import stats

    a = np.asarray(control, dtype=float)
    b = np.asarray(treatment, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    diff = b - a
    n = len(diff)
    if n < 2 or not np.any(diff):
        t_stat, t_p, w_p = 0.0, 1.0, 1.0
    else:
        t = stats.ttest_rel(b, a)
        t_stat, t_p = float(t.statistic), float(t.pvalue)
        w_p = float(stats.wilcoxon(b, a).pvalue)
    return PairedTest(
        n=n,
        control_mean=float(a.mean()) if n else None,
        treatment_mean=float(b.mean()) if n else None,
        difference=float(diff.mean()) if n else None,
        ci95=mean_ci(diff.tolist()),
        t=t_stat,
        p_value=t_p,
        wilcoxon_p_value=w_p,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# -- predictions against the truth, and distances between samples ------------------------------------
def classification(truth: Sequence[bool] | np.ndarray, predicted: Sequence[bool] | np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of yes/no predictions against the true labels, and ``n``
    (precision, recall and F1 are 0 where undefined)."""
    t, p = np.asarray(truth, bool), np.asarray(predicted, bool)
    tp = float(np.sum(t & p))
    fp = float(np.sum(~t & p))
    fn = float(np.sum(t & ~p))
    n = len(t)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float(np.sum(t == p)) / n if n else 0.0
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1, "n": n}


def prediction_errors(actual: Sequence[float] | np.ndarray, predicted: Sequence[float] | np.ndarray
                      ) -> dict[str, float]:
    """Root mean squared and mean absolute error (NaN without values)."""
    diff = np.asarray(predicted, float) - np.asarray(actual, float)
    if not len(diff):
        return {"rmse": math.nan, "mae": math.nan}
    return {"rmse": float(np.sqrt(np.mean(diff**2))), "mae": float(np.mean(np.abs(diff)))}


def js_distance(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two histograms on the same bins (counts or
    shares; each is normalised)."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(np.asarray(p, float), np.asarray(q, float), base=2))


def distribution_distances(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                           bins: int | np.ndarray = 20) -> dict[str, float]:
    """How far apart two samples lie: the Jensen-Shannon distance of their histograms on shared bins
    (``bins`` edges, or that many equal bins over both samples' range) and the Wasserstein-1 distance
    of the samples. NaN when either is empty."""
    from scipy.stats import wasserstein_distance

    x, y = np.asarray(a, float), np.asarray(b, float)
    if not len(x) or not len(y):
        return {"js_distance": math.nan, "wasserstein": math.nan}
    if isinstance(bins, int):
        lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    hx, _ = np.histogram(x, bins)
    hy, _ = np.histogram(y, bins)
    return {"js_distance": js_distance(hx, hy), "wasserstein": float(wasserstein_distance(x, y))}
