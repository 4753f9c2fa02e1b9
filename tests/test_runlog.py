"""The run directory and its reader: truncation, corruption, filters, pandas, crashes, event schema."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from conftest import kill, start_cli, wait_for_events

import simworld as sw
from simworld.errors import BadInput
from simworld.events import CORE, Event, typed_data

CORE_KINDS = {model.kind: model for model in CORE}
from simworld.runlog import EVENTS, MANIFEST, METRICS, RunWriter, load_run


def raw_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / EVENTS).read_text().splitlines()]


# -- the shape of a finished run -----------------------------------------------------------------------

def test_finished_run_directory(auction_run):
    log = sw.load_run(auction_run)
    m = log.manifest
    assert log.status == "completed" and m["run_id"] == "english" and m["scenario"] == "auction"
    assert m["seed"] == 11 and m["config"]["n_bidders"] == 4 and m["config"]["format"] == "english"
    assert m["started_at"] <= m["finished_at"]
    assert m["versions"]["simworld"] == sw.__version__
    lines = raw_lines(auction_run)
    assert m["event_counts"] == dict(Counter(e["kind"] for e in lines))
    assert log.metrics == json.loads((auction_run / METRICS).read_text())
    assert log.metrics["lots"] == 3
    assert not log.truncated
    assert log.config == m["config"]


@pytest.fixture(scope="module")
def attentive_run(tmp_path_factory) -> Path:
    """A first-price run where bidders take in one observation per instant (so some are missed)."""
    out = tmp_path_factory.mktemp("attn")
    return sw.run(
        "auction", seed=4, out=out,
        overrides={"format": "first_price", "n_bidders": 5, "n_items": 3, "population.attention": 1,
                   "strategy": {"profiler": 0.6, "equilibrium": 0.4}},
    ).path


@pytest.mark.parametrize("which", ["auction_run", "attentive_run"])
def test_every_line_is_a_valid_event_and_core_kinds_are_typed(which, request):
    run = request.getfixturevalue(which)
    lines = (run / EVENTS).read_bytes().split(b"\n")
    assert lines[-1] == b""  # the file ends with a newline
    events = [Event.model_validate_json(line) for line in lines[:-1]]
    assert [e.seq for e in events] == list(range(len(events)))  # gapless, in order
    assert all(a.t <= b.t for a, b in itertools.pairwise(events))  # simulated time never goes back
    assert all(c < e.seq for e in events for c in e.causes)  # causes point backwards
    assert events[0].kind == "run.started" and events[-1].kind == "run.finished"
    seen_core = set()
    for e in events:
        payload = typed_data(e)
        if e.kind in CORE_KINDS:
            assert isinstance(payload, CORE_KINDS[e.kind])
            seen_core.add(e.kind)
        else:
            assert payload == e.data
    assert {"run.started", "agent.joined", "agent.acted", "belief.updated", "run.finished"} <= seen_core
    if which == "attentive_run":
        assert "agent.perceived" in seen_core
    # agent.joined carries the full persona
    joined = [typed_data(e) for e in events if e.kind == "agent.joined"]
    assert joined and all(j.persona["roles"]["bidder"]["budget"] > 0 for j in joined)
    # the reader gives back exactly the same events
    assert list(sw.load_run(run).events()) == events


# -- truncated and corrupt logs ------------------------------------------------------------------------

@pytest.mark.parametrize("chop", [2, 17, "half"])
def test_reader_survives_a_truncated_last_line(auction_run, copy_run, chop):
    run = copy_run(auction_run)
    path = run / EVENTS
    data = path.read_bytes()
    lines = data.split(b"\n")[:-1]
    n = len(lines)
    cut = len(lines[-1]) // 2 if chop == "half" else chop
    path.write_bytes(data[: len(data) - 1 - cut])  # drop the newline and `cut` bytes of the last event

    log = load_run(run)
    assert log.truncated  # known as soon as the run is opened
    events = list(log.events())
    assert [e.seq for e in events] == list(range(n - 1))  # every complete event, nothing else
    assert events[-1].model_dump() == json.loads(lines[-2])
    assert log.truncated
    assert len(list(log.iter_raw())) == n - 1
    assert len(log.to_pandas()) == n - 1


def test_a_last_line_without_newline_but_complete_is_not_truncated(auction_run, copy_run):
    run = copy_run(auction_run)
    path = run / EVENTS
    path.write_bytes(path.read_bytes()[:-1])
    log = load_run(run)
    assert not log.truncated
    events = list(log.events())
    assert events[-1].kind == "run.finished"
    assert not log.truncated


def _replace_line(path: Path, lineno: int, text: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[lineno - 1] = text
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    "bad, problem",
    [
        (b'{"seq": 4, "t": 0.0, "kind": "auction.bid"', "not valid JSON"),
        (b"garbage", "not valid JSON"),
        (b"[1, 2, 3]", "an event must be a JSON object"),
    ],
)
def test_corrupt_line_in_the_middle_is_an_error_naming_the_line(auction_run, copy_run, bad, problem):
    run = copy_run(auction_run)
    _replace_line(run / EVENTS, 5, bad)
    log = load_run(run)
    assert not log.truncated
    with pytest.raises(BadInput) as info:
        list(log.events())
    err = info.value
    assert err.source == str(run / EVENTS) and err.field == "line 5" and problem in err.problem
    # events before the bad line were handed out before the error
    got = []
    with pytest.raises(BadInput):
        for e in log.events():
            got.append(e.seq)
    assert got == [0, 1, 2, 3]


def test_corrupt_last_complete_line_is_an_error(auction_run, copy_run):
    """A bad last line that does end in a newline was written whole: that is corruption, not a crash."""
    run = copy_run(auction_run)
    n = len(raw_lines(run))
    _replace_line(run / EVENTS, n, b'{"seq": 1, "t"')
    with pytest.raises(BadInput) as info:
        list(load_run(run).iter_raw())
    assert info.value.field == f"line {n}"


def test_line_that_breaks_the_event_schema_names_the_line(auction_run, copy_run):
    run = copy_run(auction_run)
    _replace_line(run / EVENTS, 3, b'{"seq": -2, "t": 0, "kind": "x", "data": {}}')
    with pytest.raises(BadInput) as info:
        list(load_run(run).events())
    assert info.value.field.startswith("line 3")
    assert "seq" in info.value.problem


def test_a_line_without_a_kind_is_a_corrupt_line_even_under_a_kind_filter(auction_run, copy_run):
    run = copy_run(auction_run)
    _replace_line(run / EVENTS, 3, b'{"seq": 2, "t": 0}')
    with pytest.raises(BadInput) as info:
        list(load_run(run).events(kind="run.started"))
    assert info.value.field == "line 3" and "kind" in info.value.problem


@pytest.mark.parametrize(
    "setup, problem",
    [
        (lambda p: None, "not a run directory (no such folder)"),
        (lambda p: (p.mkdir(), (p / EVENTS).write_text("")), f"no {MANIFEST}"),
        (lambda p: (p.mkdir(), (p / MANIFEST).write_text("{}")), f"no {EVENTS}"),
        (lambda p: (p.mkdir(), (p / MANIFEST).write_text("{oops"), (p / EVENTS).write_text("")), "not valid JSON"),
    ],
)
def test_load_run_rejects_what_is_not_a_run(tmp_path, setup, problem):
    path = tmp_path / "r"
    setup(path)
    with pytest.raises(BadInput, match=problem.replace("(", r"\(").replace(")", r"\)")):
        load_run(path)


def test_corrupt_metrics_json_is_bad_input(auction_run, copy_run):
    run = copy_run(auction_run)
    (run / METRICS).write_text("{")
    with pytest.raises(BadInput) as info:
        _ = load_run(run).metrics
    assert info.value.source == str(run / METRICS)


def test_writer_only_ever_leaves_whole_lines(tmp_path):
    w = RunWriter(tmp_path / "r", {"run_id": "r"}, flush_bytes=100)
    path = tmp_path / "r" / EVENTS
    for i in range(50):
        w.append(orjson.dumps({"seq": i, "t": 0.0, "kind": "k", "data": {"pad": "x" * 13}}), "k")
        data = path.read_bytes()
        assert data == b"" or data.endswith(b"\n")  # whatever reached the OS is whole lines
    assert json.loads((tmp_path / "r" / MANIFEST).read_text())["status"] == "running"
    w.close("completed")
    log = load_run(tmp_path / "r")
    assert [e.seq for e in log.events()] == list(range(50))
    assert log.status == "completed" and log.manifest["event_counts"] == {"k": 50}


# -- filters -------------------------------------------------------------------------------------------

def test_filter_by_kind_exact_and_prefix(auction_run):
    log = load_run(auction_run)
    lines = raw_lines(auction_run)
    sold = list(log.events(kind="auction.sold"))
    assert len(sold) == log.metrics["sold"] >= 1 and all(e.kind == "auction.sold" for e in sold)
    assert [e.seq for e in sold] == [e["seq"] for e in lines if e["kind"] == "auction.sold"]
    auction = list(log.events(kind="auction.*"))
    assert [e.seq for e in auction] == [e["seq"] for e in lines if e["kind"].startswith("auction.")]
    assert {e.kind for e in auction} >= {"auction.opened", "auction.bid", "auction.sold"}
    assert list(log.events(kind="auction")) == []  # exact means exact
    assert list(log.events(kind="auction.so")) == []
    assert [e.kind for e in log.events(kind="run.*")] == ["run.started", "run.finished"]


def test_filter_by_agent_and_witness(auction_run):
    log = load_run(auction_run)
    lines = raw_lines(auction_run)
    bidder = "bidder001"
    mine = list(log.events(agent=bidder))
    assert mine and all(e.agent == bidder for e in mine)
    assert [e.seq for e in mine] == [e["seq"] for e in lines if e["agent"] == bidder]
    seen = list(log.events(witness=bidder))
    assert [e.seq for e in seen] == [e["seq"] for e in lines if bidder in e["witnesses"]]
    assert any(e.agent != bidder for e in seen)  # it also witnessed other bidders' bids
    both = list(log.events(kind="auction.bid", agent=bidder))
    assert [e.seq for e in both] == [e["seq"] for e in lines if e["agent"] == bidder and e["kind"] == "auction.bid"]
    assert list(log.events(agent="nobody")) == []


def test_filter_by_time(auction_run):
    log = load_run(auction_run)
    lines = raw_lines(auction_run)
    times = sorted({e["t"] for e in lines})
    lo, hi = times[len(times) // 3], times[2 * len(times) // 3]
    got = list(log.events(since=lo, until=hi))
    assert [e.seq for e in got] == [e["seq"] for e in lines if lo <= e["t"] <= hi]  # both ends inclusive
    assert got[0].t == lo and got[-1].t == hi
    assert [e.seq for e in log.events(since=hi)] == [e["seq"] for e in lines if e["t"] >= hi]
    assert [e.seq for e in log.events(until=0.0)] == [e["seq"] for e in lines if e["t"] == 0.0]
    assert list(log.events(since=times[-1] + 1)) == []


def test_to_pandas(auction_run):
    log = load_run(auction_run)
    lines = raw_lines(auction_run)
    df = log.to_pandas()
    assert len(df) == len(lines)
    assert list(df.columns[:6]) == ["seq", "t", "kind", "agent", "witnesses", "causes"]
    assert df["seq"].tolist() == list(range(len(lines)))
    assert df["kind"].tolist() == [e["kind"] for e in lines]

    sold = log.to_pandas(kind="auction.sold")
    metrics = log.metrics
    assert len(sold) == metrics["sold"] >= 1 and set(sold["kind"]) == {"auction.sold"}
    assert {"data.item", "data.winner", "data.price", "data.winner_value", "data.true_value"} <= set(sold.columns)
    assert sold["data.price"].sum() == pytest.approx(metrics["revenue_total"])
    assert sold["data.item"].tolist() == [r["item"] for r in metrics["items"] if r["sold"]]

    nested = log.to_pandas(kind="auction.sold", flatten=False)
    assert list(nested.columns) == ["seq", "t", "kind", "agent", "witnesses", "causes", "data"]
    assert nested["data"].iloc[0]["item"] == sold["data.item"].iloc[0]

    empty = log.to_pandas(kind="no.such.kind")
    assert len(empty) == 0 and "kind" in empty.columns


# -- a crash -------------------------------------------------------------------------------------------

def test_sigkill_leaves_a_readable_log(tmp_path):
    proc = start_cli("run", "auction", "--set", "n_bidders=300", "--set", "n_items=2000", "--out", "runs",
                     "--quiet", cwd=tmp_path)
    try:
        run = wait_for_events(tmp_path / "runs", proc, min_bytes=200_000)
        time.sleep(0.3)
        assert proc.poll() is None, "the run ended before it could be killed: make it longer"
    finally:
        kill(proc)
    assert proc.returncode == -9
    log = load_run(run)
    assert log.status == "running"  # nobody got to settle the manifest
    assert "finished_at" not in log.manifest
    events = list(log.events())
    assert len(events) >= 100  # at least 200 kB of whole events (persona records are about 1 kB each)
    assert [e.seq for e in events] == list(range(len(events)))
    assert events[0].kind == "run.started"
    assert "run.finished" not in {e.kind for e in events}
    assert isinstance(log.truncated, bool)
    assert len(log.to_pandas(kind="auction.*")) > 0
    # the analysis still runs on what is there
    from simworld.analysis import analyze_run

    report = analyze_run(run)
    assert report["status"] == "running" and report["matches_metrics_json"] is None
    assert report["event_counts"]["agent.joined"] == sum(e.kind == "agent.joined" for e in events) > 0
