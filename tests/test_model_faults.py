"""The model path against a hostile or failing server: Retry-After floods, Ctrl-C while waiting, echoed
keys, a server that is down, two servers behind one cache, wall-clock facts kept out of the log."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import start_cli
from openai_server import ScriptedServer
from quote_scenario import Quote, answer

import simworld as sw


def model(srv_url: str, tmp_path: Path, **extra: object) -> dict[str, object]:
    return {"brain": "llm", "model": {"base_url": srv_url, "model": "scripted", "api_key_env": None,
                                      "cache_path": str(tmp_path / "cache.sqlite"), **extra}}


def quote(tmp_path: Path, name: str, **overrides: object) -> sw.RunResult:
    """Three model agents, one decision each (tests/quote_scenario.py)."""
    return sw.run(Quote, seed=5, out=tmp_path / name, overrides=overrides)


@pytest.mark.timeout(60)  # a hang guard: obeying the server would take an hour
def test_a_retry_after_of_an_hour_is_not_obeyed_and_the_run_says_everything_fell_back(tmp_path):
    with ScriptedServer(faults={"429": 1}, retry_after=3600) as srv:
        res = quote(tmp_path, "flood", **model(srv.base_url, tmp_path))
        assert srv.requests == 3  # one attempt per decision: no retry after being told to wait an hour
    assert res.status == "completed"
    log = sw.load_run(res.path)
    reasons = [e.data["reason"] for e in log.events(kind="decision.fallback")]
    assert len(reasons) == 3 and all("retry after 3600 s" in r and "max_retry_wait=30" in r for r in reasons)
    assert log.manifest["models"]["llm"]["all_fell_back"]
    assert res.warnings == log.manifest["warnings"] and "all 3 decisions" in res.warnings[0]


@pytest.mark.timeout(60)
def test_one_ctrl_c_stops_a_run_waiting_on_the_server_at_once(tmp_path):
    with ScriptedServer(faults={"429": 1}, retry_after=3600) as srv:
        spec = json.dumps({"base_url": srv.base_url, "model": "scripted", "api_key_env": None,
                           "cache": "off", "timeout": 7200, "max_retry_wait": 7200})
        proc = start_cli("run", Path(__file__).with_name("quote_scenario.py"), "--set", f"model={spec}",
                         "--set", "n=2", "--out", tmp_path / "runs", "--run-id", "wait", cwd=tmp_path)
        deadline = time.monotonic() + 30
        while srv.requests < 2 and time.monotonic() < deadline:  # both bidders asked; now told to wait an hour
            time.sleep(0.05)
        assert srv.requests == 2, proc.communicate()
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2, err
    log = sw.load_run(tmp_path / "runs" / "wait")
    assert log.status == "interrupted"
    assert [e.kind for e in log.events()][-1] == "run.finished"
    assert took < 25  # (a hang guard, not a speed claim: obeying the server would take an hour)


def test_an_api_key_echoed_by_the_server_never_reaches_a_file(tmp_path, monkeypatch):
    secret = "sk-live-0123456789abcdef"
    monkeypatch.setenv("SIMWORLD_TEST_KEY", secret)
    with ScriptedServer(faults={"echo": 1}) as srv:
        res = quote(tmp_path, "echo", **model(srv.base_url, tmp_path, api_key_env="SIMWORLD_TEST_KEY",
                                               cache_failures=True))
        assert srv.requests == 3
    log = sw.load_run(res.path)
    errors = [e.data["error"] for e in log.events(kind="model.call")]
    assert errors and all("[redacted]" in err for err in errors)  # the error is kept, the key is not
    files = [*res.path.rglob("*"), tmp_path / "cache.sqlite"]
    for path in (p for p in files if p.is_file()):
        assert secret.encode() not in path.read_bytes(), path
        assert b"Bearer sk-" not in path.read_bytes(), path


def test_failures_of_a_server_that_was_down_are_not_replayed(tmp_path):
    with ScriptedServer() as probe:
        port = probe.port
    url = f"http://127.0.0.1:{port}/v1"  # nothing listens here now
    down = quote(tmp_path, "down", **model(url, tmp_path, max_retries=0))
    assert down.status == "completed" and down.warnings  # every decision fell back, and the run says so
    rows = sqlite3.connect(tmp_path / "cache.sqlite").execute("SELECT count(*) FROM responses").fetchone()[0]
    assert rows == 0
    with ScriptedServer(responder=answer(1.0), port=port) as srv:  # the server is back, at the same address
        up = quote(tmp_path, "up", **model(url, tmp_path, max_retries=0))
        assert srv.requests == 3
    assert up.warnings == [] and not list(sw.load_run(up.path).events(kind="decision.fallback"))


def test_the_cache_never_answers_for_another_server(tmp_path):
    with ScriptedServer(responder=answer(1.0)) as a, ScriptedServer(responder=answer(2.0)) as b:
        quote(tmp_path, "a", **model(a.base_url, tmp_path))
        res = quote(tmp_path, "b", **model(b.base_url, tmp_path))
        assert a.requests == 3 and b.requests == 3
    amounts = {e.data["action"]["amount"] for e in sw.load_run(res.path).events(kind="agent.acted")}
    assert amounts == {2.0}


def test_two_cold_runs_with_the_same_answers_give_the_same_log(tmp_path):
    with ScriptedServer(responder=answer(3.0), delay=0.01) as srv:
        first = quote(tmp_path, "one", **model(srv.base_url, tmp_path, cache="off"))
    with ScriptedServer(responder=answer(3.0), delay=0.05, port=srv.port) as srv:  # slower: other latencies
        second = quote(tmp_path, "two", **model(srv.base_url, tmp_path, cache="off"))
    assert (first.path / "events.jsonl").read_bytes() == (second.path / "events.jsonl").read_bytes()
    calls = list(sw.load_run(second.path).events(kind="model.call", volatile=True))
    assert calls and all("latency_ms" not in c.data and c.data["volatile"]["latency_ms"] > 0 for c in calls)


def test_the_manifest_counts_every_retry(tmp_path):
    with ScriptedServer(faults={"500": 1}) as srv:  # every request fails
        res = quote(tmp_path, "r", **model(srv.base_url, tmp_path, max_retries=2, cache="off"))
        assert srv.requests == 3 * 3  # three decisions, three attempts each
    usage = sw.load_run(res.path).manifest["models"]["llm"]
    assert usage["retries"] == 3 * 2 and usage["failures"] == 3


def test_cache_dir_off_caches_nothing_and_makes_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMWORLD_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    with ScriptedServer(responder=answer(1.0)) as srv:
        spec = model(srv.base_url, tmp_path)
        spec["model"].pop("cache_path")  # type: ignore[attr-defined]
        res = quote(tmp_path, "nocache", **spec)
    assert not (tmp_path / "off").exists()
    assert "cache" not in sw.load_run(res.path).manifest["models"]["llm"]


def test_model_cache_off_is_accepted_from_yaml_and_set(cli_inproc, write):
    res = cli_inproc("validate", write("c.yaml", "scenario: auction\nmodel:\n  cache: off\n"),
                     "--set", "model.cache=off")
    assert res.returncode == 0, res.stderr


def test_an_unusable_cache_path_is_refused_before_anything_is_written(cli_inproc, tmp_path, write):
    (tmp_path / "taken").mkdir()
    config = write("c.yaml", f"scenario: auction\nbrain: llm\nmodel:\n  cache_path: {tmp_path / 'taken'}\n")
    for command in ("validate", "run"):
        res = cli_inproc(command, config, "--out", tmp_path / "runs") if command == "run" else cli_inproc(command, config)
        assert res.returncode == 2 and "model.cache_path" in res.stderr and "is not a file" in res.stderr
    assert not (tmp_path / "runs").exists()
