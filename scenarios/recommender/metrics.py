"""Recommender metrics per arm, computed from the run log alone, and the A/B significance test."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simworld.runlog import RunLog


class _Arm:
    __slots__ = (
        "genre_counts",
        "ild",
        "items_shown",
        "items_watched",
        "pages",
        "ratings",
        "reasons",
        "sessions",
        "shown",
        "user_shown",
        "user_watched",
        "watched",
    )

    def __init__(self, n_genres: int) -> None:
        self.sessions = self.pages = self.shown = self.watched = 0
        self.ratings: list[int] = []
        self.reasons: dict[str, int] = {}
        self.items_shown: set[str] = set()
        self.items_watched: set[str] = set()
        self.ild: list[float] = []
        self.user_shown: dict[str, int] = {}
        self.user_watched: dict[str, int] = {}
        self.genre_counts = np.zeros(n_genres)


def _intra_list_diversity(masks: list[int]) -> float | None:
    """1 - mean pairwise Jaccard similarity of the items' genre sets (as bit masks)."""
    sims = []
    for a in range(len(masks)):
        for b in range(a + 1, len(masks)):
            union = (masks[a] | masks[b]).bit_count()
            sims.append((masks[a] & masks[b]).bit_count() / union if union else 1.0)
    return 1.0 - sum(sims) / len(sims) if sims else None


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def recommender_metrics(log: RunLog, alpha: float = 0.05) -> dict[str, Any]:
    arms: dict[str, _Arm] = {}
    genres: dict[str, list[str]] = {}
    masks: dict[str, int] = {}
    genre_names: list[str] = []
    n_items = 0
    session_user: dict[str, str] = {}
    positions: dict[str, int] = {}
    for e in log.iter_raw():
        kind = e["kind"]
        if not kind.startswith("recsys."):
            continue
        d = e["data"]
        if kind == "recsys.catalogue":
            n_items = len(d["ids"])
            genre_names = sorted({g for gs in d["genres"] for g in gs})
            bit = {g: 1 << j for j, g in enumerate(genre_names)}
            positions = {g: j for j, g in enumerate(genre_names)}
            genres = {i: gs for i, gs in zip(d["ids"], d["genres"])}
            masks = {i: sum(bit[g] for g in gs) for i, gs in zip(d["ids"], d["genres"])}
            continue
        arm = arms.get(d["arm"])
        if arm is None:
            arm = arms[d["arm"]] = _Arm(len(genre_names))
        if kind == "recsys.session_started":
            arm.sessions += 1
            session_user[d["session"]] = d["user"]
        elif kind == "recsys.page_shown":
            arm.pages += 1
            arm.shown += len(d["items"])
            arm.items_shown.update(d["items"])
            user = session_user[d["session"]]
            arm.user_shown[user] = arm.user_shown.get(user, 0) + len(d["items"])
            ild = _intra_list_diversity([masks.get(i, 0) for i in d["items"]])
            if ild is not None:
                arm.ild.append(ild)
        elif kind == "recsys.watched":
            arm.watched += 1
            arm.items_watched.add(d["item"])
            user = session_user[d["session"]]
            arm.user_watched[user] = arm.user_watched.get(user, 0) + 1
            for g in genres.get(d["item"], ()):
                arm.genre_counts[positions[g]] += 1
        elif kind == "recsys.rated":
            arm.ratings.append(int(d["rating"]))
        elif kind == "recsys.session_ended":
            arm.reasons[d["reason"]] = arm.reasons.get(d["reason"], 0) + 1
    per_arm = {name: _summary(a, n_items) for name, a in arms.items()}
    # headline figures by arm first (flat, so the run summary shows them), then everything per arm
    out: dict[str, Any] = {key: {name: m[key] for name, m in per_arm.items()} for key in _HEADLINE}
    out.update({"arms": per_arm, "n_items": n_items})
    if len(arms) > 1:
        out["ab"] = _ab_tests(arms, alpha)
        out["ab_p_value"] = {name: test["p_value"] for name, test in out["ab"].items()}
    return out


_HEADLINE = ("watch_through", "average_rating", "pages_per_session", "coverage_shown")


def _summary(a: _Arm, n_items: int) -> dict[str, Any]:
    p = a.genre_counts / a.genre_counts.sum() if a.genre_counts.sum() else a.genre_counts
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum() / math.log(len(p))) if len(p) > 1 and len(nz) else None
    return {
        "sessions": a.sessions,
        "pages": a.pages,
        "pages_per_session": a.pages / a.sessions if a.sessions else None,
        "impressions": a.shown,
        "watched": a.watched,
        "watch_through": a.watched / a.shown if a.shown else None,
        "watched_per_session": a.watched / a.sessions if a.sessions else None,
        "average_rating": _mean([float(r) for r in a.ratings]),
        "ratings": a.ratings.__len__(),
        "exit_reasons": dict(sorted(a.reasons.items())),
        "coverage_shown": len(a.items_shown) / n_items if n_items else None,
        "coverage_watched": len(a.items_watched) / n_items if n_items else None,
        "intra_list_diversity": _mean(a.ild),
        "watched_genre_entropy": entropy,
    }


def _ab_tests(arms: dict[str, _Arm], alpha: float) -> dict[str, Any]:
    """Each arm against the first (the control): a paired t-test of per-user watch-through over the
    users seen in both arms (the same users and seeds in every arm), and Wilcoxon's signed-rank test."""
    from scipy import stats

    names = list(arms)
    control = arms[names[0]]
    tests = {}
    for name in names[1:]:
        arm = arms[name]
        users = sorted(u for u in control.user_shown if u in arm.user_shown)
        a = np.asarray([control.user_watched.get(u, 0) / control.user_shown[u] for u in users])
        b = np.asarray([arm.user_watched.get(u, 0) / arm.user_shown[u] for u in users])
        diff = b - a
        if len(users) < 2 or not np.any(diff):
            t_p, w_p = 1.0, 1.0
            t_stat = 0.0
        else:
            t = stats.ttest_rel(b, a)
            t_stat, t_p = float(t.statistic), float(t.pvalue)
            w_p = float(stats.wilcoxon(b, a).pvalue)
        se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else float("nan")
        tests[f"{name}_vs_{names[0]}"] = {
            "metric": "per-user watch-through", "users": len(users),
            "control_mean": float(a.mean()) if len(a) else None, "treatment_mean": float(b.mean()) if len(b) else None,
            "difference": float(diff.mean()) if len(diff) else None,
            "ci95": [float(diff.mean() - 1.96 * se), float(diff.mean() + 1.96 * se)] if len(diff) > 1 else None,
            "t": t_stat, "p_value": t_p, "wilcoxon_p_value": w_p, "alpha": alpha, "significant": bool(t_p < alpha),
        }
    return tests
