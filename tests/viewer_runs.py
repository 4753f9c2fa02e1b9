"""Runs and servers for the viewer tests: a real auction run, a hostile run full of HTML payloads, and
a replay server on an ephemeral port."""

from __future__ import annotations

import contextlib
import http.client
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

import simworld as sw
from simworld.runlog import RunWriter, dumps, write_json_atomic

#: Payloads: each would set window.__xss (or add an element) if it were ever parsed as HTML.
XSS_NAME = "<script>window.__xss='name'</script>Mallory"
XSS_DESC = '<img src=x onerror="window.__xss=\'description\'">'
XSS_ITEM = "<svg onload=window.__xss='item'>"
XSS_TEXT = "</script><script>window.__xss='message'</script>"
XSS_RESPONSE = "<img src=x onerror=window.__xss='response'><a href=\"javascript:window.__xss='link'\">x</a>"
XSS_KIND = "custom.<b onmouseover=window.__xss='kind'>kind</b>"
XSS_RUN_ID = "<iframe src=javascript:window.__xss='run'>"
XSS_FACT = "<img src=x onerror=window.__xss='fact'>.owner"


def auction_run(out: Path, fmt: str = "first_price", seed: int = 3) -> Path:
    """A real auction run: half profilers (who log beliefs), half persona bidders."""
    result = sw.run(
        "auction", seed=seed, out=out, overrides={"format": fmt, "strategy": {"profiler": 0.5, "persona": 0.5}}
    )
    return Path(result.path)


def xss_run(out: Path) -> Path:
    """A hand-written run whose names, texts, kinds, model output and metrics are HTML and script."""
    path = out / "xss-run"
    w = RunWriter(path, {"run_id": XSS_RUN_ID, "scenario": "auction", "scenario_ref": "auction", "seed": 0})
    both = ["alice", "mallory"]
    events: list[dict[str, Any]] = []

    def put(t: float, kind: str, data: dict[str, Any], agent: str | None = None, witnesses: Any = (),
            causes: Any = ()) -> int:
        seq = len(events)
        ev = {"seq": seq, "t": t, "kind": kind, "agent": agent, "witnesses": list(witnesses),
              "causes": list(causes), "data": data}
        events.append(ev)
        w.append(dumps(ev), kind)
        return seq

    persona = {"big_five": {"openness": 0.5}, "goals": [XSS_TEXT], "roles": {"bidder": {"note": XSS_DESC}}}
    put(0.0, "run.started", {"scenario": "auction", "seed": 0, "config": {"title": XSS_TEXT}})
    put(0.0, "agent.joined", {"persona": {"id": "alice", "name": "Alice", "description": "plain", **persona},
                              "brain": "llm"}, agent="alice")
    put(0.0, "agent.joined", {"persona": {"id": "mallory", "name": XSS_NAME, "description": XSS_DESC, **persona},
                              "brain": XSS_TEXT}, agent="mallory")
    opened = put(1.0, "auction.opened", {"item": {"id": XSS_ITEM, "starting_price": 10.0}, "lot": 1,
                                         "format": "english", "reserve": 0.0, "facts": {XSS_FACT: XSS_NAME}},
                 witnesses=both)
    put(1.0, "auction.valuations", {"item": XSS_ITEM, "values": {"alice": 20.0, "mallory": 18.0}}, causes=[opened])
    msg = put(2.0, "message.sent", {"sender": "mallory", "audience": ["alice"], "text": XSS_TEXT,
                                    "claims": {XSS_FACT: XSS_RESPONSE}}, agent="mallory", witnesses=both)
    note = put(2.0, "memory.written", {"id": "n0", "kind": "note", "text": XSS_TEXT, "importance": 5.0},
               agent="alice")
    call = put(3.0, "model.call", {"model": "fake", "messages": [{"role": "user", "content": XSS_TEXT}],
                                   "response": XSS_RESPONSE, "error": None}, agent="alice")
    put(4.0, "agent.acted", {"decision": "auction.english", "action": {"choice": "bid", "rationale": XSS_RESPONSE},
                             "brain": "llm"}, agent="alice", witnesses=["alice"], causes=[opened, msg, note, call])
    put(4.0, "belief.updated", {"about": "mallory", "key": "value", "value": XSS_TEXT, "confidence": 0.5,
                                "item": XSS_ITEM}, agent="alice")
    bid = put(5.0, "auction.bid", {"item": XSS_ITEM, "bidder": "alice", "amount": 12.0}, agent="alice",
              witnesses=both, causes=[opened])
    put(6.0, XSS_KIND, {XSS_DESC: XSS_TEXT}, agent="mallory", witnesses=both)
    put(7.0, "auction.sold", {"item": XSS_ITEM, "winner": "alice", "price": 12.0, "true_value": 15.0}, agent="alice",
        witnesses=both, causes=[bid])
    put(8.0, "run.finished", {"status": "completed", "reason": XSS_TEXT})
    w.close("completed")
    write_json_atomic(path / "metrics.json", {XSS_DESC: XSS_TEXT, "items": [{XSS_NAME: XSS_RESPONSE}]})
    return path


def truncated_copy(run: Path, out: Path) -> Path:
    """A copy of ``run`` whose log ends in half a line (a crash in the middle of a write)."""
    dst = out / (run.name + "-truncated")
    shutil.copytree(run, dst)
    data = (dst / "events.jsonl").read_bytes()
    (dst / "events.jsonl").write_bytes(data[: len(data) - 40])
    return dst


def corrupt_copy(run: Path, out: Path, line: int = 10) -> Path:
    """A copy of ``run`` with garbage instead of line ``line`` (1-based)."""
    dst = out / (run.name + "-corrupt")
    shutil.copytree(run, dst)
    lines = (dst / "events.jsonl").read_bytes().splitlines(keepends=True)
    lines[line - 1] = b'{"seq": 9, "t": oops, this is not JSON\n'
    (dst / "events.jsonl").write_bytes(b"".join(lines))
    return dst


@contextlib.contextmanager
def served(run: Path, **kwargs: Any) -> Iterator[str]:
    """A replay server for ``run`` on 127.0.0.1 and a free port; yields its URL."""
    from simworld.viewer import serve

    server = serve(run, "127.0.0.1", 0, **kwargs)
    server.start_background()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


def get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A raw GET: the path goes out exactly as given (no client-side normalising of ``..``)."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=headers is not None and "Host" in headers, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


def get_json(url: str, path: str) -> Any:
    status, body = get(url, path)
    assert status == 200, (status, body[:300])
    return orjson.loads(body)


def memory_run(out: Path, short_term: int | None = None, name: str = "memory-run") -> Path:
    """A hand-written run that exercises every way a rebuilt memory changes: observations (one with hidden
    fields, some with a surprise score), a miss logged after the event, written and retrieved memories, a
    late joiner, a witness who never joins, and (with ``short_term``) observations that are forgotten."""
    path = out / name
    memory = {"capacity": {"short_term": short_term, "promote_importance": 5.0},
              "importance": {"surprise": {"x.price": "price"}}}
    w = RunWriter(path, {"run_id": name, "scenario": "custom", "seed": 0})
    seq = 0

    def put(t: float, kind: str, data: dict[str, Any], agent: str | None = None, witnesses: Any = ()) -> None:
        nonlocal seq
        ev = {"seq": seq, "t": t, "kind": kind, "agent": agent, "witnesses": list(witnesses), "causes": [],
              "data": data}
        w.append(dumps(ev), kind)
        seq += 1

    def persona(pid: str, neuroticism: float) -> dict[str, Any]:
        return {"persona": {"id": pid, "name": pid.title(), "big_five": {"neuroticism": neuroticism}}, "brain": "rule"}

    put(0.0, "run.started", {"scenario": "custom", "seed": 0, "config": {"memory": memory}})
    put(0.0, "agent.joined", persona("ann", 0.9), agent="ann")
    put(0.0, "agent.joined", persona("bob", 0.1), agent="bob")
    put(1.0, "x.price", {"price": 10.0}, witnesses=["ann", "bob"])  # seq 3
    put(1.0, "x.price", {"price": 12.0}, witnesses=["ann", "bob"])  # seq 4: ann misses it (seq 6)
    put(2.0, "x.secret", {"a": 1, "b": 2, "hidden": ["b"]}, witnesses=["ann"])
    put(2.0, "agent.perceived", {"missed": [4], "reason": "attention"}, agent="ann")
    put(3.0, "memory.written", {"id": "n0", "kind": "note", "text": "prices rise", "importance": 6.0,
                                "evidence": ["e3"], "metadata": {}}, agent="ann")
    put(4.0, "x.price", {"price": 50.0}, witnesses=["ann", "bob", "ghost"])  # seq 8
    put(5.0, "memory.retrieved", {"query": "price", "ids": ["e3", "n0"], "parts": {}}, agent="ann")
    put(6.0, "message.sent", {"sender": "bob", "audience": ["ann"], "text": "too dear"}, agent="bob",
        witnesses=["ann", "bob"])
    put(7.0, "x.price", {"price": 11.0}, witnesses=["ann", "carol"])
    put(8.0, "x.lost", {"what": "the lot"}, agent="ann", witnesses=["ann", "carol"])
    put(9.0, "memory.retrieved", {"query": "lot", "ids": ["e8", "e12"], "parts": {}}, agent="ann")
    put(10.0, "agent.joined", persona("carol", 0.5), agent="carol")
    put(11.0, "x.price", {"price": 13.0}, witnesses=["ann", "carol", "ghost"])
    put(12.0, "memory.written", {"id": "r0", "kind": "reflection", "text": "carol is here", "importance": 3.0,
                                 "evidence": [], "metadata": {}}, agent="carol")
    put(12.0, "run.finished", {"status": "completed", "reason": None})
    w.close("completed")
    return path


#: The seqs of the Sally-Anne run's story (see :func:`sally_anne_run`).
SALLY_ANNE = {"put": 4, "left": 5, "moved": 6, "back": 7, "lie": 8}


def sally_anne_run(out: Path, name: str = "sally-anne") -> Path:
    """Sally puts the marble in the basket and leaves; Anne moves it to the box; Sally comes back and Anne
    tells her, in private, that it is in the drawer (a lie). Bob is in the garden all along. Every event of
    the story happens at the same simulated time: only the seqs order them."""
    path = out / name
    w = RunWriter(path, {"run_id": name, "scenario": "custom", "seed": 0})
    seq = 0

    def put(kind: str, data: dict[str, Any], agent: str | None = None, witnesses: Any = ()) -> int:
        nonlocal seq
        ev = {"seq": seq, "t": 0.0 if kind in ("run.started", "agent.joined") else 1.0, "kind": kind, "agent": agent,
              "witnesses": list(witnesses), "causes": [seq - 1] if seq > 3 else [], "data": data}
        w.append(dumps(ev), kind)
        seq += 1
        return seq - 1

    put("run.started", {"scenario": "custom", "seed": 0, "config": {}})
    for who in ("sally", "anne", "bob"):
        put("agent.joined", {"persona": {"id": who, "name": who.title()}, "brain": "rule"}, agent=who)
    both = ["sally", "anne"]
    assert put("story.put", {"facts": {"marble.container": "basket"}}, "sally", both) == SALLY_ANNE["put"]
    assert put("story.left", {"facts": {"sally.room": "hallway"}}, "sally", both) == SALLY_ANNE["left"]
    assert put("story.moved", {"facts": {"marble.container": "box"}}, "anne", ["anne"]) == SALLY_ANNE["moved"]
    assert put("story.back", {"facts": {"sally.room": "room"}, "covert": []}, "sally", both) == SALLY_ANNE["back"]
    assert put("message.sent", {"sender": "anne", "audience": ["sally"], "text": "It is in the drawer.",
                                "claims": {"marble.container": "drawer"}}, "anne", both) == SALLY_ANNE["lie"]
    put("story.garden", {"facts": {"bob.room": "garden"}}, "bob", ["bob"])
    put("run.finished", {"status": "completed", "reason": None})
    w.close("completed")
    return path


def tom_run(out: Path, seed: int = 3, steps: int = 40) -> Path:
    """A real tom_rooms run: 4 agents, 2 rooms, 2 objects a room."""
    result = sw.run("tom_rooms", seed=seed, out=out, overrides={"steps": steps, "n_agents": 4, "rooms": 2, "objects": 2})
    return Path(result.path)


def exported_knowledge(data: dict[str, Any], agent: str, upto: int | None, **opts: Any) -> dict[str, Any]:
    """What the exported page answers for ``/api/knowledge`` (``LocalApi.knowledge`` in api.js, in Python)."""
    k = data["knowledge"]
    events = data["events"]
    if upto is None:
        row = len(events) - 1
    elif data["seq_is_row"]:
        row = max(-1, min(upto, len(events) - 1))
    else:
        row = max((i for i, e in enumerate(events) if e["seq"] <= upto), default=-1)
    offset, limit = int(opts.get("offset", 0)), min(1000, int(opts.get("limit", 100)))
    out: dict[str, Any] = {"agent": agent, "seq": events[row]["seq"] if row >= 0 else None,
                           "run_facts": k["run_facts"], "stated": 0, "scanned": 0, "false": 0, "unknown": 0,
                           "total": 0, "offset": offset, "limit": limit, "about": [], "others": 0, "facts": [],
                           "note": k["note"]}
    if not k["facts"]:
        return out

    def at(points: list[list[Any]] | None) -> tuple[Any, Any]:
        found = [p for p in points or [] if p[0] <= row]
        return (found[-1][1], found[-1][2]) if found else (None, None)

    def value(i: int | None) -> Any:
        return None if i is None else k["values"][i]

    known = agent in k["agents"]
    if not known and out["note"] is None:
        out["note"] = f"{agent} witnessed no event that states a fact: it believes nothing"
    about = [] if str(opts.get("second", "1")) == "0" else (
        opts["about"].split(",") if opts.get("about") else [a for a in k["agents"] if a != agent][:8])
    stated = [i for i, f in enumerate(k["facts"]) if k["first"][i] <= row and opts.get("fact", "").lower() in f.lower()]
    out.update(stated=len(stated), scanned=min(len(stated), 5000), about=about, others=len(k["agents"]) - known)
    rows = []
    for i in stated[:5000]:
        r, r_seq = at(k["reality"][i])
        b, b_seq = at(k["beliefs"].get(agent, {}).get(str(i))) if known else (None, None)
        false = b is not None and b != r
        out["false"] += false
        out["unknown"] += b is None
        only = opts.get("only")
        if only == "false" and not false or only == "unknown" and b is not None or only == "known" and b is None:
            continue
        rows.append((i, r, {"fact": k["facts"][i], "reality": value(r), "reality_seq": r_seq, "belief": value(b),
                            "seq": b_seq, "false": false}))
    out["total"] = len(rows)
    for i, r, item in rows[offset : offset + limit]:
        item["second"] = []
        for other in about:
            b, b_seq = (None, None)
            if other != agent and known and other in k["agents"]:
                b, b_seq = at(k["second"][agent][other].get(str(i)))
            theirs = at(k["beliefs"].get(other, {}).get(str(i)))[0] if other in k["agents"] else None
            item["second"].append({"about": other, "belief": value(b), "seq": b_seq,
                                   "false": b is not None and b != r, "theirs": value(theirs)})
        out["facts"].append(item)
    return out
