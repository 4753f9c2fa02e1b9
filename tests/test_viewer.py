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
from viewer_runs import (
    SALLY_ANNE,
    XSS_NAME,
    XSS_TEXT,
    auction_run,
    corrupt_copy,
    exported_knowledge,
    get,
    get_json,
    memory_run,
    sally_anne_run,
    served,
    tom_run,
    truncated_copy,
    xss_run,
)

from simworld.errors import BadInput
from simworld.runlog import EventLines, RunWriter, dumps, load_run
from simworld.viewer.index import Query, QueryError, RunIndex
from simworld.viewer.knowledge_view import MAX_LIMIT, KnowledgeQuery
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


# -- the one line reader ---------------------------------------------------------------------------------
MIXED_LOG = [
    b'{"seq": 0, "t": 0.0, "kind": "run.started", "agent": null, "witnesses": [], "data": {}}',
    b"not json at all",
    b"[1, 2, 3]",
    b'{"seq": -1, "t": 0.0, "kind": "x"}',
    b'{"seq": 18446744073709551615, "t": 0.0, "kind": "x"}',
    b'{"seq": 1, "t": true, "kind": "x"}',
    b'{"seq": 1, "t": 1, "kind": "x", "witnesses": ["ann", 7]}',
    b'{"seq": 1, "t": 1, "kind": "x", "agent": 5}',
    b'{"seq": 1, "t": 1}',
    b"",
    b'{"seq": 1, "t": 1, "kind": "x.y", "agent": "ann", "witnesses": ["ann", "bob"], "data": {}}',
    b'{"seq": 2, "t": 2.5, "kind": "x.y", "agent": null, "witnesses": null, "data": {}}',
    b'{"seq": 3, "t": 3.0, "ki',  # cut off by a crash: no newline
]


def test_one_line_reader_is_strict_for_the_run_log_and_lenient_for_the_viewer(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(MIXED_LOG))
    lenient = EventLines(path, strict=False)
    rows = [(line, off, length, seq) for _, line, off, length, seq, *_ in lenient]
    data = path.read_bytes()
    assert [seq for *_, seq in rows] == [0, 1, 2] and [line for line, *_ in rows] == [1, 11, 12]
    assert all(orjson.loads(data[off : off + length])["seq"] == seq for _, off, length, seq in rows)
    assert lenient.truncated and lenient.lines == len(MIXED_LOG) and lenient.n_problems == 8
    assert lenient.problems[0][0] == 2 and lenient.problems[0][1].startswith("not valid JSON (")
    assert lenient.problems[1:] == [
        (3, "an event must be a JSON object"),
        (4, "field 'seq' must be a non-negative 64-bit integer"),
        (5, "field 'seq' must be a non-negative 64-bit integer"),
        (6, "field 't' has the wrong type"),
        (7, "field 'witnesses' must be a list of strings"),
        (8, "field 'agent' must be a string or null"),
        (9, "missing field 'kind'"),
    ]
    with pytest.raises(BadInput) as info:
        list(EventLines(path, strict=True))
    assert info.value.field == "line 2" and "not valid JSON" in info.value.problem
    # the viewer's index and the run log read the same lines as events
    idx = RunIndex(path)
    assert idx.cols.seq.tolist() == [0, 1, 2] and idx.cols.truncated and idx.cols.n_problems == 8
    path.write_bytes(b"\n".join(MIXED_LOG[:1] + MIXED_LOG[10:]))
    (tmp_path / "manifest.json").write_text("{}")
    log = load_run(tmp_path)
    assert [e["seq"] for e in log.iter_raw()] == [0, 1, 2] and log.truncated
    assert RunIndex(path).cols.seq.tolist() == [0, 1, 2]


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


def test_memory_at_a_point_is_rebuilt_from_the_log(auction: Path, raw: list[dict]) -> None:
    view = RunView(auction)
    cut = next(e["seq"] for e in raw if e["kind"] == "auction.sold")
    res = orjson.loads(view.memory("bidder000", cut))
    perceived = [e["seq"] for e in raw if "bidder000" in e["witnesses"] and e["seq"] <= cut]
    assert res["source"] == "rebuild_memory" and res["note"] is None and res["total"] == len(perceived)
    assert sorted(m["seq"] for m in res["items"]) == perceived


def test_memory_before_an_agent_joins_is_the_logs_view_with_the_reason(tmp_path: Path) -> None:
    view = RunView(memory_run(tmp_path))
    before = orjson.loads(view.memory("carol", 13))  # carol joins at seq 14, having witnessed 11 and 12
    assert before["source"] == "perceived" and [e["seq"] for e in before["events"]] == [12, 11]
    assert "never joined" in before["note"]
    after = orjson.loads(view.memory("carol", 14))
    assert after["source"] == "rebuild_memory" and [m["id"] for m in after["items"]] == ["e12", "e11"]


def test_the_auction_run_gets_the_auction_panel(auction: Path) -> None:
    view = RunView(auction)
    assert view.panel.name == "auction" and view.panel.script is not None and view.panel.script.is_file()
    assert view.meta()["panel"] == "auction" and view.warnings == []


def test_a_custom_scenario_panel_comes_only_from_the_panel_option(tmp_path: Path) -> None:
    from simworld.viewer.panels import PanelInfo, resolve_panel

    (tmp_path / "coins.py").write_text("# a user's scenario\n")
    (tmp_path / "coins.panel.js").write_text("simworld.registerPanel('coins', {render() {}});\n")
    manifest = {"scenario": "coins", "scenario_ref": str(tmp_path / "coins.py"), "panel": "coins"}
    assert resolve_panel(manifest) == PanelInfo(None, None)  # the file beside the scenario is not the run's to name
    info = resolve_panel(manifest, tmp_path / "coins.panel.js")
    assert info.name == "coins" and info.source() == (tmp_path / "coins.panel.js").read_bytes()


def test_a_built_in_panel_is_found_in_its_scenario_package() -> None:
    from simworld.viewer.panels import resolve_panel

    for name in ("auction", "debate", "support", "recommender", "tom_rooms"):
        info = resolve_panel({"scenario": name, "scenario_ref": name})
        assert info.name == name and info.script is not None
        assert info.script.name == "panel.js" and info.script.parent.name == name
        assert f'registerPanel("{name}"'.encode() in (info.source() or b"")
    # a user's scenario may reuse a built-in panel by its name
    assert resolve_panel({"scenario": "mine", "scenario_ref": "/x/mine.py", "panel": "auction"}).name == "auction"


HOSTILE_PANELS = ["../../something", "../../../../tmp/evil", "/etc/passwd", "x", "evil.panel", "coins", ""]


@pytest.mark.parametrize("named", HOSTILE_PANELS)
def test_a_run_folder_never_supplies_a_script(tmp_path: Path, auction: Path, named: str) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(auction, run)
    (run / "x.panel.js").write_text("window.__pwned = 1;\n")
    (run / f"{Path(named).name or 'blank'}.js").write_text("window.__pwned = 2;\n")
    (tmp_path / "something.js").write_text("window.__pwned = 3;\n")
    (tmp_path / "evil.js").write_text("window.__pwned = 4;\n")
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    manifest.update(scenario="coins", scenario_ref=str(run / "coins.py"), panel=named)
    (run / "manifest.json").write_bytes(orjson.dumps(manifest))
    with served(run) as url:
        meta = get_json(url, "/api/meta")
        assert meta["panel"] is None and meta["panel_script"] is False
        assert "x.panel.js" not in meta["files"]
        for path in ("/panel.js", "/files/x.panel.js", "/static/x.panel.js", f"/static/panels/{named}.js"):
            status, body = get(url, path)
            assert status == 404 and b"__pwned" not in body, path


def test_a_panel_passed_explicitly_is_served(tmp_path: Path, auction: Path) -> None:
    script = tmp_path / "mine.js"
    script.write_text("simworld.registerPanel('mine', {render() {}});\n")
    with served(auction, panel=script) as url:
        meta = get_json(url, "/api/meta")
        assert meta["panel"] == "auction" and meta["panel_script"] is True  # the run's name, the user's script
        status, body = get(url, "/panel.js")
        assert status == 200 and body == script.read_bytes()


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


SECURITY_HEADERS = ("X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "Content-Security-Policy")


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as bytes on a fresh connection; (status, headers, body) of the answer."""
    import socket

    host, port = url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


ERROR_REQUESTS = {
    400: b"GET /api/meta HTTP/1.1 extra\r\nHost: localhost\r\n\r\n",  # a malformed request line
    403: b"GET /api/meta HTTP/1.1\r\nHost: attacker.example\r\n\r\n",
    404: b"GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n",
    405: b"POST /api/meta HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
    414: b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
    501: b"BREW /pot HTTP/1.1\r\nHost: localhost\r\n\r\n",
    505: b"GET /api/meta HTTP/2.0\r\nHost: localhost\r\n\r\n",
}


def test_every_error_answer_carries_the_security_headers(auction: Path) -> None:
    with served(auction) as url:
        _, ok_headers, _ = raw_request(url, b"GET /api/meta HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        for status, request in ERROR_REQUESTS.items():
            got, headers, body = raw_request(url, request)
            assert got == status, (status, body[:200])
            for name in SECURITY_HEADERS:
                assert headers.get(name) == ok_headers[name], (status, name)
            assert headers["Content-Type"] == "application/json" and "error" in orjson.loads(body), status


MALFORMED = [
    "/api/events?seqs=99999999999999999999",  # beyond 64 bits: was a 500 (OverflowError)
    "/api/events?seqs=-99999999999999999999",
    "/api/events?offset=99999999999999999999",  # was a 500 (the answer's JSON could not hold it)
    "/api/events?limit=99999999999999999999",
    "/api/events?seq0=99999999999999999999",
    "/api/events?seq1=-99999999999999999999",
    "/api/memory?agent=bidder000&upto=99999999999999999999",
    "/api/beliefs?agent=bidder000&upto=1.5",
    "/api/histogram?bins=99999999999999999999",
    "/api/histogram?bins=many",
    "/api/events?limit=" + "9" * 5000,
    "/api/events?t0=1e400",
    "/api/events?t1=%ff%fe",  # not UTF-8 once decoded
    "/api/events?seqs=1,%ff",
    "/api/events?order=%zz",  # a bad percent-escape
    "/api/memory?upto=3",  # agent missing
    "/api/knowledge?upto=3",  # agent missing
    "/api/knowledge?agent=bidder000&upto=x",
    "/api/knowledge?agent=bidder000&limit=many",
    "/api/knowledge?agent=bidder000&only=maybe",
    "/api/knowledge?agent=bidder000&second=2",
    "/api/knowledge?agent=bidder000&about=a,b,c,d,e,f,g,h,i",
]


def test_malformed_requests_are_400(auction: Path) -> None:
    with served(auction) as url:
        for path in MALFORMED:
            status, body = get(url, path)
            assert status == 400, (path, status, body[:200])
            assert "error" in orjson.loads(body), path
        # odd but well-formed values are answered
        for path in ("/api/events?kind=%ff&agent=%00", "/api/events?seq0=5&seq1=1", "/api/histogram?bins=0",
                     "/api/memory?agent=nobody&upto=-5", "/files/%ff", "//[oops/api/meta"):
            assert get(url, path)[0] in (200, 404), path


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


def exported_data(page: Path) -> dict:
    found = re.search(r'<script type="application/json" id="simworld-data">(.*?)</script>', page.read_text(), re.DOTALL)
    assert found is not None
    return orjson.loads(found.group(1))


def exported_memory(data: dict, agent: str, upto: int) -> dict:
    """What the exported page answers for an agent's memory at ``upto`` (``LocalApi.memory`` in api.js)."""
    events = data["events"]
    row = max(-1, min(upto, len(events) - 1)) if data["seq_is_row"] else max(
        (i for i, e in enumerate(events) if e["seq"] <= upto), default=-1)
    at = events[row]["seq"] if row >= 0 else -1
    missed = set(data["missed"].get(agent, []))

    def from_log(note: str | None) -> dict:
        rows = [e for e in events if e["kind"] == "memory.written" and e["agent"] == agent and e["seq"] <= at]
        source = "memory.written"
        if not rows:
            rows = [e for e in events if agent in e["witnesses"] and e["seq"] not in missed and e["seq"] <= at]
            source = "perceived"
        return {"source": source, "note": note, "total": len(rows), "events": rows[-200:][::-1]}

    if row < 0:
        return from_log(None)
    timeline = data["memory"]["agents"][agent]

    def inside(start: int, until: int | None) -> bool:
        return start <= at and (until is None or at < until)

    for start, until, note in timeline["spans"]:
        if inside(start, until):
            return from_log(note)
    held = [v for v in timeline["versions"] if inside(v[1], v[2])]
    items = [{**data["memory"]["records"][rec], "importance": imp, "last_access": last}
             for rec, _, _, imp, last in held[-200:][::-1]]
    return {"source": "rebuild_memory", "note": None, "total": len(held), "items": items}


@pytest.mark.parametrize("short_term", [None, 2])
def test_exported_memory_equals_the_servers_at_every_cursor(tmp_path: Path, short_term: int | None) -> None:
    from simworld.viewer.export import export_html

    run = memory_run(tmp_path, short_term=short_term)
    data = exported_data(export_html(run, tmp_path / "page.html"))
    agents = [a["id"] for a in data["meta"]["agents"]]
    assert agents == ["ann", "bob", "carol", "ghost"]
    sources = set()
    with served(run) as url:
        for agent in agents:
            for upto in range(-1, len(data["events"]) + 1):
                server = get_json(url, f"/api/memory?agent={agent}&upto={upto}")
                assert exported_memory(data, agent, upto) == server, (agent, upto)
                sources.add(server["source"])
    assert sources == {"rebuild_memory", "perceived"}
    # the records of events seen by several agents are stored once
    ids = [r["id"] for r in data["memory"]["records"]]
    assert len(ids) == len(set(ids))


def test_exported_memory_of_a_scenario_run_equals_the_servers(tmp_path: Path, auction: Path,
                                                              raw: list[dict]) -> None:
    from simworld.viewer.export import export_html

    data = exported_data(export_html(auction, tmp_path / "page.html"))
    cursors = [0, len(raw) // 3, len(raw) // 2, len(raw) - 1]
    with served(auction) as url:
        for agent in ("bidder000", "bidder001"):
            for upto in cursors:
                assert exported_memory(data, agent, upto) == get_json(url, f"/api/memory?agent={agent}&upto={upto}")


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


# -- the knowledge view ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sally_anne(runs: Path) -> Path:
    return sally_anne_run(runs)


@pytest.fixture(scope="module")
def tom(runs: Path) -> Path:
    return tom_run(runs)


def marble(answer: dict) -> dict:
    return next(f for f in answer["facts"] if f["fact"] == "marble.container")


def test_sallys_belief_about_the_marble_is_false_after_anne_moves_it(sally_anne: Path) -> None:
    put, left, moved, lie = SALLY_ANNE["put"], SALLY_ANNE["left"], SALLY_ANNE["moved"], SALLY_ANNE["lie"]
    with served(sally_anne) as url:
        before = get_json(url, f"/api/knowledge?agent=sally&upto={put - 1}")
        assert before["run_facts"] == 3 and before["stated"] == 0 and before["facts"] == [] and before["seq"] == put - 1
        # every story event has the same time: the cursor is the seq, so the move is not known before it
        ahead = get_json(url, f"/api/knowledge?agent=sally&upto={left}")
        assert marble(ahead) == {"fact": "marble.container", "reality": "basket", "reality_seq": put,
                                 "belief": "basket", "seq": put, "false": False, "second": [
                                     {"about": "anne", "belief": "basket", "seq": put, "false": False, "theirs": "basket"},
                                     {"about": "bob", "belief": None, "seq": None, "false": False, "theirs": None}]}
        after = get_json(url, f"/api/knowledge?agent=sally&upto={moved}")
        assert marble(after) == {"fact": "marble.container", "reality": "box", "reality_seq": moved,
                                 "belief": "basket", "seq": put, "false": True, "second": [
                                     {"about": "anne", "belief": "basket", "seq": put, "false": True, "theirs": "box"},
                                     {"about": "bob", "belief": None, "seq": None, "false": False, "theirs": None}]}
        assert (after["stated"], after["false"], after["unknown"], after["about"]) == (2, 1, 0, ["anne", "bob"])
        anne = marble(get_json(url, f"/api/knowledge?agent=anne&upto={moved}"))
        assert (anne["belief"], anne["seq"], anne["false"]) == ("box", moved, False)
        assert anne["second"][1] == {"about": "sally", "belief": "basket", "seq": put, "false": True, "theirs": "basket"}
        # Anne lies to Sally in private: Sally believes what she heard, Anne expects to be believed
        lied = marble(get_json(url, f"/api/knowledge?agent=sally&upto={lie}"))
        assert (lied["reality"], lied["belief"], lied["seq"], lied["false"]) == ("box", "drawer", lie, True)
        anne = marble(get_json(url, f"/api/knowledge?agent=anne&upto={lie}&about=sally"))
        assert anne["belief"] == "box" and anne["second"] == [
            {"about": "sally", "belief": "drawer", "seq": lie, "false": True, "theirs": "drawer"}]
        # Bob saw nothing of it: unknown, and his own room he knows
        bob = get_json(url, "/api/knowledge?agent=bob&second=0")
        assert [(f["fact"], f["belief"], f["false"]) for f in bob["facts"]] == [
            ("bob.room", "garden", False), ("marble.container", None, False), ("sally.room", None, False)]
        assert bob["unknown"] == 2 and bob["about"] == [] and all(f["second"] == [] for f in bob["facts"])


def test_knowledge_filters_and_pages_are_bounded(sally_anne: Path) -> None:
    view = RunView(sally_anne)

    def ask(upto: int | None = None, **params: str) -> dict:
        return view.knowledge_answer(KnowledgeQuery.parse({"agent": "sally", **params}), upto)

    assert [f["fact"] for f in ask(only="false")["facts"]] == ["marble.container"]
    assert [f["fact"] for f in ask(only="unknown")["facts"]] == ["bob.room"]
    assert [f["fact"] for f in ask(only="known")["facts"]] == ["marble.container", "sally.room"]
    assert [f["fact"] for f in ask(fact="ROOM")["facts"]] == ["bob.room", "sally.room"]
    page = ask(offset="1", limit="1")
    assert page["total"] == 3 and [f["fact"] for f in page["facts"]] == ["marble.container"]
    assert ask(limit="999999")["limit"] == MAX_LIMIT and ask()["limit"] == 100
    assert ask(about="bob,nobody")["facts"][0]["second"] == [  # bob.room: Bob knows, Sally does not
        {"about": "bob", "belief": None, "seq": None, "false": False, "theirs": "garden"},
        {"about": "nobody", "belief": None, "seq": None, "false": False, "theirs": None}]
    stranger = view.knowledge_answer(KnowledgeQuery.parse({"agent": "mallory"}), None)
    assert stranger["unknown"] == 3 and "mallory witnessed no event that states a fact" in stranger["note"]


def test_a_run_without_facts_has_no_knowledge(tmp_path: Path) -> None:
    run = memory_run(tmp_path)
    with served(run) as url:
        res = get_json(url, "/api/knowledge?agent=ann&upto=5")
    assert (res["run_facts"], res["facts"], res["stated"], res["note"]) == (0, [], 0, None)
    assert len(RunView(run).knowledge().rows) == 0


def test_a_log_with_facts_but_no_witnesses_says_why(tmp_path: Path) -> None:
    w = RunWriter(tmp_path / "r", {"run_id": "r"})
    ev = {"seq": 0, "t": 0.0, "kind": "x.set", "agent": None, "witnesses": [], "causes": [],
          "data": {"facts": {"door.open": True}}}
    w.append(dumps(ev), "x.set")
    w.close("completed")
    res = RunView(tmp_path / "r").knowledge_answer(KnowledgeQuery("ann"), None)
    assert res["facts"] == [] and "no event has witnesses" in res["note"]


def cursors_at_turns(events: list[dict], n: int = 6) -> list[int]:
    """Cursors just before an agent acts: every perception of what came before is logged by then."""
    turns = [e["seq"] - 1 for e in events if e["kind"] == "agent.acted"]
    return [turns[i * (len(turns) - 1) // (n - 1)] for i in range(n)]


def test_knowledge_answers_are_the_engines_on_the_log_up_to_the_cursor(tom: Path) -> None:
    from simworld.tom import Knowledge

    events = [orjson.loads(line) for line in (tom / "events.jsonl").read_bytes().splitlines()]
    agents = sorted({e["agent"] for e in events if e["kind"] == "agent.joined"})
    view = RunView(tom)
    false_seen = 0
    for upto in cursors_at_turns(events):
        engine = Knowledge(events[: upto + 1])  # the log as it was when the cursor's event was written
        for agent in agents:
            res = view.knowledge_answer(KnowledgeQuery(agent), upto)
            assert res["seq"] == upto and res["about"] == [a for a in agents if a != agent]
            assert [f["fact"] for f in res["facts"]] == engine.facts
            for f in res["facts"]:
                fact = f["fact"]
                got = engine.belief_of(agent, fact) if agent in engine.agents else None
                assert (f["reality"], f["reality_seq"]) == (engine.reality(fact), engine.reality_seq(fact))
                assert (f["belief"], f["seq"]) == ((got.value, got.seq) if got else (None, None)), (upto, agent, fact)
                assert f["false"] == (got is not None and got.value != engine.reality(fact))
                for s in f["second"]:
                    two = engine.belief_of((agent, s["about"]), fact) if agent in engine.agents and s["about"] in engine.agents else None
                    assert (s["belief"], s["seq"]) == ((two.value, two.seq) if two else (None, None))
                    assert s["theirs"] == (engine.belief(s["about"], fact) if s["about"] in engine.agents else None)
                if f["false"]:
                    false_seen += 1
                    # the belief rests on an event the agent witnessed that stated or claimed what it believes
                    rests = events[f["seq"]]
                    assert agent in rests["witnesses"] and f["belief"] in (
                        {**rests["data"].get("facts", {}), **rests["data"].get("claims", {})}.get(fact),)
            assert res["false"] == sum(f["false"] for f in res["facts"])
    assert false_seen > 0  # the run has false beliefs to show


def test_exported_knowledge_equals_the_servers(tmp_path: Path, sally_anne: Path, tom: Path) -> None:
    from simworld.viewer.export import export_html

    for run in (sally_anne, tom):
        data = exported_data(export_html(run, tmp_path / f"{run.name}.html"))
        agents = [a["id"] for a in data["meta"]["agents"]]
        n = len(data["events"])
        asks = [{}, {"only": "false"}, {"second": "0"}, {"about": agents[-1]}, {"fact": "room", "offset": "1", "limit": "2"}]
        with served(run) as url:
            for agent in [*agents, "nobody"]:
                for upto in sorted({-1, 0, n // 4, n // 2, 3 * n // 4, n - 1, n + 5}):
                    for opts in asks:
                        query = "&".join(f"{k}={v}" for k, v in {"agent": agent, "upto": upto, **opts}.items())
                        server = get_json(url, f"/api/knowledge?{query}")
                        assert exported_knowledge(data, agent, upto, **opts) == server, (run.name, query)
