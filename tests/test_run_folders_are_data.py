"""A run folder someone sends you is data: analysing it never runs code it names; signals while a run
finishes never leave it half-written; hostile config values are one line and exit 2, nothing written."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from conftest import start_cli

import simworld as sw

HERE = Path(__file__).resolve().parent

#: Six levels of nine-fold aliases: a few hundred bytes that expand to half a million strings.
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}' if prev else 'x'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", "f"])
)


def test_analyze_never_imports_the_file_a_manifest_names(tmp_path, cli_inproc):
    run = sw.run("auction", seed=1, out=tmp_path, overrides={"n_items": 1}).path
    payload = tmp_path / "payload.py"
    marker = tmp_path / "pwned"
    payload.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
                       "import simworld as sw\nclass Evil(sw.Scenario):\n    name = 'evil'\n")
    manifest = json.loads((run / "manifest.json").read_text())
    for name, ref in (("evil", str(payload)), ("auction", str(payload)), ("evil", "auction")):
        manifest.update(scenario=name, scenario_ref=ref)
        (run / "manifest.json").write_text(json.dumps(manifest))
        res = cli_inproc("analyze", run, "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.out_lines[-1])["recomputed"] is False
        assert not marker.exists()
    # the user may pass the file explicitly: then (and only then) it is imported (this one cannot read the
    # auction's config, which is one line and exit 2)
    res = cli_inproc("analyze", run, "--json", "--scenario", payload)
    assert marker.exists() and res.returncode == 2 and len(res.err_lines) == 1


@pytest.mark.timeout(90)
@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGTERM, signal.SIGINT)])
def test_signals_while_a_run_finishes_leave_it_completed(tmp_path, signals):
    proc = start_cli("run", HERE / "slow_metrics_scenario.py", "--out", tmp_path / "runs", "--run-id", "fin",
                     "--set", "metrics_s=2", cwd=tmp_path)
    marker = tmp_path / "runs" / "finishing.marker"
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate()
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.1)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    log = sw.load_run(tmp_path / "runs" / "fin")
    assert log.status == "completed" and log.metrics == {"events": 5}
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--seed", str(2**64)], "--seed"),
        (["--set", "n_bidders=" + "1" * 5000], "digits"),
        (["--set", "n_bidders=true"], "not true or false"),
        (["--set", "population=" + "[" * 3000 + "]" * 3000], "nested"),
    ],
)
def test_hostile_values_are_one_line_and_write_nothing(cli_inproc, tmp_path, args, says):
    res = cli_inproc("run", "auction", "--out", tmp_path / "runs", *args)
    assert res.returncode == 2 and says in res.stderr
    assert len(res.err_lines) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "runs").exists()


def test_a_seed_beyond_64_bits_in_a_config_file_is_refused(cli_inproc, write, tmp_path):
    res = cli_inproc("run", write("c.yaml", f"scenario: auction\nseed: {2**64}\n"), "--out", tmp_path / "runs")
    assert res.returncode == 2 and "c.yaml: seed" in res.stderr and not (tmp_path / "runs").exists()


def test_input_files_that_are_not_text_or_not_files_are_one_line(cli_inproc, tmp_path, write):
    binary = tmp_path / "people.yaml"
    binary.write_bytes(b"personas:\n  - id: a\n    name: \xff\xfe\n")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    bomb = write("bomb.yaml", BOMB)
    cases = [
        (["validate", write("c1.yaml", f"scenario: auction\npersonas: {binary}\n")], "not UTF-8"),
        (["validate", write("c2.yaml", f"scenario: auction\npersonas: {folder}\n")], "is a folder"),
        (["validate", write("c3.yaml", f"scenario: auction\nitems: {folder}\n")], "is a folder"),
        (["validate", folder], "folder"),
        (["validate", binary], "not UTF-8"),
        (["validate", bomb], "alias bomb"),
        (["run", bomb], "alias bomb"),
        (["validate", write("c4.yaml", "scenario: auction\npersonas: people.yaml\n")], "not UTF-8"),
    ]
    for args, says in cases:
        res = cli_inproc(*args)
        assert res.returncode == 2, (args, res.stderr)
        assert says in res.stderr and len(res.err_lines) == 1, (args, res.stderr)


def test_a_persona_file_that_is_an_alias_bomb_is_refused_but_plain_reuse_is_fine(tmp_path):
    from simworld.agents import load_personas

    path = tmp_path / "p.yaml"
    path.write_text("traits: &t {openness: 0.9}\npersonas:\n  - {id: a, name: A, big_five: *t}\n"
                    "  - {id: b, name: B, big_five: *t}\n")  # what yaml.dump writes for shared objects
    assert [p.big_five.openness for p in load_personas(path)] == [0.9, 0.9]
    path.write_text(BOMB + "personas:\n  - {id: a, name: A, interests: *f}\n")  # 300 bytes -> 500,000 strings
    with pytest.raises(sw.BadInput, match="alias bomb"):
        load_personas(path)


def test_a_run_killed_while_settling_its_manifest_reads_as_incomplete(tmp_path, cli_inproc):
    """SIGKILL after the log's run.finished but before the final manifest: the manifest still says running
    (the final one is written to a temporary file and renamed, so it is never half-written)."""
    run = sw.run("auction", seed=1, out=tmp_path, overrides={"n_items": 1}).path
    assert not list(run.glob("*.tmp"))
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert sw.load_run(run).status == "incomplete"
    res = cli_inproc("analyze", run, "--json")
    assert json.loads(res.out_lines[-1])["status"] == "incomplete"
    lines = (run / "events.jsonl").read_bytes().splitlines(keepends=True)
    (run / "events.jsonl").write_bytes(b"".join(lines[:-1]))  # killed before run.finished: still running
    assert sw.load_run(run).status == "running"


def test_a_scenario_file_that_runs_itself_on_import_is_refused_not_run(cli_inproc, tmp_path, write):
    """`simworld run game.py` imports the file to find its scenario: a module-level sw.run(...) (no
    `if __name__ == "__main__"` guard) would start a second run as a side effect; it is refused instead."""
    game = write("game.py", "import simworld as sw\n\nclass Game(sw.Scenario):\n    name = 'game'\n\n"
                            f"sw.run(Game, out={str(tmp_path / 'side')!r})\n")
    for args in (["run", game, "--out", tmp_path / "runs"], ["validate", write("c.yaml", "scenario: game.py\n")]):
        res = cli_inproc(*args)
        assert res.returncode == 2 and "__main__" in res.stderr and len(res.err_lines) == 1, res.stderr
    assert not (tmp_path / "side").exists() and not (tmp_path / "runs").exists()
    guarded = write("ok.py", game.read_text().replace("sw.run(", "if __name__ == '__main__':\n    sw.run("))
    assert cli_inproc("run", guarded, "--out", tmp_path / "runs", "-q").returncode == 0
