"""How the fitted viewers' fixed settings (:class:`~simworld.scenarios.recommender.fitting.ViewerSettings`)
are chosen: by validation inside the training ratings only, never on held-out ratings.

The procedure (``python -m simworld.scenarios.recommender.selection DIR [DIR ...] [--generate DIR]``):

1. Each data set is split as ``simworld fidelity`` splits it (each user's latest ``holdout`` share held
   out, by time). The held-out part is dropped at once: no figure is computed on it.
2. The training part is split again the same way: each user's latest ``holdout`` share of its *training*
   ratings is the selection part, the rest the fitting part. (The models' own inner split, on which the
   logistic weights, the watch rate, the drift and the cut points are learned, lies one level further
   down, inside the fitting part.)
3. Each candidate is fitted on the fitting part and asked the protocol's questions about the selection
   part: its selection items mixed with m items the user has not rated in the training part (m = 1 and 9),
   watch or not (the viewer's ``count`` best-scored); and stars for its selection items.
4. Watch settings: a grid over EASE's strength x the recency windows x the SVD rank, then RP3beta's beta x
   the logistic L2 around the best, then the "next" feature's span (0: off, 5, 20), then the "late"
   feature's shrinkage (0: off, 2, 10, 50), then "quality" and "liking" (off, on); the objective is
   accuracy at 1:1 plus F1 at 1:9. Rating settings: a grid over the taste rank x the ALS strength x the
   bias shrinkage; the objective is the RMSE of the rating model's expectation, among the candidates
   whose stars' histogram is within the goal (JS <= 0.05) on every data set; then, the same way, the
   strength of the implicit taste (0: off, 30, 100, 300). Each objective is averaged over the data sets
   given, so one set of defaults serves every data set. The search starts from ``START`` (the middle of every grid), not from
   ``DEFAULTS``.

``--generate DIR`` writes a synthetic data set in the MovieLens-1M format (1,500 viewers with known
tastes, 1,000 items, 111,841 ratings) and includes it. The chosen settings are printed (and with
``--json`` every candidate's figures); ``DEFAULTS`` in fitting.py holds them.

**The recorded choice** (``selection ml-100k --generate DIR --seed 0``, about 8-10 minutes on 2 cores): EASE
strength 10,000, SVD rank 16, recency windows 10/30/100, RP3beta beta 0.7, logistic L2 10, "next" over 20
ratings, "late" with shrinkage 2, "quality" and "liking" on; rating rank 16, ALS strength 10, bias
shrinkage 2, implicit taste strength 30. Selection-split figures: ML-100k accuracy 0.830 at 1:1 and F1
0.536 at 1:9 (0.829 and 0.534 without "quality" and "liking", 0.827 and 0.525 without "late" too), the rating model's RMSE 0.944 (0.946 without the implicit taste), its stars' RMSE 1.110
and JS 0.023; the generated set 0.831, 0.566 (0.831, 0.568 without "quality" and "liking"), model RMSE 0.633 (0.651 without), stars 0.748, JS 0.016
(its times are random, so "next" and "late" carry nothing there; its viewers rate what their tastes
chose, so which items they rated says much). Grid edges: a
first grid (EASE 100-3,000, ranks 8-32, rating ranks 2-8) chose its upper edges, so it was widened to the
grids below; EASE 30,000 and 100,000 at the chosen rank and windows score 1.3729 and 1.3725 against 1.3725
for 10,000 (a plateau: large strengths make EASE a co-occurrence score); "next", "late" and the implicit
taste were added after the grids (span 20 is the edge of its grid; wider spans were not tried; implicit
strength 100 is ML-100k's best alone, 0.9439 against 0.9442 for 30, and 30 the best averaged with the
generated set; strengths below 30 were not tried on the grid, 10 scored 0.9470 on ML-100k alone). Rating rank 16 is the
grid's edge, chosen by the generated set (objective 0.7986 against 0.7990 for rank 8; on ML-100k alone rank
8 scores 0.9450 against 0.9460). The objective differences among the best candidates (about 0.002 for
watching, 0.0004 for rating) are within the selection split's noise: the choice matters little, what
matters is that it was made without the held-out ratings. Tried on the selection split and not kept
(no gain above that noise): a time-local popularity feature (items rated in the weeks before the user's
latest rating; +0.0005 accuracy at 1:1; other users' ratings within 1-30 days either side of the user's
latest one, or up to 14 days after it: -0.0007 to +0.0006 in the objective), the items' release years (+0.0002), the genre affinity of an item
to the user's recency-weighted genres (+0.001), a user-kNN score (20-200 neighbours by the whole or the
recency-weighted history: -0.0007 to +0.001), 3 or 9 negatives per positive for the logistic weights
(-0.0003), a gradient-boosted combiner in place of the logistic one (-0.001), for ratings a neighbourhood
model on the residuals stacked onto the rating model (RMSE 0.9448 against 0.9460), a per-user scale on
the item terms (worse: 0.951-0.962) and an item drift term (the shrunk mean residual of an item's latest
20-50% of ratings, its weight learned on the inner split: it came out at or below 0, no gain). "Quality"
and "liking" were added last: their gain (objective +0.0014 averaged; ML-100k +0.0041, the generated set
-0.0012) is within that noise too.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from simworld.scenarios.recommender.catalogue import Ratings, generate_catalogue
from simworld.scenarios.recommender.fitting import (
    CHUNK,
    DEFAULTS,
    ItemModels,
    RatingModel,
    ViewerSettings,
    WatchModel,
    level_counts,
    time_split,
)
from simworld.scenarios.recommender.movielens import load_ratings, write_movielens
from simworld.scenarios.recommender.viewers import synthetic_ratings, synthetic_roles

from simworld.stats import classification, js_distance

#: the candidate settings (the watch grid, then the refinement around its best; the rating grid)
WATCH_GRID = {"ease_lambda": (300.0, 1000.0, 3000.0, 10000.0), "rank": (16, 32, 64),
              "recency": ((5.0, 15.0, 50.0), (10.0, 30.0, 100.0), (20.0, 60.0, 200.0))}
WATCH_REFINE = {"rp3_beta": (0.5, 0.7, 0.9), "l2": (0.1, 1.0, 10.0)}  # l2 innermost: item fits reused
WATCH_SEQUENCE = {"sequence": (0, 5, 20)}  # 0: no "next" feature
WATCH_LATE = {"late": (0.0, 2.0, 10.0, 50.0)}  # 0: no "late" feature
WATCH_EXPLICIT = {"explicit": (False, True)}  # the rating model's "quality" and "liking" as watch scores
RATING_GRID = {"rating_rank": (4, 8, 16), "rating_lambda": (5.0, 10.0, 20.0), "bias_lambda": (2.0, 5.0, 10.0)}
RATING_IMPLICIT = {"implicit": (0.0, 30.0, 100.0, 300.0)}  # 0: no implicit taste
#: where the search starts (the middle of every grid), fixed here so that the result does not depend on DEFAULTS
START = ViewerSettings(ease_lambda=1000.0, rp3_beta=0.7, rank=32, recency=(10.0, 30.0, 100.0), l2=1.0, rating_rank=8,
                       rating_lambda=10.0, bias_lambda=5.0, sequence=0, late=0.0, implicit=0.0,
                       explicit=False)
RATIOS = (1, 9)
JS_GOAL = 0.05  # a rating candidate must keep its stars' histogram this close to the real one on every set


@dataclass
class SelectionSet:
    """One data set's selection split: fit on ``fit``, judge on ``val``; ``rated`` is the training part's
    items per user (the negatives are drawn outside them)."""

    name: str
    n_items: int
    fit: Ratings
    val: Ratings
    rated: list[np.ndarray]

    @classmethod
    def from_ratings(cls, name: str, n_items: int, ratings: Ratings, holdout: float) -> SelectionSet:
        train = ratings.subset(~time_split(ratings, holdout))  # the held-out part is dropped here, unseen
        inner = time_split(train, holdout)
        rated = [np.unique(train.items[rows]) for rows in train.by_user()]
        return cls(name, n_items, train.subset(~inner), train.subset(inner), rated)


def _key(part: Ratings) -> str:
    h = hashlib.sha1(part.users.tobytes())
    h.update(part.items.tobytes())
    return h.hexdigest()


def watch_figures(data: SelectionSet, settings: ViewerSettings, seed: int, holdout: float,
                  item_models: Callable[[Ratings], ItemModels] | None = None) -> dict[str, float]:
    """Accuracy and F1 per ratio of a watch model fitted with ``settings``, on the selection part."""
    watch = WatchModel.fit(data.fit, data.n_items, holdout, seed, settings=settings, item_models=item_models)
    rows = data.val.by_user()
    users = np.flatnonzero([len(r) for r in rows])
    out: dict[str, float] = {}
    for m in RATIOS:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E1, m]))
        truth, chosen = [], []
        for lo in range(0, len(users), CHUNK):
            chunk = users[lo: lo + CHUNK]
            scores = watch.scores(chunk)
            for row, u in enumerate(chunk):
                pos = np.unique(data.val.items[rows[u]])
                pool = np.setdiff1d(np.arange(data.n_items), data.rated[u], assume_unique=True)
                neg = rng.choice(pool, size=min(len(pool), m * len(pos)), replace=False)
                cands = np.concatenate([pos, neg])
                k = watch.count(u, len(cands))
                pick = np.zeros(len(cands), dtype=bool)
                pick[np.argsort(-scores[row, cands], kind="stable")[:k]] = True
                truth.append(np.arange(len(cands)) < len(pos))
                chosen.append(pick)
        c = classification(np.concatenate(truth), np.concatenate(chosen))
        out[f"accuracy_{m}"], out[f"f1_{m}"] = c["accuracy"], c["f1"]
    out["objective"] = out["accuracy_1"] + out["f1_9"]
    return out


def rating_figures(data: SelectionSet, settings: ViewerSettings, seed: int, holdout: float) -> dict[str, float]:
    """RMSE of a rating model fitted with ``settings`` (its expectation: the objective), and RMSE and
    histogram JS distance of its stars."""
    model = RatingModel.fit(data.fit, data.n_items, holdout, seed, settings=settings)
    expected = model.expected(data.val.users, data.val.items)
    stars = model.stars(expected)
    real = data.val.ratings
    model_rmse = float(np.sqrt(np.mean((np.clip(expected, model.levels[0], model.levels[-1]) - real) ** 2)))
    rmse = float(np.sqrt(np.mean((stars - real) ** 2)))
    js = js_distance(level_counts(real, model.levels), level_counts(stars, model.levels))
    return {"model_rmse": model_rmse, "rmse": rmse, "js_distance": js, "objective": model_rmse}


def _grid(grid: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def _search(sets: Sequence[SelectionSet], base: ViewerSettings, candidates: list[dict[str, Any]],
            judge: Callable[[SelectionSet, ViewerSettings], dict[str, float]], better: Callable[[float, float], bool],
            log: Callable[[str], None], admissible: Callable[[dict[str, float]], bool] = lambda f: True
            ) -> tuple[ViewerSettings, list[dict[str, Any]]]:
    """Every candidate on every data set; the best by the objective averaged over the data sets (ties: the
    earlier candidate) among those ``admissible`` on every data set (all of them if none is)."""
    rows: list[dict[str, Any]] = []
    best: tuple[float, ViewerSettings] | None = None
    fallback: tuple[float, ViewerSettings] | None = None
    for change in candidates:
        settings = replace(base, **change)
        per_set = {d.name: judge(d, settings) for d in sets}
        objective = float(np.mean([f["objective"] for f in per_set.values()]))
        ok = all(admissible(f) for f in per_set.values())
        rows.append({"settings": change, "objective": objective, "admissible": ok, "sets": per_set})
        log(f"{json.dumps(change)}: objective {objective:.4f}{'' if ok else ' (inadmissible)'} "
            + " ".join(f"{n}: " + ", ".join(f"{k} {v:.4f}" for k, v in f.items()) for n, f in per_set.items()))
        if ok and (best is None or better(objective, best[0])):
            best = (objective, settings)
        if fallback is None or better(objective, fallback[0]):
            fallback = (objective, settings)
    chosen = best or fallback
    assert chosen is not None
    return chosen[1], rows


class _ItemCache:
    """Item models per (fitting ratings, the settings they depend on); the recency windows only change
    the features, so a fit is reused across them. Holds one settings key at a time."""

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items
        self.models: dict[str, ItemModels] = {}
        self.settings_key: tuple[Any, ...] | None = None

    def for_settings(self, settings: ViewerSettings) -> Callable[[Ratings], ItemModels]:
        # everything ItemModels.fit reads (the rating settings too, for "quality" and "liking")
        key = (settings.ease_lambda, settings.rp3_beta, settings.rank, settings.sequence, settings.late,
               settings.explicit, settings.rating_rank, settings.rating_lambda, settings.bias_lambda, settings.implicit)
        if key != self.settings_key:
            self.models, self.settings_key = {}, key

        def fit(part: Ratings) -> ItemModels:
            k = _key(part)
            if k not in self.models:
                self.models[k] = ItemModels.fit(part, self.n_items, settings)
            return replace(self.models[k], recency=settings.recency)

        return fit


def select(sets: Sequence[SelectionSet], seed: int = 0, holdout: float = 0.2,
           log: Callable[[str], None] = lambda s: None) -> tuple[ViewerSettings, dict[str, Any]]:
    """The chosen settings, and every candidate's selection figures."""
    caches = {d.name: _ItemCache(d.n_items) for d in sets}

    def judge_watch(d: SelectionSet, s: ViewerSettings) -> dict[str, float]:
        return watch_figures(d, s, seed, holdout, caches[d.name].for_settings(s))

    def higher(a: float, b: float) -> bool:
        return a > b + 1e-9

    def lower(a: float, b: float) -> bool:
        return a < b - 1e-9

    log("watch grid (objective: accuracy at 1:1 + F1 at 1:9, higher is better)")
    chosen, watch_rows = _search(sets, START, _grid(WATCH_GRID), judge_watch, higher, log)
    log("watch refinement")
    chosen, refine_rows = _search(sets, chosen, _grid(WATCH_REFINE), judge_watch, higher, log)
    log("watch: what others rated next after the user's latest items")
    chosen, sequence_rows = _search(sets, chosen, _grid(WATCH_SEQUENCE), judge_watch, higher, log)
    log("watch: how late in its raters' histories an item comes")
    chosen, late_rows = _search(sets, chosen, _grid(WATCH_LATE), judge_watch, higher, log)
    log("watch: the rating model's item quality and expected liking")
    chosen, explicit_rows = _search(sets, chosen, _grid(WATCH_EXPLICIT), judge_watch, higher, log)
    log(f"rating grid (objective: RMSE of the rating model's expectation, lower is better; admissible: the "
        f"stars' histogram within JS {JS_GOAL} on every set)")
    chosen, rating_rows = _search(sets, chosen, _grid(RATING_GRID), lambda d, s: rating_figures(d, s, seed, holdout),
                                  lower, log, admissible=lambda f: f["js_distance"] <= JS_GOAL)
    log("rating: the implicit taste (SVD++ style: which items a user rated)")
    chosen, implicit_rows = _search(sets, chosen, _grid(RATING_IMPLICIT),
                                    lambda d, s: rating_figures(d, s, seed, holdout), lower, log,
                                    admissible=lambda f: f["js_distance"] <= JS_GOAL)
    return chosen, {"watch_grid": watch_rows, "watch_refine": refine_rows, "watch_sequence": sequence_rows,
                    "watch_late": late_rows, "watch_explicit": explicit_rows, "rating_grid": rating_rows, "rating_implicit": implicit_rows}


def generate(folder: Path, seed: int = 7, users: int = 1500, items: int = 1000) -> Path:
    """A synthetic data set in the MovieLens-1M format (viewers with known tastes)."""
    rng = np.random.default_rng(seed)
    cat = generate_catalogue(items, rng)
    roles = synthetic_roles(users, cat, rng)
    return write_movielens(folder, cat, synthetic_ratings(cat, roles, rng, 60), "1m")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("data", nargs="*", help="rating folders (MovieLens-100k, -1M, latest CSV, plain CSV)")
    parser.add_argument("--generate", metavar="DIR", help="also write and use a synthetic ML-1M-format data set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--json", action="store_true", help="every candidate's figures as JSON on the last line")
    args = parser.parse_args(argv)
    folders = [Path(p).expanduser() for p in args.data]
    if args.generate:
        folders.append(generate(Path(args.generate)))
    if not folders:
        parser.error("name at least one data folder or --generate")
    sets = []
    for folder in folders:
        cat, ratings = load_ratings(folder)
        sets.append(SelectionSet.from_ratings(folder.name, len(cat), ratings, args.holdout))
    chosen, rows = select(sets, args.seed, args.holdout, log=lambda s: print(s, file=sys.stderr, flush=True))
    print("chosen:", json.dumps(asdict(chosen)))
    print("DEFAULTS in fitting.py:", json.dumps(asdict(DEFAULTS)))
    if args.json:
        print(json.dumps({"chosen": asdict(chosen), "candidates": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
