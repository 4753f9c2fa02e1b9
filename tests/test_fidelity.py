"""User-simulation fidelity: Agent4Rec's taste discrimination, rating error and distribution distances."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles, write_movielens
from simworld.scenarios.recommender.fidelity import fidelity

from simworld.stats import classification, distribution_distances, js_distance, prediction_errors

#: Data seeds for the statistical claims (each a different synthetic population; the protocol's seed follows).
SEEDS = range(6)


def synthetic_movielens(folder, seed: int):
    """Ratings drawn from synthetic viewers whose tastes are known, written as MovieLens-100k files."""
    rng = np.random.default_rng(seed)
    cat = generate_catalogue(400, rng)
    roles = synthetic_roles(150, cat, rng)
    return write_movielens(folder, cat, synthetic_ratings(cat, roles, rng, 40), "100k")


@pytest.fixture(scope="module")
def movielens(tmp_path_factory):
    return synthetic_movielens(tmp_path_factory.mktemp("ml"), 11)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One fidelity report per data seed."""
    return [fidelity(synthetic_movielens(tmp_path_factory.mktemp(f"ml{s}"), 100 + s), ratios=[1, 3, 9], seed=s)
            for s in SEEDS]


def test_classification_metrics_by_hand():
    truth = np.array([1, 1, 0, 0, 0, 1], bool)
    chosen = np.array([1, 0, 1, 0, 0, 1], bool)
    m = classification(truth, chosen)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)


def test_rating_errors_and_distances_by_hand():
    e = prediction_errors(np.array([1.0, 3.0, 5.0]), np.array([2.0, 3.0, 3.0]))
    assert e["rmse"] == pytest.approx(np.sqrt(5 / 3)) and e["mae"] == pytest.approx(1.0)
    same = distribution_distances(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert same["js_distance"] == pytest.approx(0.0) and same["wasserstein"] == pytest.approx(0.0)
    apart = distribution_distances(np.array([1.0, 1.0]), np.array([5.0, 5.0]), np.arange(0.5, 6.0, 1.0))
    assert apart["js_distance"] == pytest.approx(1.0) and apart["wasserstein"] == pytest.approx(4.0)
    assert js_distance([2, 0], [0, 3]) == pytest.approx(1.0) and js_distance([1, 1], [5, 5]) == pytest.approx(0.0)
    assert np.isnan(distribution_distances(np.array([]), np.array([1.0]))["wasserstein"])


def test_viewers_fitted_from_known_tastes_discriminate_well_above_chance(reports):
    # Observed over eight populations: accuracy at 1:1 0.715-0.728 (chance 0.5); precision 2.9-3.0x chance
    # at 1:3 and 4.7-5.1x at 1:9; F1 0.63-0.65 at 1:1 and 0.48-0.51 at 1:9; RMSE 0.78-0.83; rating JS
    # 0.04-0.08. Tolerance: every population within the bounds below, the mean accuracy above 0.70.
    accuracy = []
    for report in reports:
        d = report["discrimination"]
        accuracy.append(d["1"]["accuracy"])
        assert d["1"]["accuracy"] > 0.65
        assert d["3"]["precision"] > 2 * d["3"]["chance_precision"]
        assert d["9"]["precision"] > 3 * d["9"]["chance_precision"]
        assert d["1"]["f1"] > d["9"]["f1"] + 0.05  # more distractors, harder (as in Agent4Rec)
        assert report["rmse"] < 1.0 and report["mae"] < report["rmse"]
        assert 0.0 <= report["rating_distribution"]["js_distance"] < 0.2
        for trait in ("activity", "diversity", "conformity"):
            assert np.isfinite(report["traits"][trait]["wasserstein"])
    assert np.mean(accuracy) > 0.70


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
def test_runs_on_data_of_movielens_100k_size(tmp_path):
    # how long it takes is reported by benchmarks/recommender.py, never asserted here
    rng = np.random.default_rng(1)
    cat = generate_catalogue(1682, rng)
    roles = synthetic_roles(943, cat, rng)
    data = write_movielens(tmp_path, cat, synthetic_ratings(cat, roles, rng, 100), "100k")
    report = fidelity(data)
    assert report["users"] == 943 and report["items"] == 1682
    assert set(report["discrimination"]) == {"1", "2", "3", "9"}
    assert report["discrimination"]["1"]["accuracy"] > 0.6


def test_analysis_imports_no_scenario():
    # the protocol plays the recommender's viewers, so it lives with the scenario; analysis reads logs only
    code = "import sys, simworld.analysis; print(sorted(m for m in sys.modules if m.startswith('simworld.scenarios')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_baselines_run_on_the_same_split_and_negatives(reports):
    # Every report carries the four scorers and the two rating predictors; a scorer picks exactly |P| of
    # each user's candidates, so its precision equals its recall. Random is at chance: over six
    # populations its mean accuracy at 1:1 lies within 0.5 +- 0.03 (each population within +- 0.08).
    random_acc = []
    for report in reports:
        base = report["baselines"]["discrimination"]
        assert set(base) == {"random", "popularity", "item_knn", "mf"}
        for per_ratio in base.values():
            assert set(per_ratio) == {"1", "3", "9"}
            for m, r in per_ratio.items():
                assert r["precision"] == pytest.approx(r["recall"])
                assert r["n"] == report["discrimination"][m]["n"]  # the same candidates
        random_acc.append(base["random"]["1"]["accuracy"])
        assert abs(base["random"]["1"]["accuracy"] - 0.5) < 0.08
        rating = report["baselines"]["rating"]
        assert set(rating) == {"global_mean", "bias"}
        assert rating["bias"]["rmse"] < rating["global_mean"]["rmse"]
        for m in ("1", "3", "9"):
            v = report["versus_best_baseline"][m]
            best = max(base[n][m]["accuracy"] for n in base)
            assert v["accuracy_gain"] == pytest.approx(report["discrimination"][m]["accuracy"] - best)
            assert base[v["best_accuracy"]][m]["accuracy"] == best
        v = report["versus_best_baseline"]["rating"]
        assert v["rmse_gain"] == pytest.approx(min(r["rmse"] for r in rating.values()) - report["rmse"])
    assert abs(np.mean(random_acc) - 0.5) < 0.03


def test_cli_table_and_json_carry_the_baselines(cli, movielens):
    res = cli("fidelity", movielens, "--ratios", "1", "--max-users", "60", "--json")
    report = json.loads(res.out_lines[-1])
    assert set(report["baselines"]["discrimination"]) == {"random", "popularity", "item_knn", "mf"}
    assert report["fallbacks"] == 0 and report["decisions"] > 0
    table = cli("fidelity", movielens, "--ratios", "1", "--max-users", "60").stdout
    for word in ("simulated", "random", "popularity", "item_knn", "mf", "global_mean", "bias", "difference"):
        assert word in table


ML100K = Path(os.environ.get("SIMWORLD_ML100K", "/work/data/ml-100k"))
ML_LATEST_SMALL = Path(os.environ.get("SIMWORLD_ML_LATEST_SMALL", "/work/data/ml-latest-small"))
needs_ml100k = pytest.mark.skipif(not (ML100K / "u.data").is_file(),
                                  reason="MovieLens-100k is not redistributable: set SIMWORLD_ML100K to a copy")


@pytest.fixture(scope="module")
def ml100k_report():
    return fidelity(ML100K, seed=1)


@needs_ml100k
@pytest.mark.slow
def test_fitted_viewers_beat_every_baseline_on_movielens_100k(ml100k_report):
    # Measured with the defaults chosen inside the training ratings (selection.py), seed 1: accuracy
    # 0.795 at 1:1 against 0.768 for MF, the best baseline (seeds 2-3: 0.792, 0.794); F1 0.484 at 1:9
    # against 0.422; rating JS 0.028 (seeds 2-3: 0.030, 0.031; bias predictor 0.351), mean 3.39 against
    # 3.33 real; the rating model's RMSE 0.963 against 0.990 for biases. These bounds check that nothing
    # regresses (the JS bound is the goal); they were not used to choose anything.
    r = ml100k_report
    assert r["users"] == 943 and r["ratings"] == 100_000
    v = r["versus_best_baseline"]
    assert r["discrimination"]["1"]["accuracy"] >= 0.78 and v["1"]["accuracy_gain"] >= 0.015
    assert r["discrimination"]["9"]["f1"] >= 0.45 and v["9"]["f1_gain"] >= 0.03
    for m in ("2", "3"):
        assert v[m]["accuracy_gain"] > 0 and v[m]["f1_gain"] > 0
    assert r["rating_distribution"]["js_distance"] <= 0.05
    assert abs(r["rating_mean"]["simulated"] - r["rating_mean"]["real"]) < 0.2
    assert r["rating_model"]["rmse"] < r["baselines"]["rating"]["bias"]["rmse"]
    assert r["rmse"] < r["baselines"]["rating"]["global_mean"]["rmse"]


@needs_ml100k
@pytest.mark.slow
def test_movielens_100k_as_a_latest_csv_folder_gives_the_same_report(ml100k_report, tmp_path):
    pytest.importorskip("pandas")
    from simworld.scenarios.recommender.csvdata import write_csv
    from simworld.scenarios.recommender.movielens import load_movielens

    folder = write_csv(tmp_path / "ml-latest", *load_movielens(ML100K), "latest")
    assert fidelity(folder, seed=1) == ml100k_report


@pytest.mark.skipif(not (ML_LATEST_SMALL / "ratings.csv").is_file(),
                    reason="MovieLens is not redistributable: set SIMWORLD_ML_LATEST_SMALL to a copy of ml-latest-small")
@pytest.mark.slow
def test_the_same_defaults_hold_on_movielens_latest_small():
    # A release the defaults were not chosen on (610 users, 9,742 items, half stars, 1996-2018). Measured,
    # seed 1 (about 60 s, 4 GB): accuracy 0.790 at 1:1 against 0.750 for MF, the best baseline; F1 0.517
    # at 1:9 against 0.483; stars on the half-star scale with JS 0.048 to the real histogram, mean 3.52
    # against 3.45; the rating model's RMSE 0.876 against 0.896 for biases. Bounds: every ratio above the
    # best baseline, the goals' JS with a margin for a release nobody tuned on.
    pytest.importorskip("pandas")
    r = fidelity(ML_LATEST_SMALL, seed=1)
    assert r["users"] == 610 and r["items"] == 9742
    v = r["versus_best_baseline"]
    assert r["discrimination"]["1"]["accuracy"] >= 0.77 and v["1"]["accuracy_gain"] >= 0.02
    assert r["discrimination"]["9"]["f1"] >= 0.45
    assert all(v[m]["accuracy_gain"] > 0 and v[m]["f1_gain"] > 0 for m in ("1", "2", "3", "9"))
    d = r["rating_distribution"]
    assert d["levels"] == [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5] and d["js_distance"] <= 0.06
    assert r["rating_model"]["rmse"] < r["baselines"]["rating"]["bias"]["rmse"]
