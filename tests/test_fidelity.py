"""User-simulation fidelity: Agent4Rec's taste discrimination, rating error and distribution distances."""

from __future__ import annotations

import json

import numpy as np
import pytest
from simworld.analysis import fidelity
from simworld.analysis.fidelity import classification, distances, rating_errors
from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles, write_movielens


@pytest.fixture(scope="module")
def movielens(tmp_path_factory):
    """Ratings drawn from synthetic viewers whose tastes are known, written as MovieLens-100k files."""
    rng = np.random.default_rng(11)
    cat = generate_catalogue(400, rng)
    roles = synthetic_roles(150, cat, rng)
    return write_movielens(tmp_path_factory.mktemp("ml"), cat, synthetic_ratings(cat, roles, rng, 40), "100k")


def test_classification_metrics_by_hand():
    truth = np.array([1, 1, 0, 0, 0, 1], bool)
    chosen = np.array([1, 0, 1, 0, 0, 1], bool)
    m = classification(truth, chosen)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)


def test_rating_errors_and_distances_by_hand():
    e = rating_errors(np.array([1.0, 3.0, 5.0]), np.array([2.0, 3.0, 3.0]))
    assert e["rmse"] == pytest.approx(np.sqrt(5 / 3)) and e["mae"] == pytest.approx(1.0)
    same = distances(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert same["js_distance"] == pytest.approx(0.0) and same["wasserstein"] == pytest.approx(0.0)
    apart = distances(np.array([1.0, 1.0]), np.array([5.0, 5.0]), np.arange(0.5, 6.0, 1.0))
    assert apart["js_distance"] == pytest.approx(1.0) and apart["wasserstein"] == pytest.approx(4.0)


def test_viewers_fitted_from_known_tastes_discriminate_well_above_chance(movielens):
    report = fidelity(movielens, ratios=[1, 3, 9], seed=0)
    d = report["discrimination"]
    assert d["1"]["accuracy"] > 0.7  # chance: 0.5
    assert d["3"]["precision"] > 2 * d["3"]["chance_precision"]
    assert d["9"]["precision"] > 3 * d["9"]["chance_precision"]
    assert d["1"]["f1"] > d["9"]["f1"]  # more distractors, harder (as in Agent4Rec)
    assert report["rmse"] < 1.2 and report["mae"] < report["rmse"]
    assert 0.0 <= report["rating_distribution"]["js_distance"] < 0.3
    for trait in ("activity", "diversity", "conformity"):
        assert np.isfinite(report["traits"][trait]["wasserstein"])


def test_fidelity_is_deterministic(movielens):
    assert fidelity(movielens, ratios=[1], seed=3, max_users=40) == fidelity(movielens, ratios=[1], seed=3, max_users=40)


def test_cli_prints_a_table_or_one_json_line(cli, movielens):
    res = cli("fidelity", movielens, "--ratios", "1,2", "--seed", "1", "--max-users", "60", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.out_lines[-1])
    assert set(report["discrimination"]) == {"1", "2"} and report["users"] == 60
    table = cli("fidelity", movielens, "--ratios", "1", "--max-users", "30")
    assert table.returncode == 0 and "accuracy" in table.stdout and "RMSE" in table.stdout


@pytest.mark.parametrize(("args", "needle"), [(["no/such/dir"], "no such folder"), (["--ratios", "1,0"], "--ratios")])
def test_cli_bad_input_exits_2(cli, movielens, args, needle):
    full = args if args[0] == "no/such/dir" else [str(movielens), *args]
    res = cli("fidelity", *full)
    assert res.returncode == 2 and needle in res.stderr and len(res.err_lines) == 1


@pytest.mark.slow
def test_movielens_100k_size_runs_in_a_few_minutes(tmp_path):
    import time

    rng = np.random.default_rng(1)
    cat = generate_catalogue(1682, rng)
    roles = synthetic_roles(943, cat, rng)
    data = write_movielens(tmp_path, cat, synthetic_ratings(cat, roles, rng, 100), "100k")
    t0 = time.perf_counter()
    report = fidelity(data)
    assert report["users"] == 943 and time.perf_counter() - t0 < 180
