"""Recommender metrics per arm, computed from the run log alone, and the A/B significance test."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from simworld.scenarios.recommender.events import (
    CatalogueTable,
    PageShown,
    Rated,
    SessionEnded,
    SessionStarted,
    Watched,
)

from simworld import stats
from simworld.runlog import RunLog

_PREFIX = "recommender."
_CATALOGUE, _STARTED, _SHOWN, _WATCHED, _RATED, _ENDED = (
    m.kind for m in (CatalogueTable, SessionStarted, PageShown, Watched, Rated, SessionEnded))
_LEGACY = "recsys."  # what the kinds were called before they took the scenario's name: older runs still read


class _Arm:
    """Running counts of one arm while the log is read."""

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


def recommender_metrics(log: RunLog, alpha: float = 0.05) -> dict[str, Any]:
    """Per-arm figures (flat headline figures first), and with several arms the paired test of each
    against the first."""
    arms: dict[str, _Arm] = {}
    genres: dict[str, list[str]] = {}
    masks: dict[str, int] = {}
    genre_names: list[str] = []
    n_items = 0
    session_user: dict[str, str] = {}
    positions: dict[str, int] = {}
    for e in log.iter_raw():
        kind = e["kind"]
        if not kind.startswith(_PREFIX):
            if not kind.startswith(_LEGACY):
                continue
            kind = _PREFIX + kind[len(_LEGACY):]
        d = e["data"]
        if kind == _CATALOGUE:
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
        if kind == _STARTED:
            arm.sessions += 1
            session_user[d["session"]] = d["user"]
        elif kind == _SHOWN:
            arm.pages += 1
            arm.shown += len(d["items"])
            arm.items_shown.update(d["items"])
            user = session_user[d["session"]]
            arm.user_shown[user] = arm.user_shown.get(user, 0) + len(d["items"])
            ild = _intra_list_diversity([masks.get(i, 0) for i in d["items"]])
            if ild is not None:
                arm.ild.append(ild)
        elif kind == _WATCHED:
            arm.watched += 1
            arm.items_watched.add(d["item"])
            user = session_user[d["session"]]
            arm.user_watched[user] = arm.user_watched.get(user, 0) + 1
            for g in genres.get(d["item"], ()):
                arm.genre_counts[positions[g]] += 1
        elif kind == _RATED:
            arm.ratings.append(int(d["rating"]))
        elif kind == _ENDED:
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
        "pages_per_session": stats.share(a.pages, a.sessions),
        "impressions": a.shown,
        "watched": a.watched,
        "watch_through": stats.share(a.watched, a.shown),
        "watched_per_session": stats.share(a.watched, a.sessions),
        "average_rating": stats.mean(a.ratings),
        "ratings": len(a.ratings),
        "exit_reasons": dict(sorted(a.reasons.items())),
        "coverage_shown": stats.share(len(a.items_shown), n_items),
        "coverage_watched": stats.share(len(a.items_watched), n_items),
        "intra_list_diversity": stats.mean(a.ild),
        "watched_genre_entropy": entropy,
    }


def _ab_tests(arms: dict[str, _Arm], alpha: float) -> dict[str, dict[str, Any]]:
    """Each arm against the first (the control): a paired t-test of per-user watch-through over the
    users seen in both arms (the same users and seeds in every arm), and Wilcoxon's signed-rank test."""
    names = list(arms)
    control = arms[names[0]]
    tests = {}
    for name in names[1:]:
        arm = arms[name]
        users = sorted(u for u in control.user_shown if u in arm.user_shown)
        a = [control.user_watched.get(u, 0) / control.user_shown[u] for u in users]
        b = [arm.user_watched.get(u, 0) / arm.user_shown[u] for u in users]
        test = stats.paired_test(a, b).as_dict()
        test["users"] = test.pop("n")
        tests[f"{name}_vs_{names[0]}"] = {
            "metric": "per-user watch-through", **test, "alpha": alpha, "significant": bool(test["p_value"] < alpha),
        }
    return tests
