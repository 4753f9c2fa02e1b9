"""A run opened for viewing: the index plus manifest, metrics, agents, beliefs and memory, as JSON.

Everything here reads; nothing writes to the run directory. Problems with the files (a truncated or
corrupt log, unreadable JSON) become warnings that the page shows, not exceptions.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from simworld.viewer.index import Query, RunIndex
from simworld.viewer.panels import PanelInfo, resolve_panel

EVENTS, MANIFEST, METRICS, VOLATILE = "events.jsonl", "manifest.json", "metrics.json", "volatile.jsonl"
RECENT = 200  # how many of an agent's perceived events or memories one answer lists


def to_jsonable(obj: Any) -> Any:
    """orjson ``default`` for whatever a memory rebuild returns (pydantic models, dataclasses, numpy)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    return repr(obj)


def memory_items(memory: Any) -> list[Any]:
    """A rebuilt memory as JSON-ready records (a MemoryStream's records, or whatever it iterates)."""
    records = memory.records() if hasattr(memory, "records") else list(memory)
    fields = ("id", "kind", "t", "text", "importance", "last_access", "seq", "evidence", "metadata", "forgotten")
    out = []
    for rec in records:
        if isinstance(rec, dict) or not hasattr(rec, "id"):
            out.append(rec)
        else:
            out.append({f: getattr(rec, f) for f in fields if hasattr(rec, f)})
    return out


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=to_jsonable, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


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


def _read_volatile(path: Path) -> dict[int, Any]:
    """Wall-clock fields by seq (``volatile.jsonl``: latency, cache hits); torn lines are skipped."""
    out: dict[int, Any] = {}
    try:
        raw = path.read_bytes()
    except OSError:
        return out
    for line in raw.splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("seq"), int):
            out[rec.pop("seq")] = rec
    return out


def _rebuild_memory() -> Any:
    """``simworld.memory.rebuild_memory`` if the installed memory package has it."""
    try:
        from simworld.memory import rebuild_memory  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - absent or broken: fall back to the log
        return None
    return rebuild_memory


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
        self.volatile = _read_volatile(self.path / VOLATILE)
        self._beliefs: dict[str, tuple[np.ndarray, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._meta: dict[str, Any] | None = None

    # -- run-level ----------------------------------------------------------------------------------
    def agents(self) -> list[dict[str, Any]]:
        """Every agent: those that joined (with name, brain, policy) and any other that acted or witnessed."""
        out: dict[str, dict[str, Any]] = {}
        rows = self.index.rows_of_kind("agent.joined")
        for row, ev in zip(rows, self.index.events(rows)):
            aid = ev.get("agent")
            data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
            persona = data.get("persona") if isinstance(data.get("persona"), dict) else {}
            if not isinstance(aid, str):
                aid = persona.get("id") if isinstance(persona.get("id"), str) else None
            if aid is None or aid in out:
                continue
            out[aid] = {
                "id": aid,
                "name": persona.get("name") if isinstance(persona.get("name"), str) else aid,
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
                "memory_source": "rebuild_memory" if _rebuild_memory() else "log",
                "files": sorted(p.name for p in self.path.iterdir() if p.is_file()),
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

    def events_json(self, rows: Any) -> bytes:
        """A JSON array of the events at ``rows``, with their volatile fields (if any) under data.volatile."""
        if not self.volatile:
            return self.index.events_json(rows)
        rows = np.asarray(rows, np.int64)
        lines = self.index.lines(rows)
        for i, seq in enumerate(self.index.cols.seq[rows].tolist()):
            extra = self.volatile.get(seq)
            if extra is not None:
                ev = orjson.loads(lines[i])
                if isinstance(ev.get("data"), dict):
                    ev["data"] = {**ev["data"], "volatile": extra}
                    lines[i] = dumps(ev)
        return b"[" + b",".join(lines) + b"]"

    def _upto_row(self, upto: int | None) -> int:
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
                d = ev.get("data") if isinstance(ev.get("data"), dict) else {}
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
        last = self._upto_row(upto)
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

    def memory(self, agent: str, upto: int | None) -> bytes:
        """The agent's memory at ``upto``: ``rebuild_memory`` when the memory package offers it, else
        its ``memory.written`` events, else what it perceived (an agent without a memory store keeps
        every observation)."""
        last = self._upto_row(upto)
        seq1 = int(self.index.cols.seq[last]) if last >= 0 else -1
        note = None
        rebuild = _rebuild_memory()
        if rebuild is not None and last >= 0:
            try:
                stream = rebuild(self._agent_log(agent, seq1), agent, float(self.index.cols.t[last]))
                items = memory_items(stream)
                return dumps({"source": "rebuild_memory", "note": None, "total": len(items),
                              "items": items[::-1][:RECENT]})
            except Exception as err:  # noqa: BLE001 - show the log-based view and say why
                note = f"rebuild_memory failed ({type(err).__name__}: {err}); showing the log instead."
        written = Query(kinds=("memory.written",), agent=agent, seq1=seq1, desc=True, limit=RECENT)
        total, rows = self.index.page(written)
        source = "memory.written"
        if total == 0:
            total, rows = self.index.page(Query(perceived=agent, seq1=seq1, desc=True, limit=RECENT))
            source = "perceived"
        head = dumps({"source": source, "note": note, "total": total})
        return head[:-1] + b',"events":' + self.events_json(rows) + b"}"

    def _agent_log(self, agent: str, seq1: int) -> Any:
        """A RunLog over just the events a memory rebuild of ``agent`` reads (not the whole file)."""
        from simworld.runlog import RunLog

        idx = self.index
        rows = np.union1d(
            np.union1d(idx.select(Query(kinds=("run.started",), seq1=seq1)), idx.select(Query(agent=agent, seq1=seq1))),
            idx.select(Query(witness=agent, seq1=seq1)),
        )
        events = idx.events(rows)

        class _Selected(RunLog):
            def iter_raw(self) -> Any:
                return iter(events)

        return _Selected(path=self.path, manifest=self.manifest)

