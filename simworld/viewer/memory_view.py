"""Every agent's memory view at every point of a run, computed ahead for the exported page.

The server answers ``/api/memory`` by rebuilding the agent's memory at the cursor
(:meth:`RunView.memory_answer`). A page exported to a file has no server, so this computes the answer for
every cursor ahead, compactly, and the page only looks it up (``LocalApi.memory`` in ``static/js/api.js``).

An agent's answer can change only at the events its rebuild reads (``RunView.agent_rows``). Between two
such events the memory stream is carried forward the way :func:`simworld.memory.rebuild_memory` builds it
(observe what it witnessed, restore ``memory.written``, touch ``memory.retrieved``); at the events that
change what the rebuild starts from (``run.started``, the agent's ``agent.joined`` and ``agent.perceived``,
whose misses remove earlier observations) and after any failure it is rebuilt with ``rebuild_memory``
itself. A rebuild that fails keeps failing, with the same error, until the next such event: meanwhile the
answer is the log's view with the same note, which the page computes from its events.

The result, per agent (JSON):

- ``versions``: ``[record, from, until, importance, last_access]`` in the stream's order: record
  ``records[record]`` was in the memory with that importance and last access for cursors ``from <= seq <
  until`` (``until`` null: to the end);
- ``spans``: ``[from, until, note]``: cursors where the rebuild fails; the answer is the log's view
  (``memory.written``, else perceived events) with that note;
- for a log whose seqs or times are out of order, ``rows`` instead: the full answer at every row.

``records`` (what a memory is, less importance and last access) is shared by all agents: an event seen
by many agents is stored once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simworld.memory import MemoryRecord, MemoryStream, rebuild_memory
from simworld.memory.rebuild import perceived_event  # the event as perceived: the same conversion as a rebuild
from simworld.runlog import dumps
from simworld.viewer.run import MEMORY_FIELDS, RunView, rebuild_failed

#: Record fields shared by every agent that holds the memory (importance and last access are the agent's).
SHARED_FIELDS = tuple(f for f in MEMORY_FIELDS if f not in ("importance", "last_access"))


class RecordTable:
    """Distinct memory records, shared by the timelines of all agents of a run."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._index: dict[bytes, int] = {}

    def add(self, rec: MemoryRecord) -> int:
        shared = {name: getattr(rec, name) for name in SHARED_FIELDS}
        key = dumps(shared)
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self.records)
            self.records.append(shared)
        return i


class _Timeline:
    """The versions and spans of one agent, built cursor by cursor."""

    def __init__(self, table: RecordTable) -> None:
        self.table = table
        self.versions: list[list[Any]] = []  # [record, from, until, importance, last_access, order]
        self.spans: list[list[Any]] = []  # [from, until, note]
        self.open: dict[int, int] = {}  # order (the seq of the event that formed the record) -> version

    def show(self, order: int, rec: MemoryRecord, at: int) -> None:
        """The record formed by event ``order`` is in the memory, as ``rec``, from cursor ``at``."""
        record = self.table.add(rec)
        current = self.open.get(order)
        if current is not None:
            v = self.versions[current]
            if v[0] == record and v[3] == rec.importance and v[4] == rec.last_access:
                return
            v[2] = at
        self.open[order] = len(self.versions)
        self.versions.append([record, at, None, rec.importance, rec.last_access, order])

    def hide(self, order: int, at: int) -> None:
        current = self.open.pop(order, None)
        if current is not None:
            self.versions[current][2] = at

    def hide_all(self, at: int) -> None:
        for order in list(self.open):
            self.hide(order, at)

    def fail(self, note: str, at: int) -> None:
        """From cursor ``at`` the rebuild fails with ``note``."""
        self.hide_all(at)
        if self.spans and self.spans[-1][1] is None:
            if self.spans[-1][2] == note:
                return
            self.spans[-1][1] = at
        self.spans.append([at, None, note])

    def succeed(self, at: int) -> None:
        if self.spans and self.spans[-1][1] is None:
            self.spans[-1][1] = at

    def sync(self, stream: MemoryStream, written: list[int], at: int) -> None:
        """Make the open versions those of ``stream`` (after a rebuild); ``written``: the seqs of the agent's
        ``memory.written`` events so far, which formed the stream's written records, in order."""
        seen: set[int] = set()
        w = 0
        for rec in stream.records(include_forgotten=True):
            if rec.seq is None:  # a written record: formed by the next memory.written
                order, w = (written[w] if w < len(written) else -1 - w), w + 1
            else:
                order = rec.seq
            if rec.forgotten:
                continue
            seen.add(order)
            self.show(order, rec, at)
        for order in [o for o in self.open if o not in seen]:
            self.hide(order, at)

    def result(self) -> dict[str, Any]:
        versions = sorted(self.versions, key=lambda v: (v[5], v[1]))
        return {"versions": [v[:5] for v in versions], "spans": self.spans}


def _carry(stream: MemoryStream, e: dict[str, Any], agent: str, missed: set[int]) -> str | None:
    """Take one more event into ``stream`` as ``rebuild_memory`` does; what it did: ``observed``,
    ``written``, ``touched`` or None (nothing)."""
    kind = e["kind"]
    if e.get("agent") == agent and kind.startswith(("agent.joined", "agent.perceived", "memory.")):
        d = e["data"]
        if kind == "memory.written":
            stream.restore(d["id"], d["kind"], d["text"], d["importance"], e["t"], d.get("evidence", ()),
                           d.get("metadata"))
            return "written"
        if kind == "memory.retrieved":
            stream.touch(d["ids"], float(e["t"]))
            return "touched"
        return None
    if agent in (e.get("witnesses") or ()) and e["seq"] not in missed:
        stream.observe(perceived_event(e))
        return "observed"
    return None


def _restarts(e: dict[str, Any], agent: str) -> bool:
    """Whether the event changes what a rebuild starts from (config, persona, misses)."""
    return e["kind"] == "run.started" or (e.get("agent") == agent and e["kind"] in ("agent.joined", "agent.perceived"))


def agent_timeline(view: RunView, agent: str, table: RecordTable, log: list[dict[str, Any]]) -> dict[str, Any]:
    """The memory answers of ``agent`` at every cursor of the run (see the module's docstring); ``log``:
    every event of the run, by row."""
    idx = view.index
    if not (idx.seq_is_row and idx.t_sorted):
        return {"rows": [_answer_json(view, agent, int(s)) for s in idx.cols.seq.tolist()]}
    events = [log[row] for row in view.agent_rows(agent).tolist()]
    tl = _Timeline(table)
    if idx.n and (not events or int(idx.cols.seq[0]) < events[0]["seq"]):
        # before the agent's first event: a rebuild of nothing fails
        first = int(idx.cols.seq[0])
        tl.fail(view.memory_answer(agent, first).note or "", first)
    stream: MemoryStream | None = None
    missed: set[int] = set()
    written: list[int] = []
    for i, e in enumerate(events):
        at = e["seq"]
        own = e.get("agent") == agent
        if own and e["kind"] == "agent.perceived":
            try:
                missed.update(m for m in e["data"].get("missed", ()) if isinstance(m, int))
            except (AttributeError, TypeError, KeyError):
                pass  # the rebuild below fails on it and says so
        if own and e["kind"] == "memory.written":
            written.append(at)
        if stream is not None and not _restarts(e, agent):
            before = len(stream)
            try:
                did = _carry(stream, e, agent, missed)
            except Exception:  # noqa: BLE001 - the rebuild below fails the same way and gives the note
                stream = None
            else:
                if stream.config.capacity.short_term is not None and did == "observed":
                    tl.sync(stream, written, at)  # an observation may push older ones out of memory
                elif did in ("observed", "written"):
                    for j in range(before, len(stream)):
                        rec = stream.record(j)
                        if not rec.forgotten:
                            tl.show(at if rec.seq is None else rec.seq, rec, at)
                elif did == "touched":
                    for mem_id in e["data"]["ids"]:
                        touched = stream.get(mem_id)
                        if touched is not None and not touched.forgotten:
                            order = touched.seq if touched.seq is not None else _written_order(stream, mem_id, written)
                            tl.show(order, touched, at)
                continue
        elif stream is None and tl.spans and tl.spans[-1][1] is None and not _restarts(e, agent):
            continue  # a failed rebuild fails the same way until the next restart: the span goes on
        try:
            stream = rebuild_memory(view.sub_log(events[: i + 1]), agent, float(e["t"]))
        except Exception as err:  # noqa: BLE001 - as the server: the log's view, and why
            stream = None
            tl.fail(rebuild_failed(err), at)
        else:
            tl.succeed(at)
            tl.sync(stream, written, at)
    return tl.result()


def _written_order(stream: MemoryStream, mem_id: str, written: list[int]) -> int:
    """The seq of the ``memory.written`` that formed the written record ``mem_id``."""
    w = 0
    for rec in stream.records(include_forgotten=True):
        if rec.seq is None:
            if rec.id == mem_id:
                return written[w] if w < len(written) else -1 - w
            w += 1
    return -1


def _answer_json(view: RunView, agent: str, upto: int) -> dict[str, Any]:
    """The server's answer at ``upto``, with events as seqs (the page has the events)."""
    answer = view.memory_answer(agent, upto)
    out: dict[str, Any] = {"source": answer.source, "note": answer.note, "total": answer.total}
    if answer.items is not None:
        out["items"] = answer.items
    else:
        rows = answer.rows if answer.rows is not None else np.empty(0, np.int64)
        out["seqs"] = view.index.cols.seq[rows].tolist()
    return out


def memory_views(view: RunView) -> dict[str, Any]:
    """``{"records": [...], "agents": {agent: timeline}}`` for every agent of the run."""
    table = RecordTable()
    log = view.index.events(range(view.index.n))  # parsed once for all agents
    agents = {a["id"]: agent_timeline(view, a["id"], table, log) for a in view.agents() if isinstance(a["id"], str)}
    return {"records": table.records, "agents": agents}
