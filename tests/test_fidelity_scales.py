"""Star scales: fitted viewers give stars on the data's own scale (whole stars 1-5, or the half stars of
the MovieLens "latest" releases), their stars for unseen items fall like the training histogram, and the
fidelity report bins the histogram by the scale's levels."""

from __future__ import annotations

import numpy as np
import pytest
from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles
from simworld.scenarios.recommender.catalogue import Ratings
from simworld.scenarios.recommender.fidelity import fidelity, level_edges
from simworld.scenarios.recommender.fitting import RatingModel, level_counts, scale_of
from simworld.scenarios.recommender.policies import HalfStarRatings, ItemRatings, ratings_action

from simworld.stats import js_distance

pytest.importorskip("pandas")


def half_star_data(seed: int, users: int = 150, items: int = 400) -> tuple:
    """Synthetic viewers whose ratings are moved onto the half-star scale (0.5-5) by a noisy half step."""
    rng = np.random.default_rng(seed)
    cat = generate_catalogue(items, rng)
    r = synthetic_ratings(cat, synthetic_roles(users, cat, rng), rng, 40)
    halves = np.clip(np.rint((r.ratings + rng.normal(0, 0.35, len(r))) * 2) / 2, 0.5, 5.0)
    return cat, Ratings(r.users, r.items, halves, r.times, r.user_ids)


def test_the_scale_comes_from_the_ratings():
    assert scale_of(np.array([1.0, 4.0, 5.0])).tolist() == [1, 2, 3, 4, 5]
    assert scale_of(np.array([1.0, 3.5])).tolist() == [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]
    levels = scale_of(np.array([0.5]))
    assert level_counts(np.array([0.5, 0.5, 3.5, 5.0]), levels).tolist() == [2, 0, 0, 0, 0, 0, 1, 0, 0, 1]
    assert level_edges(np.arange(1.0, 6.0)).tolist() == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    assert level_edges(levels)[:3].tolist() == [0.25, 0.75, 1.25]
    assert ratings_action([1.0, 2.0, 3.0, 4.0, 5.0]) is ItemRatings
    assert ratings_action(levels.tolist()) is HalfStarRatings
    assert HalfStarRatings(ratings=[0.5, 4.5]).ratings == [0.5, 4.5]
    for bad in (0.0, 4.25, 5.5):
        with pytest.raises(ValueError):
            HalfStarRatings(ratings=[bad])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stars_of_unseen_items_fall_like_the_training_histogram(seed):
    # The cut points are the quantiles of the inner model's expectations for items it had not seen, at
    # the training histogram's shares: the stars the full model gives to later, unseen items should fall
    # like the training ratings. Observed on these half-star populations (seeds 1-3): JS distance 0.052,
    # 0.035, 0.056 between the stars of the held-out items and the training histogram (plain rounding of
    # the expectations to half stars: 0.36-0.38). Tolerance: below 0.12 at each seed, and at least 3x
    # closer than rounding.
    cat, r = half_star_data(seed)
    held = np.zeros(len(r), bool)
    order = np.argsort(r.times, kind="stable")
    held[order[int(0.8 * len(r)):]] = True  # the latest fifth of all ratings
    train, test = r.subset(~held), r.subset(held)
    model = RatingModel.fit(train, len(cat), 0.2, seed)
    assert model.levels.tolist() == [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]
    expected = model.expected(test.users, test.items)
    stars = model.stars(expected)
    assert set(np.unique(stars)) <= set(model.levels.tolist()) and len(np.unique(stars)) >= 7
    target = level_counts(train.ratings, model.levels)
    js = js_distance(target, level_counts(stars, model.levels))
    rounded = np.clip(np.rint(expected * 2) / 2, 0.5, 5.0)
    assert js < 0.12 and 3 * js < js_distance(target, level_counts(rounded, model.levels))


def test_whole_star_models_keep_integer_stars():
    rng = np.random.default_rng(4)
    cat = generate_catalogue(300, rng)
    r = synthetic_ratings(cat, synthetic_roles(100, cat, rng), rng, 30)
    model = RatingModel.fit(r, len(cat), 0.2, 0)
    assert model.levels.tolist() == [1, 2, 3, 4, 5]
    rater = model.raters()[0]
    assert isinstance(rater.stars(0), int) and 1 <= rater.stars(0) <= 5
    forced = RatingModel.fit(r, len(cat), 0.2, 0, levels=np.arange(0.5, 5.01, 0.5))
    assert isinstance(forced.raters()[0].stars(0), float)


def test_fidelity_on_half_star_data_answers_and_bins_in_half_stars(tmp_path):
    from simworld.scenarios.recommender.csvdata import write_csv

    folder = write_csv(tmp_path / "latest", *half_star_data(5), "latest")
    report = fidelity(folder, ratios=[1], seed=1)
    d = report["rating_distribution"]
    assert d["levels"] == [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]
    assert len(d["real"]) == len(d["simulated"]) == 10
    assert sum(d["simulated"][k] for k in range(0, 10, 2)) > 0  # half stars are given
    assert sum(d["real"]) == sum(d["simulated"])
    # observed 0.055 on this population (rounding to half stars gives about 0.37)
    assert d["js_distance"] < 0.15


def test_the_cholesky_inverse_equals_the_general_one():
    from simworld.scenarios.recommender.fitting import _spd_inverse

    rng = np.random.default_rng(0)
    for n in (1, 7, 1100):  # 1100 spans two blocks of the mirroring
        x = rng.random((n + 5, n))
        a = x.T @ x + 2.0 * np.eye(n)
        expected = np.linalg.inv(a)
        got = _spd_inverse(a.copy())
        assert np.allclose(got, expected, rtol=1e-10, atol=1e-12) and np.array_equal(got, got.T)
    big = rng.random((1100, 1100))
    big = big @ big.T + np.eye(1100)
    same = big.copy()
    assert _spd_inverse(same) is not None and np.shares_memory(_spd_inverse(big), big)  # no copy of a
    with pytest.raises(np.linalg.LinAlgError):
        _spd_inverse(np.array([[1.0, 2.0], [2.0, 1.0]]))  # not positive definite
