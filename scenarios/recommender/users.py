"""Simulated viewers: taste, Agent4Rec's social traits, patience, curiosity and a rating style.

A viewer's persona carries a typed ``viewer`` role; :class:`Viewer` is its numpy form that the rule
policy scores items with. Viewers come from a seeded generator (true tastes known) or are fitted from a
real user's training ratings (a genre profile plus a PureSVD latent vector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simworld.scenarios.recommender.catalogue import GENRES, Catalogue, Ratings


class ViewerRole(BaseModel):
    """``persona.roles.viewer``: everything the rule policy knows about this viewer."""

    model_config = ConfigDict(extra="forbid")

    taste: list[float] = Field(default_factory=lambda: [0.0] * len(GENRES), description="affinity per genre")
    latent: list[float] | None = Field(default=None, description="taste in the item-factor space (fitted)")
    quality_weight: float = Field(default=0.4, description="how much an item's quality counts")
    threshold: float = Field(default=0.5, description="interest above which the viewer tends to watch")
    activity: float = Field(default=0.5, gt=0.0, description="sessions per simulated day")
    diversity: float = Field(default=0.5, ge=0.0, le=1.0, description="share of genres the viewer explores")
    conformity: float = Field(default=0.5, ge=0.0, le=1.0, description="follows popularity and the crowd's ratings")
    patience: float = Field(default=0.5, ge=0.0, le=1.0, description="tolerance for long, unrewarding sessions")
    curiosity: float = Field(default=0.3, ge=0.0, le=1.0, description="appetite for genres not watched lately")
    rating_mean: float = Field(default=3.6, ge=1.0, le=5.0)
    rating_spread: float = Field(default=0.9, ge=0.0, le=3.0)


@dataclass(slots=True)
class Viewer:
    """A viewer role as arrays, plus the catalogue columns needed to score items quickly."""

    taste: np.ndarray
    latent: np.ndarray | None
    role: ViewerRole

    def interest(self, cat: Catalogue, items: np.ndarray, item_factors: np.ndarray | None = None) -> np.ndarray:
        """Interest in ``items`` (indices): genre affinity + quality + the crowd's pull (+ latent match)."""
        r = self.role
        score = cat.genre_unit[items] @ self.taste + r.quality_weight * cat.quality[items]
        score += 0.3 * r.conformity * cat.popularity_z[items]
        if self.latent is not None and item_factors is not None:
            score += item_factors[items] @ self.latent
        return score

    def rating(self, interest: np.ndarray, crowd: np.ndarray) -> np.ndarray:
        """Expected ratings (before noise): the viewer's mean, tilted by interest and by the crowd's rating."""
        r = self.role
        tilt = np.tanh(interest - r.threshold) * r.rating_spread
        return r.rating_mean + tilt + 0.5 * r.conformity * crowd


def viewer_of(role: ViewerRole) -> Viewer:
    latent = None if role.latent is None else np.asarray(role.latent, dtype=np.float64)
    return Viewer(np.asarray(role.taste, dtype=np.float64), latent, role)


def synthetic_roles(n: int, cat: Catalogue, rng: np.random.Generator) -> list[ViewerRole]:
    """Viewers with known tastes: 1-3 loved genres, mild dislike of others, varied traits."""
    roles = []
    g = len(GENRES)
    for _ in range(n):
        taste = rng.normal(-0.3, 0.4, g)
        loved = 1 + rng.choice(g - 1, size=int(rng.integers(1, 4)), replace=False)
        taste[loved] = rng.normal(1.6, 0.3, len(loved))
        taste[0] = 0.0
        role = ViewerRole(
            taste=np.round(taste, 4).tolist(), quality_weight=round(float(rng.uniform(0.2, 0.6)), 4),
            activity=round(float(np.exp(rng.normal(np.log(0.4), 0.6))), 4),
            diversity=round(float(rng.beta(2, 3)), 4), conformity=round(float(rng.beta(2, 2)), 4),
            patience=round(float(rng.beta(2, 2)), 4), curiosity=round(float(rng.beta(2, 4)), 4),
            rating_mean=round(float(np.clip(rng.normal(3.6, 0.4), 1.5, 4.8)), 4),
            rating_spread=round(float(rng.uniform(0.6, 1.3)), 4),
        )
        v = viewer_of(role)
        scores = v.interest(cat, np.arange(len(cat)))
        role.threshold = round(float(np.quantile(scores, 0.8)), 4)  # most of the catalogue does not appeal
        roles.append(role)
    return roles


def synthetic_ratings(cat: Catalogue, roles: list[ViewerRole], rng: np.random.Generator,
                      per_user: int = 40, start: int = 880_000_000) -> Ratings:
    """Rating histories drawn from known tastes: items picked by interest (softmax), rated by style."""
    users, items, ratings, times = [], [], [], []
    crowd = cat.quality * 0.5
    all_items = np.arange(len(cat))
    for u, role in enumerate(roles):
        v = viewer_of(role)
        interest = v.interest(cat, all_items)
        n = int(np.clip(rng.poisson(per_user * role.activity / 0.4), 20, len(cat) // 2))
        w = np.exp((interest - interest.max()) / 0.35)
        picked = rng.choice(len(cat), size=n, replace=False, p=w / w.sum())
        r = np.clip(np.rint(v.rating(interest[picked], crowd[picked]) + rng.normal(0, 0.5, n)), 1, 5)
        users.append(np.full(n, u))
        items.append(picked)
        ratings.append(r)
        times.append(start + np.sort(rng.integers(0, 86_400 * 200, n)))
    cat_ = np.concatenate
    return Ratings(cat_(users), cat_(items), cat_(ratings).astype(float), cat_(times), [f"u{u + 1}" for u in range(len(roles))])


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
    crowd = item_mean - mu
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
        role.threshold = float(np.quantile(scores[its], 0.3)) if len(its) else float(np.quantile(scores, 0.9))
        roles.append(role)
    return roles, FittedSpace(q, item_mean, mu)
