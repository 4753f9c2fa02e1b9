"""Bad input found in review: each exits 2 with one line and writes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import simworld as sw


def cli(tmp_path, *args):
    proc = subprocess.run([sys.executable, "-m", "simworld", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, check=False)
    return proc


def one_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("args,expected", [
    (["auction", "--set", "reaction=inf"], "finite"),
    (["auction", "--set", "population.age.mean=nan"], "population.age.mean"),
    (["debate", "--set", "break_time=inf"], "break_time"),
    (["debate", "--set", "small_world_k=1"], "small_world_k"),
    (["auction", "--seed", "-1"], "--seed"),
])
def test_non_finite_and_out_of_range_values_are_refused_before_anything_is_written(tmp_path, args, expected):
    line = one_line(cli(tmp_path, "run", *args, "--out", "runs", "-q"))
    assert expected in line
    assert not (tmp_path / "runs").exists()


def test_malformed_network_file_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "edges.txt").write_text("a b\nc\n")
    line = one_line(cli(tmp_path, "run", "debate", "--set", "network=file", "--set", "network_file=edges.txt",
                        "--out", "runs", "-q"))
    assert "edges.txt" in line and "edges" in line
    assert not (tmp_path / "runs").exists()


def test_negative_seed_from_python_is_bad_input(tmp_path):
    with pytest.raises(sw.BadInput, match="from 0 to"):
        sw.run("auction", seed=-3, out=tmp_path)


def test_analyze_on_damaged_run_directories_gives_one_line(tmp_path):
    good = sw.run("auction", seed=1, out=tmp_path / "runs", overrides={"n_items": 1}).path
    cases = {
        "extra_line": lambda d: (d / "events.jsonl").open("a").write('{"seq": 99}\n'),
        "bad_config": lambda d: (d / "manifest.json").write_text(
            json.dumps({**json.loads((d / "manifest.json").read_text()), "config": {"n_bidders": "many"}})),
        "list_manifest": lambda d: (d / "manifest.json").write_text("[1]"),
    }
    for name, damage in cases.items():
        copy = tmp_path / name
        shutil.copytree(good, copy)
        damage(copy)
        line = one_line(cli(tmp_path, "analyze", str(copy)))
        assert str(copy) in line, (name, line)
