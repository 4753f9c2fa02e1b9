"""The ``simworld`` command line end to end, through subprocesses (cwd = tmp_path, with timeouts)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CLI_TIMEOUT, EXAMPLES, kill, start_cli, wait_for_events

from simworld.events import Event
from simworld.runlog import load_run

PERSONAS_OK = "personas:\n" + "".join(
    f"  - {{id: p{i}, name: P{i}, roles: {{bidder: {{budget: {300000 + 50000 * i}}}}}}}\n" for i in range(4)
)


def one_error_line(res) -> str:
    """Bad input: exit 2, exactly one line on stderr, no traceback; returns that line."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert len(res.err_lines) == 1, res.stderr
    line = res.err_lines[0]
    assert line.startswith("simworld: error: ")
    return line


def test_list_shows_the_auction(cli):
    res = cli("list")
    assert res.returncode == 0, res.stderr
    assert "auction" in res.stdout and "House auctions" in res.stdout


def test_no_arguments_shows_help_and_version_works(cli_inproc):
    res = cli_inproc()
    assert res.returncode == 0 and "Usage: simworld" in res.stdout and "run" in res.stdout
    res = cli_inproc("--version")
    assert res.returncode == 0 and res.stdout.strip() == "simworld, version 0.1.0"


def test_run_prints_the_run_directory_last(cli, tmp_path):
    res = cli("run", "auction", "--seed", "3", "--set", "n_bidders=4", "--out", "out", "--run-id", "r1")
    assert res.returncode == 0, res.stderr
    assert res.out_lines[-1] == str(Path("out") / "r1")
    run = tmp_path / res.out_lines[-1]  # relative to the working directory
    log = load_run(run)
    assert log.status == "completed" and log.manifest["seed"] == 3 and log.manifest["config"]["n_bidders"] == 4
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["lots"] >= 3 and metrics["format"] == "english"
    assert "revenue_total" in res.stderr  # the summary table goes to stderr, stdout stays machine-readable
    assert not (tmp_path / "runs").exists()


def test_run_quiet_prints_only_the_path_and_defaults_to_runs(cli, tmp_path):
    res = cli("run", "auction", "--quiet")
    assert res.returncode == 0, res.stderr
    assert len(res.out_lines) == 1 and res.stderr == ""
    path = tmp_path / res.out_lines[0]
    assert path.parent == tmp_path / "runs" and path.name.startswith("auction-s0-")
    assert load_run(path).status == "completed"


def test_run_from_a_yaml_config(cli, tmp_path, write):
    write("people/bidders.yaml", PERSONAS_OK)
    write("conf/auction.yaml", "scenario: auction\nseed: 21\nformat: second_price\npersonas: ../people/bidders.yaml\n")
    res = cli("run", "conf/auction.yaml", "--set", "n_items=2", "-q")
    assert res.returncode == 0, res.stderr
    log = load_run(tmp_path / res.out_lines[-1])
    assert log.manifest["seed"] == 21 and log.config["format"] == "second_price" and log.config["n_items"] == 2
    assert sorted(e.agent for e in log.events(kind="agent.joined")) == ["p0", "p1", "p2", "p3"]


def test_validate_a_good_config(cli, tmp_path, write):
    write("bidders.yaml", PERSONAS_OK)
    write("c.yaml", "scenario: auction\nseed: 5\nn_bidders: 3\npersonas: bidders.yaml\n")
    res = cli("validate", "c.yaml")
    assert res.returncode == 0, res.stderr
    assert res.out_lines == ["ok: c.yaml (scenario auction, seed 5)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bidders.yaml", "c.yaml"]  # nothing written


def test_validate_checks_the_files_a_config_names(cli, write):
    write("c.yaml", "scenario: auction\nn_bidders: 9\npersonas: bidders.yaml\n")
    write("bidders.yaml", PERSONAS_OK)
    line = one_error_line(cli("validate", "c.yaml"))
    assert "bidders.yaml" in line and "holds 4 personas but n_bidders is 9" in line


# -- bad input: exit 2, one line naming the file and the field ----------------------------------------

#: Bad input the issue names: each runs as a real subprocess.
BAD_INPUTS = {
    "malformed yaml": (
        {"c.yaml": "scenario: auction\nn_bidders: [1, 2\n"}, ["run", "c.yaml"], ["c.yaml", "line 3", "malformed YAML"]),
    "unknown scenario": ({}, ["run", "nope"], ["nope", "unknown scenario", "auction"]),
    "unknown --set key": ({}, ["run", "auction", "--set", "nbidders=3"], ["--set nbidders=3", "unknown field 'nbidders'"]),
    "wrongly typed value": (
        {}, ["run", "auction", "--set", "n_bidders=abc"], ["--set n_bidders=abc", "n_bidders", "valid integer"]),
    "persona missing name": (
        {"p.yaml": "personas:\n  - id: a\n    roles: {bidder: {budget: 5}}\n"},
        ["run", "auction", "--set", "personas=p.yaml"], ["p.yaml", "personas[0] (id 'a').name", "Field required"]),
    "persona missing budget": (
        {"p.jsonl": '{"id": "a", "name": "A", "roles": {"bidder": {}}}\n'},
        ["run", "auction", "--set", "personas=p.jsonl"], ["p.jsonl", "line 1 (id 'a').roles.bidder.budget", "Field required"]),
    "persona file missing": (
        {}, ["run", "auction", "--set", "personas=nowhere.yaml"], ["nowhere.yaml", "no such file"]),
    "config names an unknown scenario": ({"c.yaml": "scenario: nope\n"}, ["run", "c.yaml"], ["nope", "unknown scenario"]),
    "scenario file that fails to import": (
        {"s.py": "import simworld\nimport no_such_module_here\n"}, ["run", "s.py"],
        ["s.py: line 2", "failed to import", "no_such_module_here"]),
}

#: More bad input, through ``simworld.cli.main`` in this process (the same code path minus the process start).
MORE_BAD_INPUTS = {
    "malformed yaml (validate)": (
        {"c.yaml": "scenario: auction\n  format: dutch\n"}, ["validate", "c.yaml"], ["c.yaml: line 2", "malformed YAML"]),
    "unknown nested --set key": (
        {}, ["run", "auction", "--set", "population.incom.median=3"], ["unknown field 'population.incom'", "income"]),
    "value out of range": ({}, ["run", "auction", "--set", "n_bidders=0"], ["n_bidders", "greater than or equal to 1"]),
    "bad choice": ({}, ["run", "auction", "--set", "format=vickrey"], ["format", "'vickrey'"]),
    "persona file malformed": (
        {"p.json": '[{"id": "a",\n "name": }]'}, ["run", "auction", "--set", "personas=p.json"], ["p.json", "line 2"]),
    "config without scenario": ({"c.yaml": "n_bidders: 3\n"}, ["validate", "c.yaml"], ["c.yaml", "scenario"]),
    "config file missing": ({}, ["run", "missing.yaml"], ["missing.yaml", "no such file"]),
    "config with a bad value": (
        {"c.yaml": "scenario: auction\nstrategy: greedy\n"}, ["run", "c.yaml"], ["c.yaml: strategy", "unknown strategy"]),
    "bad --seed": ({}, ["run", "auction", "--seed", "x"], ["--seed", "not a valid integer"]),
    "--set without =": ({}, ["run", "auction", "--set", "n_bidders"], ["--set", "expected key.path=value"]),
    "unknown command": ({}, ["frobnicate"], ["No such command 'frobnicate'"]),
    "scenario file missing": ({}, ["run", "nothere.py"], ["nothere.py", "no such file"]),
    "scenario file with a syntax error": (
        {"s.py": "import simworld as sw\n\nclass S(sw.Scenario:\n    pass\n"}, ["run", "s.py"], ["s.py: line 3", "syntax error"]),
    "scenario file without a scenario": ({"s.py": "x = 1\n"}, ["run", "s.py"], ["s.py", "no subclass of simworld.Scenario"]),
    "analyze a missing run": ({}, ["analyze", "no_run"], ["no_run", "not a run directory"]),
    "analyze a folder that is no run": ({"d/x.txt": ""}, ["analyze", "d"], ["d: not a run directory (no manifest.json)"]),
    "--run-id that leaves --out": ({}, ["run", "auction", "--run-id", "../elsewhere"], ["--run-id", "plain folder name"]),
    "--out that cannot be created": (
        {"blocker": "a file"}, ["run", "auction", "--out", "blocker/runs"], ["blocker", "cannot create the run directory"]),
}


@pytest.mark.parametrize("files, args, expected", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_exits_2_with_one_line(cli, write, tmp_path, files, args, expected):
    for name, text in files.items():
        write(name, text)
    line = one_error_line(cli(*args))
    for part in expected:
        assert part in line, (part, line)
    assert not (tmp_path / "runs").exists()  # bad input is caught before anything is written


@pytest.mark.parametrize("files, args, expected", MORE_BAD_INPUTS.values(), ids=MORE_BAD_INPUTS.keys())
def test_more_bad_input_exits_2_with_one_line(cli_inproc, write, tmp_path, files, args, expected):
    for name, text in files.items():
        write(name, text)
    line = one_error_line(cli_inproc(*args))
    for part in expected:
        assert part in line, (part, line)
    assert not (tmp_path / "runs").exists()


def test_unknown_scenario_in_a_config_names_the_file_and_field(cli_inproc, write):
    write("c.yaml", "scenario: nope\n")
    line = one_error_line(cli_inproc("run", "c.yaml"))
    assert line.startswith("simworld: error: c.yaml: scenario: ") and "nope" in line and "unknown scenario" in line
    write("d.yaml", "scenario: missing_file.py\n")
    line = one_error_line(cli_inproc("validate", "d.yaml"))
    assert line.startswith("simworld: error: d.yaml: scenario: ") and "missing_file.py: no such file" in line


def test_existing_run_directory_is_not_overwritten(cli_inproc, tmp_path):
    assert cli_inproc("run", "auction", "-q", "--run-id", "same").returncode == 0
    before = (tmp_path / "runs" / "same" / "events.jsonl").read_bytes()
    line = one_error_line(cli_inproc("run", "auction", "-q", "--run-id", "same", "--seed", "9"))
    assert "already exists" in line
    assert (tmp_path / "runs" / "same" / "events.jsonl").read_bytes() == before


# -- analyze -------------------------------------------------------------------------------------------

def test_analyze_json_recomputes_the_metrics(cli, cli_inproc, tmp_path):
    run_dir = cli_inproc("run", "auction", "--seed", "2", "--set", "format=first_price", "-q").out_lines[-1]
    res = cli("analyze", run_dir, "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.out_lines[-1])
    stored = json.loads((tmp_path / run_dir / "metrics.json").read_text())
    assert report["metrics"] == stored
    assert report["matches_metrics_json"] is True
    assert report["scenario"] == "auction" and report["status"] == "completed" and report["truncated"] is False
    kinds = [json.loads(line)["kind"] for line in (tmp_path / run_dir / "events.jsonl").read_text().splitlines()]
    assert report["event_counts"] == {k: kinds.count(k) for k in sorted(set(kinds))}
    # the table form exits 0 too
    res = cli_inproc("analyze", run_dir)
    assert res.returncode == 0 and "revenue_total" in res.stdout  # the table is the answer: on stdout


# -- a user scenario from a Python file ----------------------------------------------------------------

def test_user_scenario_from_a_python_file(cli, tmp_path):
    example = EXAMPLES / "coin_game.py"
    res = cli("run", example, "--seed", "4", "--set", "rounds=6", "--set", "n_players=3", "--set", "p_heads=1",
              "--run-id", "coins", "-q")
    assert res.returncode == 0, res.stderr
    run = tmp_path / res.out_lines[-1]
    log = load_run(run)
    assert log.manifest["scenario"] == "coin_game" and log.manifest["scenario_ref"] == str(example)
    metrics = log.metrics
    assert metrics["players"] == 3 and metrics["rounds"] == 6
    assert metrics["heads_share"] == 1.0  # the coin always lands heads
    bets = list(log.events(kind="coin.bet"))
    assert len(bets) == sum(1 for e in log.events(kind="agent.acted"))
    assert all(e.data["stake"] >= 0 for e in bets)
    # wealth in the metrics is what the log says, and gains match the calls
    settled = {e.agent: e.data["wealth"] for e in log.events(kind="coin.settled")}
    assert metrics["final_wealth"] == dict(sorted(settled.items()))
    # analyze recomputes the metrics only with the scenario file passed explicitly ...
    res = cli("analyze", str(run), "--json", "--scenario", example)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.out_lines[-1])
    assert report["recomputed"] is True and report["matches_metrics_json"] is True
    # ... without it, the run folder's manifest naming the file is not enough: stored metrics and a note
    res = cli("analyze", str(run), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.out_lines[-1])
    assert report["recomputed"] is False and report["metrics"] == metrics and "--scenario" in res.stderr


def test_user_scenario_named_in_a_config_with_personas(cli, cli_inproc, tmp_path, write):
    import shutil

    shutil.copy(EXAMPLES / "coin_game.py", tmp_path / "coin_game.py")
    write("players.yaml", "personas:\n  - {id: ann, name: Ann, roles: {gambler: {wealth: 50, boldness: 0.5}}}\n"
                          "  - {id: ben, name: Ben}\n")
    write("c.yaml", "scenario: coin_game.py\nseed: 1\nn_players: 2\nrounds: 3\npersonas: players.yaml\n")
    assert cli_inproc("validate", "c.yaml").returncode == 0
    res = cli("run", "c.yaml", "-q")
    assert res.returncode == 0, res.stderr
    log = load_run(tmp_path / res.out_lines[-1])
    assert log.metrics["wealth_start"] == 150.0  # Ann brings 50, Ben the default 100
    first_ann_bet = next(log.events(kind="coin.bet", agent="ann"))
    assert first_ann_bet.data["stake"] == 25.0  # boldness 0.5 of 50
    # a persona file that breaks the scenario's own role is reported like any other
    write("bad.yaml", "personas:\n  - {id: ann, name: Ann, roles: {gambler: {wealth: -1}}}\n")
    line = one_error_line(cli_inproc("run", "c.yaml", "--set", "personas=bad.yaml", "--set", "n_players=1"))
    assert "bad.yaml: personas[0] (id 'ann').roles.gambler.wealth" in line


FAILING_SCENARIO = '''
import simworld as sw


class Boom(sw.Scenario):
    """Fails half-way through."""

    name = "boom"

    def processes(self, world):
        def proc():
            world.emit("boom.tick", {"n": 1})
            yield world.timeout(5)
            raise RuntimeError("the reactor melted")
        return [proc()]
'''


def test_a_failing_run_exits_1_and_keeps_its_log(cli, tmp_path, write):
    write("boom.py", FAILING_SCENARIO)
    res = cli("run", "boom.py", "--run-id", "b", "-q")
    assert res.returncode == 1
    assert len(res.err_lines) == 1 and "Traceback" not in res.stderr
    assert "RuntimeError: the reactor melted" in res.err_lines[0]
    log = load_run(tmp_path / "runs" / "b")
    assert log.status == "failed"
    assert "the reactor melted" in log.manifest["reason"] and "Traceback" in log.manifest["traceback"]
    kinds = [e.kind for e in log.events()]
    assert kinds == ["run.started", "boom.tick", "run.finished"]
    last = list(log.events())[-1]
    assert last.data["status"] == "failed" and last.t == 5.0


# -- signals -------------------------------------------------------------------------------------------

LONG_RUN = ["run", "auction", "--set", "n_bidders=300", "--set", "n_items=2000", "--out", "runs"]


def test_ctrl_c_leaves_a_valid_interrupted_run(tmp_path):
    proc = start_cli(*LONG_RUN, cwd=tmp_path)
    try:
        run = wait_for_events(tmp_path / "runs", proc)
        time.sleep(0.3)
        assert proc.poll() is None, "the run ended before it could be interrupted: make it longer"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
    finally:
        kill(proc)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"simworld: error: interrupted; partial run kept in {Path('runs') / run.name}"
    ]
    assert out.strip().splitlines()[-1] == str(Path("runs") / run.name)
    log = load_run(run)
    assert log.status == "interrupted"
    lines = (run / "events.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""  # ends in a newline: nothing was cut off
    events = [Event.model_validate_json(line) for line in lines[:-1]]
    assert [e.seq for e in events] == list(range(len(events)))
    assert events[-1].kind == "run.finished" and events[-1].data["status"] == "interrupted"
    assert sum(e.kind == "run.finished" for e in events) == 1
    assert not log.truncated
    assert log.manifest["event_counts"]["agent.joined"] == 300
    assert (run / "metrics.json").exists()  # metrics of the part that ran


# -- import stays light --------------------------------------------------------------------------------

def test_import_simworld_is_light(tmp_path):
    code = (
        "import sys, json, simworld\n"
        "sw = simworld\n"
        "assert sw.__version__\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    heavy = {"torch", "chromadb", "langgraph", "langchain", "langchain_core", "transformers", "sentence_transformers",
             "pandas", "scipy", "simpy", "ray", "llama_cpp"}
    assert not heavy & loaded, heavy & loaded
    assert not {m for m in loaded if m.startswith(("simworld.scenarios", "simworld.agents", "simworld.memory",
                                                   "simworld.analysis", "simworld.world", "simworld.cli"))}


def test_user_scenario_through_the_python_api(tmp_path):
    """The same example class through ``sw.run``: deterministic, and its metrics come from the log alone."""
    import simworld as sw
    from simworld.registry import load_file

    CoinGame = load_file(EXAMPLES / "coin_game.py")
    a = sw.run(CoinGame, seed=8, out=tmp_path, run_id="a", overrides={"rounds": 5, "n_players": 4})
    b = sw.run(CoinGame, seed=8, out=tmp_path, run_id="b", overrides={"rounds": 5, "n_players": 4})
    c = sw.run(CoinGame, seed=9, out=tmp_path, run_id="c", overrides={"rounds": 5, "n_players": 4})
    assert (a.path / "events.jsonl").read_bytes() == (b.path / "events.jsonl").read_bytes()
    assert (a.path / "events.jsonl").read_bytes() != (c.path / "events.jsonl").read_bytes()
    assert a.metrics == CoinGame().metrics(sw.load_run(a.path))
    assert a.metrics["players"] == 4 and a.metrics["rounds"] == 5
    staked = sum(e.data["stake"] for e in sw.load_run(a.path).events(kind="coin.bet"))
    assert a.metrics["total_staked"] == pytest.approx(staked)
    gains = sum(e.data["delta"] for e in sw.load_run(a.path).events(kind="coin.settled"))
    assert a.metrics["wealth_end"] - a.metrics["wealth_start"] == pytest.approx(gains)


@pytest.mark.parametrize("config", sorted(p.name for p in EXAMPLES.glob("*.yaml") if "scenario:" in p.read_text()))
def test_shipped_example_configs_validate(cli_inproc, config):
    res = cli_inproc("validate", EXAMPLES / config)
    assert res.returncode == 0, res.stderr
    assert res.out_lines[-1].startswith(f"ok: {EXAMPLES / config}")


def test_progress_bar_on_a_terminal(tmp_path):
    """With stderr on a terminal the run draws a progress bar there; stdout still ends with the path."""
    import os
    import pty

    from conftest import cli_env, simworld_cmd

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(simworld_cmd("run", "auction", "--set", "n_items=4", "--run-id", "tty"), cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=cli_env())
        os.close(slave)
        out, _ = proc.communicate(timeout=CLI_TIMEOUT)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert out.decode().splitlines()[-1] == str(Path("runs") / "tty")
    text = shown.decode(errors="replace")
    assert "4/4" in text  # the auction reports lots done / lots in all
    assert f"run directory: {Path('runs') / 'tty'}" in text
