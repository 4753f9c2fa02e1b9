"""The replay viewer without a browser: the index, the JSON API, path safety, damaged logs, export."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest
from viewer_runs import XSS_NAME, XSS_TEXT, auction_run, corrupt_copy, get, get_json, served, truncated_copy, xss_run

from simworld.runlog import RunWriter, dumps
from simworld.viewer.index import Query, QueryError, RunIndex
from simworld.viewer.run import RunView
from simworld.viewer.scan import scan


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("viewer-runs")


@pytest.fixture(scope="module")
def auction(runs: Path) -> Path:
    return auction_run(runs)


@pytest.fixture(scope="module")
def raw(auction: Path) -> list[dict]:
    return [orjson.loads(line) for line in (auction / "events.jsonl").read_bytes().splitlines()]


# -- the index ---------------------------------------------------------------------------------------
def test_index_answers_filters_like_a_plain_scan_of_the_log(auction: Path, raw: list[dict]) -> None:
    idx = RunIndex(auction / "events.jsonl")
    assert idx.n == len(raw) and idx.seq_is_row and idx.t_sorted

    def seqs(q: Query) -> list[int]:
        return [e["seq"] for e in idx.events(idx.select(q))]

    bidder = "bidder001"
    assert seqs(Query(kinds=("auction.bid",))) == [e["seq"] for e in raw if e["kind"] == "auction.bid"]
    assert seqs(Query(kinds=("auction.*",))) == [e["seq"] for e in raw if e["kind"].startswith("auction.")]
    assert seqs(Query(agent=bidder)) == [e["seq"] for e in raw if e["agent"] == bidder]
    assert seqs(Query(witness=bidder)) == [e["seq"] for e in raw if bidder in e["witnesses"]]
    assert seqs(Query(involves=bidder)) == [e["seq"] for e in raw if bidder in e["witnesses"] or e["agent"] == bidder]
    assert seqs(Query(t0=60, t1=180)) == [e["seq"] for e in raw if 60 <= e["t"] <= 180]
    assert seqs(Query(seq0=10, seq1=20, kinds=("agent.acted",))) == [
        e["seq"] for e in raw if 10 <= e["seq"] <= 20 and e["kind"] == "agent.acted"
    ]
    assert seqs(Query(seqs=(30, 3, 999))) == [3, 30]
    total, rows = idx.page(Query(kinds=("belief.updated",), desc=True, limit=2, offset=1))
    beliefs = [e["seq"] for e in raw if e["kind"] == "belief.updated"]
    assert total == len(beliefs) and idx.cols.seq[rows].tolist() == beliefs[::-1][1:3]


def test_perceived_leaves_out_what_attention_missed(tmp_path: Path) -> None:
    w = RunWriter(tmp_path / "r", {"run_id": "r"})
    lines = [
        {"seq": 0, "t": 0.0, "kind": "x.a", "agent": None, "witnesses": ["ann", "bob"], "causes": [], "data": {}},
        {"seq": 1, "t": 0.0, "kind": "x.b", "agent": None, "witnesses": ["ann", "bob"], "causes": [], "data": {}},
        {"seq": 2, "t": 0.0, "kind": "agent.perceived", "agent": "ann", "witnesses": [], "causes": [],
         "data": {"missed": [1], "reason": "attention"}},
        {"seq": 3, "t": 1.0, "kind": "x.c", "agent": "bob", "witnesses": ["ann"], "causes": [], "data": {}},
    ]
    for ev in lines:
        w.append(dumps(ev), ev["kind"])
    w.close("completed")
    idx = RunIndex(tmp_path / "r" / "events.jsonl")
    assert idx.cols.seq[idx.perceived_rows("ann")].tolist() == [0, 3]
    assert idx.cols.seq[idx.perceived_rows("bob")].tolist() == [0, 1]
    assert idx.cols.seq[idx.select(Query(perceived="ann", seq1=2))].tolist() == [0]


def test_a_log_out_of_seq_order_is_still_queried_by_seq(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    order = [5, 2, 9, 7]
    path.write_bytes(b"".join(
        dumps({"seq": s, "t": float(i), "kind": "k", "agent": None, "witnesses": [], "causes": [], "data": {}}) + b"\n"
        for i, s in enumerate(order)
    ))
    idx = RunIndex(path)
    assert not idx.seq_is_row
    assert idx.cols.seq[idx.select(Query(seqs=(9, 5, 4)))].tolist() == [5, 9]
    assert idx.cols.seq[idx.select(Query(seq0=6))].tolist() == [9, 7]
    assert idx.row_at_or_before(8) == 3  # the last row (in file order) with seq <= 8


def test_parallel_scan_gives_the_same_columns_as_one_process(auction: Path) -> None:
    one = scan(auction / "events.jsonl", workers=1)
    three = scan(auction / "events.jsonl", workers=3)
    for name in ("offsets", "lengths", "seq", "t"):
        assert np.array_equal(getattr(one, name), getattr(three, name)), name
    assert [one.kinds[k] for k in one.kind] == [three.kinds[k] for k in three.kind]
    names = lambda c, a: None if a < 0 else c.agents[a]
    assert [names(one, a) for a in one.agent] == [names(three, a) for a in three.agent]
    wit = lambda c, w: () if w < 0 else tuple(c.agents[x] for x in c.wsets[w])
    assert [wit(one, w) for w in one.wset] == [wit(three, w) for w in three.wset]


def test_query_parameters_are_checked() -> None:
    q = Query.parse({"kind": "a.b,c.*", "agent": "x", "t1": "5.5", "order": "desc", "limit": "99999"})
    assert q.kinds == ("a.b", "c.*") and q.agent == "x" and q.t1 == 5.5 and q.desc and q.limit == 5000
    for bad in ({"t0": "soon"}, {"order": "sideways"}, {"seqs": "1,x"}, {"t1": "nan"}):
        with pytest.raises(QueryError):
            Query.parse(bad)


# -- the run view ------------------------------------------------------------------------------------
def test_beliefs_are_the_latest_per_rival_and_item_up_to_the_cursor(auction: Path, raw: list[dict]) -> None:
    view = RunView(auction)
    profiler = next(e["agent"] for e in raw if e["kind"] == "belief.updated")
    mine = [e for e in raw if e["kind"] == "belief.updated" and e["agent"] == profiler]
    cut = mine[len(mine) // 2]["seq"]
    res = view.beliefs(profiler, cut)
    expected: dict = {}
    for e in mine:
        if e["seq"] <= cut:
            expected[(e["data"]["about"], e["data"]["item"])] = e["data"]["value"]
    assert res["updates"] == sum(e["seq"] <= cut for e in mine)
    assert {(b["about"], b["extra"]["item"]): b["value"] for b in res["beliefs"]} == expected


def test_memory_at_a_point_comes_from_the_log(auction: Path, raw: list[dict]) -> None:
    view = RunView(auction)
    cut = next(e["seq"] for e in raw if e["kind"] == "auction.sold")
    res = orjson.loads(view.memory("bidder000", cut))
    perceived = [e["seq"] for e in raw if "bidder000" in e["witnesses"] and e["seq"] <= cut]
    assert res["total"] == len(perceived)
    if res["source"] == "rebuild_memory":
        assert sorted(m["seq"] for m in res["items"]) == perceived
    else:
        assert sorted(e["seq"] for e in res["events"]) == perceived


def test_the_auction_run_gets_the_auction_panel(auction: Path) -> None:
    view = RunView(auction)
    assert view.panel.name == "auction" and view.panel.script is not None and view.panel.script.is_file()
    assert view.meta()["panel"] == "auction" and view.warnings == []


def test_a_custom_scenario_panel_is_found_next_to_its_file(tmp_path: Path) -> None:
    from simworld.viewer.panels import resolve_panel

    (tmp_path / "coins.py").write_text("# a user's scenario\n")
    (tmp_path / "coins.panel.js").write_text("simworld.registerPanel('coins', {render() {}});\n")
    info = resolve_panel({"scenario": "coins", "scenario_ref": str(tmp_path / "coins.py")})
    assert info.name == "coins" and info.script == tmp_path / "coins.panel.js"
    assert resolve_panel({"scenario": "x", "scenario_ref": "nowhere.py"}).script is None


# -- the server ----------------------------------------------------------------------------------------
def test_api_serves_pages_of_events_and_meta(auction: Path, raw: list[dict]) -> None:
    with served(auction) as url:
        meta = get_json(url, "/api/meta")
        assert meta["n_events"] == len(raw) and meta["panel"] == "auction"
        assert {a["id"] for a in meta["agents"]} == {e["agent"] for e in raw if e["kind"] == "agent.joined"}
        page = get_json(url, "/api/events?kind=auction.bid&order=desc&limit=2")
        bids = [e for e in raw if e["kind"] == "auction.bid"]
        assert page["total"] == len(bids) and page["events"] == bids[::-1][:2]
        assert get_json(url, "/api/metrics")["metrics"]["lots"] == 3
        status, body = get(url, "/api/events?t0=later")
        assert status == 400 and b"t0 must be a number" in body
        status, body = get(url, "/files/manifest.json")
        assert status == 200 and orjson.loads(body)["scenario"] == "auction"


TRAVERSALS = [
    "/files/../../../../etc/passwd",
    "/files/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/files/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/files/%252e%252e/%252e%252e/etc/passwd",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "/files/..%5c..%5c..%5cetc%5cpasswd",
    "/files/./manifest.json/../../../etc/passwd",
    "/files/escape",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/server.py",
    "/../../../../etc/passwd",
    "/files/events.jsonl%00.txt",
]


def test_requests_outside_the_run_directory_are_refused(tmp_path: Path, auction: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(auction, run)
    os.symlink("/etc/passwd", run / "escape")
    with served(run) as url:
        for path in TRAVERSALS:
            status, body = get(url, path)
            assert status in (403, 404), path
            assert b"root:" not in body and b"import" not in body, path
        assert get(url, "/files/manifest.json")[0] == 200


def test_the_server_is_read_only_and_answers_only_local_host_names(auction: Path) -> None:
    import http.client

    with served(auction) as url:
        host, port = url.split("//")[1].rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/api/meta", body=b"{}")
        assert conn.getresponse().status == 405
        conn.close()
        assert get(url, "/api/meta", {"Host": "attacker.example:80"})[0] == 403
        assert get(url, "/api/meta", {"Host": f"localhost:{port}"})[0] == 200


def test_page_is_served_with_a_strict_content_security_policy(auction: Path) -> None:
    import urllib.request

    with served(auction) as url, urllib.request.urlopen(url) as res:
        csp = res.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert b'<script src="static/js/app.js">' in res.read()


# -- damaged logs ------------------------------------------------------------------------------------
def test_a_truncated_log_is_reported_and_its_complete_events_are_served(tmp_path: Path, auction: Path,
                                                                         raw: list[dict]) -> None:
    view = RunView(truncated_copy(auction, tmp_path))
    assert view.index.n == len(raw) - 1
    assert any("cut-off line" in w for w in view.meta()["warnings"])


def test_a_corrupt_line_is_named_and_skipped(tmp_path: Path, auction: Path, raw: list[dict]) -> None:
    view = RunView(corrupt_copy(auction, tmp_path, line=10))
    assert view.index.n == len(raw) - 1
    (warning,) = view.meta()["warnings"]
    assert "1 corrupt line" in warning and "line 10: not valid JSON" in warning
    assert 9 not in view.index.cols.seq


def test_a_log_that_is_not_json_at_all_still_opens(tmp_path: Path) -> None:
    run = tmp_path / "junk"
    run.mkdir()
    (run / "events.jsonl").write_bytes(b"\x00\xff binary junk\nmore junk\n")
    (run / "manifest.json").write_text("{ not json")
    view = RunView(run)
    meta = view.meta()
    assert meta["n_events"] == 0
    assert any("manifest.json is not valid JSON" in w for w in meta["warnings"])
    assert any("2 corrupt lines" in w for w in meta["warnings"])


# -- the command line and export ------------------------------------------------------------------------
def test_export_inlines_the_data_so_no_log_string_can_end_the_script(tmp_path: Path) -> None:
    from simworld.viewer.export import export_html

    run = xss_run(tmp_path)
    page = export_html(run, tmp_path / "x.html").read_text()
    data = re.search(r'<script type="application/json" id="simworld-data">(.*?)</script>', page, re.DOTALL)
    assert data is not None
    assert "<" not in data.group(1)  # every "<" escaped, so "</script>" in the log cannot close the block
    parsed = orjson.loads(data.group(1))
    names = [e["data"]["persona"]["name"] for e in parsed["events"] if e["kind"] == "agent.joined"]
    assert XSS_NAME in names
    assert any(e["data"].get("text") == XSS_TEXT for e in parsed["events"])
    assert "Content-Security-Policy" in page and "unsafe-inline" not in page


def test_cli_replay_export_and_bad_input(tmp_path: Path, auction: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = tmp_path / "page.html"
    res = subprocess.run([sys.executable, "-m", "simworld", "replay", str(auction), "--export", str(out)],
                         check=False, capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == str(out) and out.stat().st_size > 10_000
    res = subprocess.run([sys.executable, "-m", "simworld", "replay", str(tmp_path / "nope"), "--no-browser"],
                         check=False, capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 2 and "not a run directory" in res.stderr and "Traceback" not in res.stderr


def test_cli_replay_serves_until_interrupted(auction: Path) -> None:
    import signal
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "simworld", "replay", str(auction), "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/meta", timeout=10) as res:
            assert orjson.loads(res.read())["scenario"] == "auction"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "stopped" in err


def test_export_refuses_a_run_too_large_for_one_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     auction: Path) -> None:
    from simworld.errors import BadInput
    from simworld.viewer import export

    monkeypatch.setattr(export, "MAX_EXPORT_BYTES", 1000)
    with pytest.raises(BadInput, match="too large to export"):
        export.export_html(auction, tmp_path / "big.html")
    assert not (tmp_path / "big.html").exists()


def test_index_cache_reopens_a_log_and_notices_a_change(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         auction: Path) -> None:
    import shutil

    from simworld.viewer import cache

    monkeypatch.setenv("SIMWORLD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    run = tmp_path / "run"
    shutil.copytree(auction, run)
    first = RunIndex(run / "events.jsonl", cache=True)
    again = RunIndex(run / "events.jsonl", cache=True)
    assert not first.cached and again.cached
    for name in ("offsets", "lengths", "seq", "t", "kind", "agent", "wset"):
        assert np.array_equal(getattr(first.cols, name), getattr(again.cols, name))
    assert (again.cols.kinds, again.cols.agents, again.cols.wsets) == (first.cols.kinds, first.cols.agents,
                                                                       first.cols.wsets)
    with open(run / "events.jsonl", "ab") as fh:  # the run goes on: the log grows
        fh.write(dumps({"seq": first.n, "t": 999.0, "kind": "x.late", "agent": None, "witnesses": [],
                        "causes": [], "data": {}}) + b"\n")
    grown = RunIndex(run / "events.jsonl", cache=True)
    assert not grown.cached and grown.n == first.n + 1
    monkeypatch.setenv("SIMWORLD_CACHE_DIR", "off")
    assert not RunIndex(run / "events.jsonl", cache=True).cached
