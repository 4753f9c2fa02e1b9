"""Where viewers come from: a seeded generator (true tastes known, training histories drawn from them)
or a fit to real users' training ratings (a genre profile plus a PureSVD latent vector, Agent4Rec's social
traits and a rating style). :class:`Population` is what a run's viewers are built from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from simworld.scenarios.recommender.catalogue import GENRES, Catalogue, Ratings
from simworld.scenarios.recommender.policies import Rater
from simworld.scenarios.recommender.roles import Viewer, ViewerRole, viewer_of


def synthetic_roles(n: int, cat: Catalogue, rng: np.random.Generator, chunk: int = 4096) -> list[ViewerRole]:
    """Viewers with known tastes: 1-3 loved genres, mild dislike of others, varied traits (vectorised)."""
    g = len(GENRES)
    taste = rng.normal(-0.3, 0.4, (n, g))
    n_loved = rng.integers(1, 4, n)
    keys = rng.random((n, g - 1)).argsort(axis=1)  # a random order of genres per viewer
    for j in range(3):
        rows = np.flatnonzero(n_loved > j)
        taste[rows, 1 + keys[rows, j]] = rng.normal(1.6, 0.3, len(rows))
    taste[:, 0] = 0.0
    taste = np.round(taste, 4)
    cols = {
        "quality_weight": rng.uniform(0.2, 0.6, n), "activity": np.exp(rng.normal(np.log(0.4), 0.6, n)),
        "diversity": rng.beta(2, 3, n), "conformity": rng.beta(2, 2, n), "patience": rng.beta(2, 2, n),
        "curiosity": rng.beta(2, 4, n), "rating_mean": np.clip(rng.normal(3.6, 0.4, n), 1.5, 4.8),
        "rating_spread": rng.uniform(0.6, 1.3, n),
    }
    cols = {k: np.round(v, 4) for k, v in cols.items()}
    # interest of every viewer in every item, by chunks; most of the catalogue does not appeal
    threshold = np.empty(n)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        threshold[lo:hi] = np.quantile(_interest_matrix(cat, taste[lo:hi], cols, lo, hi), 0.8, axis=1)
    threshold = np.round(threshold, 4)
    lists = {k: v.tolist() for k, v in cols.items()}
    taste_l, thr = taste.tolist(), threshold.tolist()
    return [ViewerRole(taste=taste_l[i], threshold=thr[i], **{k: v[i] for k, v in lists.items()}) for i in range(n)]


def _interest_matrix(cat: Catalogue, taste: np.ndarray, cols: dict[str, np.ndarray], lo: int, hi: int) -> np.ndarray:
    """Viewer.interest for rows lo:hi of a population, against the whole catalogue."""
    interest: np.ndarray = (taste @ cat.genre_unit.T + cols["quality_weight"][lo:hi, None] * cat.quality[None, :]
                            + 0.3 * cols["conformity"][lo:hi, None] * cat.popularity_z[None, :])
    return interest


def synthetic_ratings(cat: Catalogue, roles: list[ViewerRole], rng: np.random.Generator,
                      per_user: int = 40, start: int = 880_000_000, chunk: int = 4096) -> Ratings:
    """Rating histories drawn from known tastes: items picked by interest (softmax sampling without
    replacement, by the Gumbel-top-k trick), rated by each viewer's style with noise."""
    n, n_items = len(roles), len(cat)
    taste = np.asarray([r.taste for r in roles])
    cols = {k: np.asarray([getattr(r, k) for r in roles]) for k in
            ("quality_weight", "conformity", "activity", "threshold", "rating_mean", "rating_spread")}
    counts = np.clip(rng.poisson(per_user * cols["activity"] / 0.4), 20, max(1, n_items // 2))
    crowd = cat.quality * 0.5
    users, items, ratings = [], [], []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        interest = _interest_matrix(cat, taste[lo:hi], cols, lo, hi)
        keys = interest / 0.35 + rng.gumbel(size=interest.shape)
        order = np.argsort(-keys, axis=1, kind="stable")
        k = counts[lo:hi]
        take = np.arange(order.shape[1])[None, :] < k[:, None]
        rows = np.repeat(np.arange(lo, hi), k)
        picked = order[take]
        s = interest[rows - lo, picked]
        tilt = np.tanh(s - cols["threshold"][rows]) * cols["rating_spread"][rows]
        expected = cols["rating_mean"][rows] + tilt + 0.5 * cols["conformity"][rows] * crowd[picked]
        users.append(rows)
        items.append(picked)
        ratings.append(np.clip(np.rint(expected + rng.normal(0, 0.5, len(rows))), 1, 5))
    u = np.concatenate(users)
    times = start + rng.integers(0, 86_400 * 200, len(u))  # when each rating was given (splits use it)
    return Ratings(u, np.concatenate(items), np.concatenate(ratings).astype(float), times,
                   [f"u{i + 1}" for i in range(n)])


# -- from data -----------------------------------------------------------------------------------
@dataclass
class Traits:
    """Agent4Rec's social traits from ratings: activity (number of ratings), diversity (share of the
    catalogue's genres rated), conformity (mean squared gap to the item's average rating; lower = more
    conforming)."""

    activity: np.ndarray
    diversity: np.ndarray
    conformity_mse: np.ndarray


def traits(ratings: Ratings, cat: Catalogue, item_mean: np.ndarray | None = None) -> Traits:
    n_users = len(ratings.user_ids)
    if item_mean is None:
        item_mean = _item_means(ratings, len(cat))
    activity = np.bincount(ratings.users, minlength=n_users).astype(float)
    seen = np.zeros((n_users, len(GENRES)), dtype=bool)
    np.logical_or.at(seen, ratings.users, cat.genres[ratings.items])
    diversity = seen[:, 1:].sum(axis=1) / (len(GENRES) - 1)
    gap = (ratings.ratings - item_mean[ratings.items]) ** 2
    mse = np.bincount(ratings.users, weights=gap, minlength=n_users) / np.maximum(activity, 1)
    return Traits(activity, diversity, mse)


def _item_means(ratings: Ratings, n_items: int, shrink: float = 5.0) -> np.ndarray:
    mu = ratings.ratings.mean() if len(ratings) else 3.5
    counts = np.bincount(ratings.items, minlength=n_items)
    sums = np.bincount(ratings.items, weights=ratings.ratings, minlength=n_items)
    return (sums + shrink * mu) / (counts + shrink)


@dataclass
class FittedSpace:
    """What fitting learns beyond the roles: item factors (PureSVD) and the crowd's item means."""

    item_factors: np.ndarray
    item_mean: np.ndarray
    global_mean: float


def fit_roles(train: Ratings, cat: Catalogue, rank: int = 16, seed: int = 0) -> tuple[list[ViewerRole], FittedSpace]:
    """Viewer roles fitted from training ratings: genre profile, PureSVD latent vector, Agent4Rec traits,
    and a rating style (the user's mean and spread, conformity from the gap to item averages)."""
    from simworld.scenarios.recommender.algorithms import pure_svd

    n_users = len(train.user_ids)
    q = pure_svd(train, len(cat), rank, seed)  # (n_items, rank), orthonormal columns
    item_mean = _item_means(train, len(cat))
    mu = float(train.ratings.mean()) if len(train) else 3.5
    t = traits(train, cat, item_mean)
    rows = train.by_user()
    median_activity = float(np.median(t.activity)) or 1.0
    genre_share = cat.genres[:, 1:].mean(axis=0) + 1e-3
    roles = []
    all_items = np.arange(len(cat))
    for u in range(n_users):
        idx = rows[u]
        its, rs = train.items[idx], train.ratings[idx]
        liked = cat.genres[its][:, 1:].astype(float)
        weight = (rs - rs.mean() + 1.0).clip(0.1)[:, None] if len(rs) else np.zeros((0, 1))
        share = (liked * weight).sum(axis=0) / max(float(weight.sum()), 1e-9)
        taste = np.concatenate([[0.0], np.log((share + 1e-3) / genre_share)]) * 0.15
        p = np.zeros(len(cat))
        p[its] = 1.0
        latent = p @ q  # fold-in of the user's watched set
        spread = float(np.std(rs)) if len(rs) > 1 else 0.9
        conformity = float(1.0 / (1.0 + t.conformity_mse[u]))
        role = ViewerRole(
            taste=taste.tolist(), latent=None, quality_weight=0.1,
            activity=float(np.clip(0.5 * t.activity[u] / median_activity, 0.02, 10.0)),
            diversity=float(t.diversity[u]), conformity=conformity,
            rating_mean=float(np.clip(rs.mean() if len(rs) else mu, 1.0, 5.0)),
            rating_spread=float(np.clip(spread, 0.0, 3.0)),
        )
        v = Viewer(np.asarray(role.taste), None, role)
        base = v.interest(cat, all_items)
        lat_scores = q @ latent
        scale = float(lat_scores.std()) or 1.0
        latent = latent * (1.5 / scale)
        role.latent = np.round(latent, 6).tolist()
        scores = base + q @ latent
        role.threshold = float(np.quantile(scores[its], 0.2)) if len(its) else float(np.quantile(scores, 0.9))
        roles.append(role)
    return roles, FittedSpace(q, item_mean, mu)


@dataclass
class Population:
    """A run's viewers and what they meet: the catalogue, the training ratings, one role per user (in
    ``user_ids`` order) with its numpy form, the item factors (fitted viewers only) and the crowd's pull
    per item (what a conforming viewer's ratings lean towards); fitted viewers also get a :class:`Rater`
each (their stars sit at the data's level)."""

    catalogue: Catalogue
    train: Ratings
    roles: list[ViewerRole]
    item_factors: np.ndarray | None
    crowd: np.ndarray
    raters: list[Rater] | None = None  # fitted viewers: stars from the rating model fitted on the data

    def __post_init__(self) -> None:
        self.user_ids: list[str] = self.train.user_ids
        self.viewers: list[Viewer] = [viewer_of(r) for r in self.roles]
        self.index: dict[str, int] = {u: k for k, u in enumerate(self.user_ids)}

    def true_interest(self, user_id: str) -> np.ndarray:
        """The viewer's interest in every item (ground truth; only the oracle recommender reads it)."""
        return self.viewers[self.index[user_id]].interest(self.catalogue, np.arange(len(self.catalogue)),
                                                          self.item_factors)
