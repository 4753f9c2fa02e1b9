"""``simworld sweep --executor ray`` on a real local Ray that the sweep starts (and stops)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("ray")

SWEEP = """\
scenario: auction
set: {n_bidders: 3, n_items: 2}
grid:
  format: [english, dutch]
personas:
  calm: {set: {neuroticism: 0.1, extraversion: 0.2}}
  bold: {set: {neuroticism: 0.9, extraversion: 0.9}}
seeds: 3
control: {persona: calm}
"""


def logs(folder):
    return {p.parent.name: p.read_bytes() for p in sorted((folder / "runs").glob("*/events.jsonl"))}


@pytest.mark.slow
def test_ray_and_the_process_pool_give_identical_logs_and_tables(tmp_path, write, cli_inproc):
    """The issue's 2 x 2 x 3 sweep (one config key, two persona variants, three seeds)."""
    import ray

    spec = write("study.yaml", SWEEP)
    res = cli_inproc("sweep", spec, "--out", "ray", "--executor", "ray", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert not ray.is_initialized()  # the Ray this sweep started is stopped again
    assert cli_inproc("sweep", spec, "--out", "pool", "--workers", "2").returncode == 0
    assert len(logs(tmp_path / "ray")) == 12 and logs(tmp_path / "ray") == logs(tmp_path / "pool")
    for name in ("results.csv", "summary.csv"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes()
    workers = {line.split(",")[3] for line in (tmp_path / "ray" / "timings.csv").read_text().splitlines()[1:]}
    assert workers and all(":" in w for w in workers)  # runs ran in Ray's worker processes


def test_an_unreachable_ray_address_is_one_line_and_writes_nothing(tmp_path, write, cli_inproc):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = write("study.yaml", SWEEP)
    res = cli_inproc("sweep", spec, "--out", "out", "--executor", "ray", "--address", f"127.0.0.1:{port}")
    assert res.returncode == 2 and len(res.stderr.splitlines()) == 1
    assert f"--address: cannot reach a Ray cluster at 127.0.0.1:{port}" in res.stderr
    assert not (tmp_path / "out").exists()
    bad = cli_inproc("sweep", spec, "--out", "out", "--executor", "ray", "--address", "nowhere")
    assert bad.returncode == 2 and "expected host:port" in bad.stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_sweep_joins_an_existing_ray_cluster_at_its_address(tmp_path, write, cli_inproc, monkeypatch):
    """A Ray head started by another process (as a cluster would be); the sweep connects, runs, and leaves
    the cluster up. (Token authentication off for this test cluster: a head started by ``ray.init`` keeps
    its token to itself, while ``ray start`` shares it through ~/.ray.)"""
    import os
    import subprocess
    import sys

    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    head = subprocess.Popen(
        [sys.executable, "-c", ("import ray, sys; ctx = ray.init(num_cpus=2, include_dashboard=False); "
                               "print(ctx.address_info['gcs_address'], flush=True); sys.stdin.read(); ray.shutdown()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ))
    try:
        address = head.stdout.readline().strip()
        spec = write("study.yaml", "scenario: auction\nset: {n_bidders: 3, n_items: 1}\ngrid:\n  format: [english, dutch]\n"
                                   "seeds: 2\n")
        res = cli_inproc("sweep", spec, "--out", "out", "--executor", "ray", "--address", address)
        assert res.returncode == 0, res.stderr
        assert "4 runs: 4 completed" in res.stderr
        assert head.poll() is None  # the cluster is still up
    finally:
        head.communicate("", timeout=60)


@pytest.mark.slow
def test_ctrl_c_stops_a_ray_sweep_and_resume_on_the_pool_finishes_it(tmp_path, write):
    """SIGINT to the sweep's process group mid-sweep; the finished runs stay, --resume (on another executor:
    the folder is the same) runs the rest."""
    import csv

    from conftest import interrupt_sweep

    from simworld.sweep import run_sweep

    spec = write("slow.yaml", "scenario: auction\nset: {n_bidders: 300, n_items: 8}\ngrid:\n  format: [english, dutch]\n"
                              "seeds: 8\n")
    out = tmp_path / "out"
    code, _, err = interrupt_sweep(spec, out, "--executor", "ray", "--workers", "2", wait=90)
    with (out / "results.csv").open() as fh:
        table = list(csv.DictReader(fh))
    done = [r["run_id"] for r in table if r["status"] == "completed"]
    if code == 0:  # the sweep outran the signal on this machine
        assert len(done) == 16
        return
    assert code == 130 and "--resume" in err
    assert 1 <= len(done) < 16 and {r["status"] for r in table} <= {"completed", "interrupted", "pending"}
    result = run_sweep(spec, out, executor="local", workers=2, resume=True)
    assert sorted(result.skipped) == sorted(done) and result.status == {"completed": 16}
