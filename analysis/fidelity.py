"""User-simulation fidelity (Agent4Rec's protocol): taste discrimination, rating error, and distances
between the simulated and real distributions of ratings and of activity, diversity and conformity.

The metrics are plain functions of arrays; :func:`fidelity` runs the whole protocol on a MovieLens folder
(the viewers and their decisions come from the recommender scenario, imported when called).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from simworld.errors import BadInput

DEFAULT_RATIOS = (1, 2, 3, 9)


def classification(truth: np.ndarray, chosen: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of watch decisions against held-out (positive) labels."""
    truth, chosen = np.asarray(truth, bool), np.asarray(chosen, bool)
    tp = float(np.sum(truth & chosen))
    fp = float(np.sum(~truth & chosen))
    fn = float(np.sum(truth & ~chosen))
    n = len(truth)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float(np.sum(truth == chosen)) / n if n else 0.0
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1, "n": n}


def rating_errors(real: np.ndarray, simulated: np.ndarray) -> dict[str, float]:
    diff = np.asarray(simulated, float) - np.asarray(real, float)
    if not len(diff):
        return {"rmse": math.nan, "mae": math.nan}
    return {"rmse": float(np.sqrt(np.mean(diff**2))), "mae": float(np.mean(np.abs(diff)))}


def distances(real: np.ndarray, simulated: np.ndarray, bins: int | np.ndarray = 20) -> dict[str, float]:
    """Jensen-Shannon distance (base 2, in [0, 1]) between histograms on shared bins, and the
    Wasserstein-1 distance between the samples."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    real, simulated = np.asarray(real, float), np.asarray(simulated, float)
    if not len(real) or not len(simulated):
        return {"js_distance": math.nan, "wasserstein": math.nan}
    if isinstance(bins, int):
        lo, hi = min(real.min(), simulated.min()), max(real.max(), simulated.max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    p, _ = np.histogram(real, bins)
    q, _ = np.histogram(simulated, bins)
    return {"js_distance": float(jensenshannon(p, q, base=2)), "wasserstein": float(wasserstein_distance(real, simulated))}


def trait_samples(chosen: list[np.ndarray], candidates: list[np.ndarray], ratings: list[np.ndarray],
                  rated_items: list[np.ndarray], genres: np.ndarray, item_mean: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user Agent4Rec traits on the protocol: activity (items watched among the candidates; for the
    real user, its held-out items), diversity (share of genres among the watched) and conformity (mean
    squared gap of ratings to the item's average)."""
    act, div, conf = [], [], []
    n_genres = genres.shape[1] - 1
    for w, c, r, items in zip(chosen, candidates, ratings, rated_items):
        if not len(c):
            continue
        act.append(float(w.sum()))
        watched = c[w]
        div.append(float(genres[watched][:, 1:].any(axis=0).sum()) / n_genres if len(watched) else 0.0)
        conf.append(float(np.mean((r - item_mean[items]) ** 2)) if len(r) else 0.0)
    return {"activity": np.asarray(act), "diversity": np.asarray(div), "conformity": np.asarray(conf)}


def parse_ratios(text: str | list[int] | tuple[int, ...]) -> list[int]:
    """``"1,2,3,9"`` -> [1, 2, 3, 9]; each a positive integer."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for p in parts:
        try:
            m = int(str(p).strip())
        except ValueError:
            raise BadInput("--ratios", f"expected positive integers separated by commas, got {text!r}") from None
        if m < 1:
            raise BadInput("--ratios", f"each ratio must be at least 1, got {m}")
        out.append(m)
    if not out:
        raise BadInput("--ratios", "name at least one ratio")
    return out


def fidelity(path: str | os.PathLike[str], ratios: str | list[int] | tuple[int, ...] = DEFAULT_RATIOS, seed: int = 0,
             holdout: float = 0.2, rank: int = 16, max_users: int | None = None, brains: Any = None) -> dict[str, Any]:
    """Run Agent4Rec's protocol on a MovieLens-100k/-1M folder and return every fidelity figure.

    ``brains`` is a :class:`simworld.agents.brain_config.BrainSettings` (rule brains by default)."""
    from simworld.scenarios.recommender.movielens import load_movielens
    from simworld.scenarios.recommender.protocol import run_protocol

    ms = parse_ratios(ratios)
    if not 0.0 < holdout < 1.0:
        raise BadInput("--holdout", f"must be between 0 and 1, got {holdout}")
    cat, ratings = load_movielens(path)
    if max_users is not None:
        ratings = ratings.subset(ratings.users < max_users)
        ratings.user_ids = ratings.user_ids[:max_users]
    if not len(ratings):
        raise BadInput(str(path), "holds no ratings")
    out = run_protocol(cat, ratings, ms, seed, holdout, rank, brains)
    per_ratio = {str(m): {**classification(*out.labels[m]), "chance_precision": 1.0 / (m + 1)} for m in ms}
    real = np.concatenate(out.real_ratings) if out.real_ratings else np.zeros(0)
    sim = np.concatenate(out.sim_ratings) if out.sim_ratings else np.zeros(0)
    levels = np.arange(0.5, 6.0, 1.0)
    m0 = ms[0]
    truth_chosen = [np.isin(c, p) for c, p in zip(out.candidates[m0], out.positives)]
    real_traits = trait_samples(truth_chosen, out.candidates[m0], out.real_ratings, out.positives, cat.genres, out.item_mean)
    sim_traits = trait_samples(out.chosen[m0], out.candidates[m0], out.sim_ratings, out.positives, cat.genres, out.item_mean)
    hist = lambda x: np.histogram(x, levels)[0].tolist()
    return {
        "users": len(ratings.user_ids), "items": len(cat), "ratings": len(ratings), "seed": seed, "holdout": holdout,
        "brain": getattr(brains, "brain", "rule"),
        "discrimination": per_ratio,
        **rating_errors(real, sim),
        "rating_distribution": {"real": hist(real), "simulated": hist(sim), **distances(real, sim, levels)},
        "traits": {"ratio": m0, **{k: distances(real_traits[k], sim_traits[k]) for k in ("activity", "diversity", "conformity")}},
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    lines = [f"{report['users']} users, {report['items']} items, {report['ratings']} ratings (seed {report['seed']})",
             f"{'ratio':>5} {'accuracy':>9} {'precision':>9} {'recall':>7} {'f1':>6}"]
    for m, r in report["discrimination"].items():
        lines.append(f"{'1:' + m:>5} {r['accuracy']:9.3f} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f}")
    lines.append(f"rating RMSE {report['rmse']:.3f}  MAE {report['mae']:.3f}")
    d = report["rating_distribution"]
    lines.append(f"rating distribution: JS {d['js_distance']:.3f}  Wasserstein {d['wasserstein']:.3f}")
    for k in ("activity", "diversity", "conformity"):
        t = report["traits"][k]
        lines.append(f"{k}: JS {t['js_distance']:.3f}  Wasserstein {t['wasserstein']:.3f}")
    return "\n".join(lines)
