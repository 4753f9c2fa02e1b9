"""The example sweeps in examples/sweeps run as shipped and show what their comments say."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from conftest import EXAMPLES, cli_env

from simworld.sweep import run_sweep


def summary(folder):
    with (folder / "summary.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_the_auction_persona_grid_moves_with_neuroticism_and_not_with_an_irrelevant_attribute(tmp_path):
    out = tmp_path / "auction"
    result = run_sweep(EXAMPLES / "sweeps" / "auction_personas.yaml", out, executor="local", workers=2)
    assert result.status == {"completed": 108}
    rows = summary(out)
    colour = [r for r in rows if r["persona"] == "favourite_colour" and r["diff"] != ""]
    assert colour and all(float(r["diff"]) == 0.0 for r in colour)  # rule brains do not read colours
    # the persona script reports fidelity from the same folder: over the 6 seeds, Dutch revenue rises with
    # the bidders' neuroticism (mean within-seed tau, its bootstrap CI above 0)
    proc = subprocess.run([sys.executable, str(EXAMPLES / "sweeps" / "persona_effects.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env=cli_env(), check=True)
    dutch = proc.stdout.split("dutch:")[1]
    tau_line = next(line for line in dutch.splitlines() if "fidelity" in line)
    low = float(tau_line.split("[")[1].split(",")[0])
    assert low > 0.0
    assert (out / "report.html").is_file()


@pytest.mark.slow
def test_the_recommender_ab_sweep_finds_mf_ahead_of_popular_over_seeds(tmp_path):
    out = tmp_path / "rec"
    result = run_sweep(EXAMPLES / "sweeps" / "recommender_ab.yaml", out, executor="local", workers=2)
    assert result.status == {"completed": 16}
    diffs = [r for r in summary(out) if r["metric"] == "ab.mf_vs_popular.difference"]
    assert [r["position_bias"] for r in diffs] == ["0.85", "0.6"]
    assert all(int(r["n"]) == 8 and float(r["ci_low"]) > 0.05 for r in diffs)  # 8 seeds: mf ahead in both
