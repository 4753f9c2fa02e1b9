"""A run opened for viewing: the index plus manifest, metrics, agents, beliefs and memory, as JSON.

Everything here reads; nothing writes to the run directory. Problems with the files (a truncated or
corrupt log, unreadable JSON) become warnings that the page shows, not exceptions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from simworld.memory import MemoryRecord, MemoryStream, rebuild_memory
from simworld.runlog import EVENTS, MANIFEST, METRICS, VOLATILE, RunLog, dumps, read_volatile
from simworld.viewer.index import Query, RunIndex
from simworld.viewer.knowledge_view import KnowledgeQuery, RunKnowledge
from simworld.viewer.panels import PanelInfo, resolve_panel

RECENT = 200  # how many of an agent's perceived events or memories one answer lists
#: Files of a run folder the viewer never serves or lists, even as text: a run folder is data, not code.
SCRIPT_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".html", ".htm", ".xhtml", ".svg"})
#: The fields of a memory record that the page shows.
MEMORY_FIELDS = ("id", "kind", "t", "text", "importance", "last_access", "seq", "evidence", "metadata", "forgotten")


def memory_item(rec: MemoryRecord) -> dict[str, Any]:
    """One memory record as the page shows it."""
    return {name: getattr(rec, name) for name in MEMORY_FIELDS}


def memory_items(stream: MemoryStream) -> list[dict[str, Any]]:
    """A rebuilt memory's records (forgotten ones left out), oldest first."""
    return [memory_item(rec) for rec in stream.records()]


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a log line's parts may be anything)."""
    return value if isinstance(value, dict) else {}


def _read_json(path: Path) -> tuple[Any, str | None]:
    """(value, None) or (None, a warning)."""
    try:
        return orjson.loads(path.read_bytes()), None
    except FileNotFoundError:
        return None, None
    except orjson.JSONDecodeError as err:
        return None, f"{path.name} is not valid JSON ({err.msg}); it is ignored."
    except OSError as err:
        return None, f"{path.name} cannot be read ({err.strerror})."


@dataclass
class SubLog(RunLog):
    """Some events of a run as a :class:`RunLog`: what a memory rebuild of one agent reads."""

    selected: list[dict[str, Any]] = field(default_factory=list)

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        return iter(self.selected)


@dataclass
class MemoryAnswer:
    """An agent's memory at a point of the run, as ``/api/memory`` answers it.

    ``source`` is ``rebuild_memory`` (``items``: the ``RECENT`` latest records, newest first) or, when
    the rebuild fails (``note`` says why), ``memory.written`` or ``perceived`` (``rows``: the index rows of
    those events, newest first). ``total`` counts them all.
    """

    source: str
    note: str | None
    total: int
    items: list[dict[str, Any]] | None = None
    rows: np.ndarray | None = None


class RunView:
    """The read-only view of one run directory that the server and the export page answer from."""

    def __init__(
        self, path: str | Path, panel: Path | None = None, workers: int | None = None, cache: bool = False
    ) -> None:
        self.path = Path(path)
        self.index = RunIndex(self.path / EVENTS, workers, cache)
        manifest, warn = _read_json(self.path / MANIFEST)
        self.warnings: list[str] = [warn] if warn else []
        if manifest is None and warn is None:
            self.warnings.append("manifest.json is missing; the run's config and status are unknown.")
        self.manifest: dict[str, Any] = manifest if isinstance(manifest, dict) else {}
        self.warnings += self.index.problems()
        self.panel: PanelInfo = resolve_panel(self.manifest, panel)
        try:
            self.volatile = read_volatile(self.path / VOLATILE)
        except OSError as err:
            self.volatile = {}
            self.warnings.append(f"{VOLATILE} cannot be read ({err.strerror}); latencies are not shown.")
        self._beliefs: dict[str, tuple[np.ndarray, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._meta: dict[str, Any] | None = None
        self._knowledge: RunKnowledge | None = None
        self._knowledge_lock = threading.Lock()

    # -- run-level ----------------------------------------------------------------------------------
    def agents(self) -> list[dict[str, Any]]:
        """Every agent: those that joined (with name, brain, policy) and any other that acted or witnessed."""
        out: dict[str, dict[str, Any]] = {}
        rows = self.index.rows_of_kind("agent.joined")
        for ev in self.index.events(rows):
            aid = ev.get("agent")
            data = as_dict(ev.get("data"))
            persona = as_dict(data.get("persona"))
            if not isinstance(aid, str):
                aid = persona.get("id") if isinstance(persona.get("id"), str) else None
            if aid is None or aid in out:
                continue
            name = persona.get("name")
            out[aid] = {
                "id": aid,
                "name": name if isinstance(name, str) else aid,
                "brain": data.get("brain"),
                "policy": data.get("policy"),
                "joined_seq": ev.get("seq"),
            }
        for aid in self.index.cols.agents:
            out.setdefault(aid, {"id": aid, "name": aid, "brain": None, "policy": None, "joined_seq": None})
        return list(out.values())

    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            t_min, t_max = self.index.time_range()
            m = self.manifest
            self._meta = {
                "run_id": m.get("run_id") or self.path.name,
                "scenario": m.get("scenario"),
                "status": m.get("status"),
                "seed": m.get("seed"),
                "manifest": m,
                "panel": self.panel.name,
                "panel_script": self.panel.script is not None,
                "n_events": self.index.n,
                "size_bytes": self.index.size,
                "t_min": t_min,
                "t_max": t_max,
                "kinds": self.index.kind_counts(),
                "agents": self.agents(),
                "warnings": self.warnings,
                "index_seconds": round(self.index.build_seconds, 4),
                "memory_source": "rebuild_memory",
                "files": sorted(p.name for p in self.path.iterdir() if p.is_file() and servable(p)),
            }
        return self._meta

    def metrics(self) -> dict[str, Any]:
        value, warn = _read_json(self.path / METRICS)
        if warn:
            return {"metrics": None, "error": warn}
        if value is None:
            return {"metrics": None, "error": "This run has no metrics.json (it may still be running or have failed)."}
        return {"metrics": value, "error": None}

    # -- events -------------------------------------------------------------------------------------
    def events_page(self, q: Query) -> bytes:
        total, rows = self.index.page(q)
        head = dumps({"total": total, "offset": q.offset, "order": "desc" if q.desc else "asc"})
        return head[:-1] + b',"events":' + self.events_json(rows) + b"}"

    def events_json(self, rows: Iterable[int]) -> bytes:
        """A JSON array of the events at ``rows``, with their volatile fields (if any) under data.volatile."""
        if not self.volatile:
            return self.index.events_json(rows)
        rows = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, np.int64)
        lines = self.index.lines(rows)
        for i, seq in enumerate(self.index.cols.seq[rows].tolist()):
            extra = self.volatile.get(seq)
            if extra is not None:
                ev = orjson.loads(lines[i])
                if isinstance(ev.get("data"), dict):
                    ev["data"] = {**ev["data"], "volatile": extra}
                    lines[i] = dumps(ev)
        return b"[" + b",".join(lines) + b"]"

    def cursor_row(self, upto: int | None) -> int:
        """The row an answer "at ``upto``" stands at: the last event with seq <= ``upto`` (-1: none)."""
        return self.index.n - 1 if upto is None else self.index.row_at_or_before(upto)

    # -- an agent at a point in the run ---------------------------------------------------------------
    def beliefs(self, agent: str, upto: int | None) -> dict[str, Any]:
        """The agent's latest belief per (about, key, qualifiers) from ``belief.updated`` up to ``upto``;
        the ``RECENT`` most recently updated of them, newest first."""
        with self._lock:
            cached = self._beliefs.get(agent)
        if cached is None:
            rows = self.index.select(Query(kinds=("belief.updated",), agent=agent))
            records = []
            for ev in self.index.events(rows):
                d = as_dict(ev.get("data"))
                extra = {k: v for k, v in d.items() if k not in ("about", "key", "value", "confidence")}
                records.append(
                    {
                        "about": d.get("about"), "key": d.get("key"), "value": d.get("value"),
                        "confidence": d.get("confidence"), "extra": extra, "seq": ev.get("seq"), "t": ev.get("t"),
                    }
                )
            cached = (rows, records)
            with self._lock:
                self._beliefs[agent] = cached
        rows, records = cached
        last = self.cursor_row(upto)
        n = int(np.searchsorted(rows, last, "right"))
        latest: dict[bytes, dict[str, Any]] = {}
        updates: dict[bytes, int] = {}
        for rec in records[:n]:
            key = dumps([rec["about"], rec["key"], rec["extra"]])
            latest[key] = rec
            updates[key] = updates.get(key, 0) + 1
        out = [{**rec, "updates": updates[k]} for k, rec in latest.items()]
        out.sort(key=lambda r: -r["seq"] if isinstance(r["seq"], int) else 0)  # the latest updated first
        return {"agent": agent, "updates": n, "held": len(out), "beliefs": out[:RECENT]}

    def knowledge(self) -> RunKnowledge:
        """The run's knowledge engine, built on first use (once, whichever request asks first)."""
        with self._knowledge_lock:
            if self._knowledge is None:
                self._knowledge = RunKnowledge(self.index)
            return self._knowledge

    def knowledge_answer(self, q: KnowledgeQuery, upto: int | None) -> dict[str, Any]:
        """``/api/knowledge``: what ``q.agent`` believes about each fact at ``upto``, next to reality
        (see :mod:`simworld.viewer.knowledge_view`)."""
        row = self.cursor_row(upto)
        seq = int(self.index.cols.seq[row]) if row >= 0 else None
        return self.knowledge().answer(q, row, seq)

    def memory(self, agent: str, upto: int | None) -> bytes:
        """``/api/memory``: the agent's memory at ``upto`` (see :meth:`memory_answer`), as JSON."""
        answer = self.memory_answer(agent, upto)
        head = dumps({"source": answer.source, "note": answer.note, "total": answer.total})
        if answer.items is not None:
            return head[:-1] + b',"items":' + dumps(answer.items) + b"}"
        rows = answer.rows if answer.rows is not None else np.empty(0, np.int64)
        return head[:-1] + b',"events":' + self.events_json(rows) + b"}"

    def memory_answer(self, agent: str, upto: int | None) -> MemoryAnswer:
        """The agent's memory at ``upto``, rebuilt with ``rebuild_memory`` from the events up to there;
        when that fails (say, the agent has not joined yet), its ``memory.written`` events, else what it
        perceived (an agent without a memory store keeps every observation), and a note saying why."""
        last = self.cursor_row(upto)
        note = None
        if last >= 0:
            seq1 = int(self.index.cols.seq[last])
            try:
                stream = rebuild_memory(self.agent_log(agent, seq1), agent, float(self.index.cols.t[last]))
            except Exception as err:  # noqa: BLE001 - show the log-based view and say why
                note = rebuild_failed(err)
            else:
                items = memory_items(stream)
                return MemoryAnswer("rebuild_memory", None, len(items), items=items[::-1][:RECENT])
        return self.memory_from_log(agent, last, note)

    def memory_from_log(self, agent: str, last: int, note: str | None) -> MemoryAnswer:
        """The log's view of an agent's memory up to row ``last``: its ``memory.written``, else what it perceived."""
        seq1 = int(self.index.cols.seq[last]) if last >= 0 else -1
        total, rows = self.index.page(Query(kinds=("memory.written",), agent=agent, seq1=seq1, desc=True, limit=RECENT))
        if total:
            return MemoryAnswer("memory.written", note, total, rows=rows)
        total, rows = self.index.page(Query(perceived=agent, seq1=seq1, desc=True, limit=RECENT))
        return MemoryAnswer("perceived", note, total, rows=rows)

    def agent_rows(self, agent: str, seq1: int | None = None) -> np.ndarray:
        """The rows a memory rebuild of ``agent`` reads (``run.started``, its own events, what it witnessed)."""
        idx = self.index
        return np.union1d(
            np.union1d(idx.select(Query(kinds=("run.started",), seq1=seq1)), idx.select(Query(agent=agent, seq1=seq1))),
            idx.select(Query(witness=agent, seq1=seq1)),
        )

    def agent_log(self, agent: str, seq1: int) -> SubLog:
        """A RunLog over just the events a memory rebuild of ``agent`` up to ``seq1`` reads (not the whole file)."""
        return self.sub_log(self.index.events(self.agent_rows(agent, seq1)))

    def sub_log(self, events: list[dict[str, Any]]) -> SubLog:
        return SubLog(path=self.path, manifest=self.manifest, selected=events)


def servable(path: Path) -> bool:
    """Whether the viewer may hand out this file of a run folder (as text): not a script or a page."""
    return path.suffix.lower() not in SCRIPT_SUFFIXES


def rebuild_failed(err: Exception) -> str:
    return f"rebuild_memory failed ({type(err).__name__}: {err}); showing the log instead."
