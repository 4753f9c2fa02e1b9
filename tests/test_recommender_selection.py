"""How the fitted viewers' defaults are chosen: validation inside the training ratings, never the held-out part."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles
from simworld.scenarios.recommender import selection as sel
from simworld.scenarios.recommender.fitting import time_split


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    cat = generate_catalogue(120, rng)
    roles = synthetic_roles(60, cat, rng)
    return cat, synthetic_ratings(cat, roles, rng, 30)


@pytest.fixture
def small_grids(monkeypatch):
    """Two candidates per stage keep the search quick; the procedure is the same."""
    monkeypatch.setattr(sel, "WATCH_GRID", {"ease_lambda": (30.0, 300.0), "rank": (8,),
                                            "recency": ((10.0, 30.0, 100.0),)})
    monkeypatch.setattr(sel, "WATCH_REFINE", {"l2": (1.0, 10.0)})
    monkeypatch.setattr(sel, "WATCH_SEQUENCE", {"sequence": (0, 5)})
    monkeypatch.setattr(sel, "WATCH_LATE", {"late": (0.0, 2.0)})
    monkeypatch.setattr(sel, "WATCH_EXPLICIT", {"explicit": (False, True)})
    monkeypatch.setattr(sel, "RATING_GRID", {"rating_rank": (2, 4), "rating_lambda": (10.0,), "bias_lambda": (5.0,)})
    monkeypatch.setattr(sel, "RATING_IMPLICIT", {"implicit": (0.0, 100.0)})


def test_selection_split_is_the_latest_share_of_the_training_part_only(data):
    cat, ratings = data
    s = sel.SelectionSet.from_ratings("d", len(cat), ratings, 0.2)
    held_out = time_split(ratings, 0.2)
    train = ratings.subset(~held_out)
    assert len(s.fit) + len(s.val) == len(train)
    for u in range(len(ratings.user_ids)):
        fit_t, val_t = s.fit.times[s.fit.users == u], s.val.times[s.val.users == u]
        test_t = ratings.times[held_out & (ratings.users == u)]
        if len(val_t):
            assert fit_t.max() <= val_t.min()  # judged on what came later in the training part
        if len(test_t) and len(val_t):
            assert val_t.max() <= test_t.min()  # and the held-out part comes later still, never used
        assert set(s.rated[u].tolist()) == set(train.items[train.users == u].tolist())


def test_the_choice_does_not_depend_on_held_out_ratings(data, small_grids):
    cat, ratings = data
    chosen, rows = sel.select([sel.SelectionSet.from_ratings("d", len(cat), ratings, 0.2)], seed=1)
    # scramble every held-out rating and item: the selection sees the same data and picks the same
    held_out = time_split(ratings, 0.2)
    rng = np.random.default_rng(0)
    changed = type(ratings)(ratings.users.copy(), ratings.items.copy(), ratings.ratings.copy(), ratings.times,
                            ratings.user_ids)
    changed.ratings[held_out] = rng.integers(1, 6, held_out.sum())
    changed.items[held_out] = rng.integers(0, len(cat), held_out.sum())
    chosen2, rows2 = sel.select([sel.SelectionSet.from_ratings("d", len(cat), changed, 0.2)], seed=1)
    assert chosen2 == chosen and rows2 == rows


def test_search_keeps_the_best_candidate_by_the_objective(data, small_grids):
    cat, ratings = data
    chosen, rows = sel.select([sel.SelectionSet.from_ratings("d", len(cat), ratings, 0.2)], seed=1)
    best_watch = max(rows["watch_grid"], key=lambda r: r["objective"])["settings"]
    assert chosen.ease_lambda == best_watch["ease_lambda"]
    admissible = [r for r in rows["rating_grid"] if r["admissible"]] or rows["rating_grid"]
    lowest = min(r["objective"] for r in admissible)
    # ties (within 1e-9) go to the earlier candidate
    best_rating = next(r for r in admissible if r["objective"] < lowest + 1e-9)["settings"]
    assert chosen.rating_rank == best_rating["rating_rank"]
    for r in rows["watch_grid"]:
        f = r["sets"]["d"]
        assert 0.5 < f["accuracy_1"] <= 1.0 and r["objective"] == pytest.approx(f["accuracy_1"] + f["f1_9"])
    for r in rows["rating_grid"]:
        f = r["sets"]["d"]
        assert r["objective"] == f["model_rmse"]  # the expectation's RMSE; the stars only gate admission
        assert r["admissible"] == (f["js_distance"] <= sel.JS_GOAL)
    assert chosen.recency == sel.START.recency and chosen.rp3_beta == sel.START.rp3_beta  # not in the small grids


def test_an_inadmissible_rating_candidate_is_not_chosen_even_with_the_best_objective(data, monkeypatch):
    cat, ratings = data
    d = sel.SelectionSet.from_ratings("d", len(cat), ratings, 0.2)
    figures = {2: {"rmse": 0.5, "js_distance": 0.2, "objective": 0.7}, 4: {"rmse": 0.9, "js_distance": 0.01, "objective": 0.91}}
    chosen, rows = sel._search([d], sel.START, [{"rating_rank": 2}, {"rating_rank": 4}],
                               lambda _, s: figures[s.rating_rank], lambda a, b: a < b, lambda _: None,
                               admissible=lambda f: f["js_distance"] <= sel.JS_GOAL)
    assert chosen.rating_rank == 4 and [r["admissible"] for r in rows] == [False, True]
    # with no admissible candidate, the best objective wins
    chosen, _ = sel._search([d], sel.START, [{"rating_rank": 2}], lambda _, s: figures[s.rating_rank],
                            lambda a, b: a < b, lambda _: None, admissible=lambda f: False)
    assert chosen.rating_rank == 2



def test_command_line_on_a_generated_1m_format_set(tmp_path, small_grids, monkeypatch, capsys):
    def small(folder, seed=7, users=80, items=150):
        return generate_small(folder, seed, users, items)

    generate_small = sel.generate
    monkeypatch.setattr(sel, "generate", small)
    assert sel.main(["--generate", str(tmp_path / "gen"), "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (tmp_path / "gen" / "ratings.dat").exists() and (tmp_path / "gen" / "movies.dat").exists()
    assert out[0].startswith("chosen: ")
    report = json.loads(out[-1])
    assert set(report["candidates"]) == {"watch_grid", "watch_refine", "watch_sequence", "watch_late", "watch_explicit",
                                         "rating_grid", "rating_implicit"}
    assert [r["settings"] for r in report["candidates"]["rating_implicit"]] == [{"implicit": 0.0}, {"implicit": 100.0}]
    assert len(report["candidates"]["watch_grid"]) == 2 and list(report["candidates"]["watch_grid"][0]["sets"]) == ["gen"]


def test_the_next_feature_counts_what_came_after_in_each_users_own_order():
    from simworld.scenarios.recommender.catalogue import Ratings
    from simworld.scenarios.recommender.fitting import DEFAULTS, ItemModels

    # two users rate 0 then 1 then 2; a third rates 2 then 0; times interleave across users
    users = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    items = np.array([0, 1, 2, 0, 1, 2, 2, 0])
    times = np.array([1, 5, 9, 2, 6, 10, 3, 7])
    r = Ratings(users, items, np.full(8, 4.0), times, ["a", "b", "c"])
    m = ItemModels.fit(r, 4, replace(DEFAULTS, sequence=1))
    assert m.following is not None
    assert m.following[0, 1] > 0 and m.following[1, 2] > 0 and m.following[2, 0] > 0
    assert m.following[1, 0] == 0 and m.following[0, 2] == 0  # only the next rating with sequence=1
    assert m.following[:, 3].sum() == 0  # never rated
    wider = ItemModels.fit(r, 4, replace(DEFAULTS, sequence=2))
    assert wider.following is not None and wider.following[0, 2] > 0
    assert ItemModels.fit(r, 4, replace(DEFAULTS, sequence=0)).following is None
