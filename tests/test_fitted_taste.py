"""Taste in the fitted viewers: the rating model's implicit taste (SVD++ style: a user's taste includes
the vectors of the items it rated, whatever their stars; fitted by steepest descent with exact line search
inside the ALS sweeps), and the rating model's "quality" and "liking" among the watch scores."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from simworld.scenarios.recommender.catalogue import Ratings
from simworld.scenarios.recommender.fitting import DEFAULTS, RatingModel, _Implicit


def implicit_data(seed: int, users: int = 300, items: int = 200, per_user: int = 25, rank: int = 4):
    """Residuals made exactly by the implicit term: r_ui = z_u . q_i, z_u the scaled sum of the true y
    over the items the user rated (no explicit taste at all)."""
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 1, (items, rank))
    y = rng.normal(0, 1, (items, rank))
    u = np.repeat(np.arange(users), per_user)
    i = np.concatenate([rng.choice(items, per_user, replace=False) for _ in range(users)])
    z = np.zeros((users, rank))
    np.add.at(z, u, y[i])
    z /= np.sqrt(per_user)
    res = np.einsum("ij,ij->i", z[u], q[i])
    r = Ratings(u, i, res, np.arange(len(u), dtype=np.float64), [f"u{k}" for k in range(users)])
    return r, q, res


def objective(imp: _Implicit, res: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    z = imp.n @ imp.y
    e = res - np.einsum("ij,ij->i", (p + z)[imp.users], q[imp.items])
    return float(0.5 * np.sum(e * e) + 0.5 * imp.lam * np.sum(imp.y * imp.y))


def test_each_step_lowers_the_penalised_error_and_recovers_the_implicit_term():
    r, q, res = implicit_data(3)
    p = np.zeros((len(r.user_ids), q.shape[1]))
    imp = _Implicit(r, len(q), q.shape[1], lam=0.1, steps=1)
    values = [objective(imp, res, p, q)]
    for _ in range(60):
        z = imp.fit(res, p, q)
        values.append(objective(imp, res, p, q))
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(values))  # exact line search on a quadratic
    # the returned tastes are those of the fitted vectors
    assert np.allclose(z, imp.n @ imp.y)
    pred = np.einsum("ij,ij->i", z[r.users], q[r.items])
    explained = 1 - np.mean((res - pred) ** 2) / np.mean(res ** 2)
    assert explained > 0.9  # the implicit tastes explain the residuals they were made from


def test_without_the_implicit_term_the_model_is_plain_als():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 40, 800), rng.integers(0, 60, 800)
    stars = rng.integers(1, 6, 800).astype(np.float64)
    r = Ratings(users, items, stars, rng.random(800), [f"u{k}" for k in range(40)])
    with_ = RatingModel.fit_raw(r, 60, DEFAULTS)
    without = RatingModel.fit_raw(r, 60, replace(DEFAULTS, implicit=0.0))
    assert DEFAULTS.implicit > 0
    assert not np.allclose(with_.p, without.p)  # the taste includes the rated items' vectors
    assert np.array_equal(with_.q.shape, without.q.shape)


@pytest.mark.parametrize("lam", [10.0, 1000.0])
def test_stronger_penalty_keeps_the_implicit_vectors_smaller(lam):
    r, q, res = implicit_data(4, users=100)
    p = np.zeros((len(r.user_ids), q.shape[1]))
    weak, strong = _Implicit(r, len(q), q.shape[1], lam=1.0), _Implicit(r, len(q), q.shape[1], lam=lam)
    for _ in range(10):
        weak.fit(res, p, q)
        strong.fit(res, p, q)
    assert np.linalg.norm(strong.y) < np.linalg.norm(weak.y)


def test_watch_scores_include_the_rating_models_quality_and_liking():
    """"quality" is the rating model's item bias and "liking" the user's expected liking (bias + taste),
    each standardised per user; with ``explicit`` off both columns are zero."""
    from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles
    from simworld.scenarios.recommender.fitting import FEATURES, ItemModels

    rng = np.random.default_rng(2)
    cat = generate_catalogue(80, rng)
    r = synthetic_ratings(cat, synthetic_roles(40, cat, rng), rng, 20)
    users = np.arange(5)
    on = ItemModels.fit(r, len(cat), DEFAULTS)
    rm = RatingModel.fit_raw(r, len(cat), DEFAULTS)
    f = on.features(users)
    qi, li = FEATURES.index("quality"), FEATURES.index("liking")
    for row, u in enumerate(users):
        for col, raw in ((qi, rm.item_bias), (li, rm.p[u] @ rm.q.T + rm.item_bias)):
            z = (raw - raw.mean()) / raw.std()
            assert np.allclose(f[row, :, col], z, atol=1e-3)
    off = ItemModels.fit(r, len(cat), replace(DEFAULTS, explicit=False)).features(users)
    assert not off[..., [qi, li]].any()
    others = [k for k in range(len(FEATURES)) if k not in (qi, li)]
    assert np.allclose(off[..., others], f[..., others])
