"""The run directory: ``manifest.json``, ``events.jsonl`` (append-only) and ``metrics.json``.

The writer buffers whole lines and hands them to the OS in one ``write`` call, so the file never ends
in a partial line unless the process dies in the middle of that call. Every reader of ``events.jsonl``
(``RunLog`` here, the replay viewer's index) goes through one line reader, :class:`EventLines`, which
tolerates exactly that: a truncated last line is skipped and reported. A corrupt line anywhere else is an
error for ``RunLog`` (strict) and a listed problem, skipped, for the viewer (lenient).
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from simworld.errors import BadInput
from simworld.events import Event

MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
VOLATILE = "volatile.jsonl"
METRICS = "metrics.json"

DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

#: A seq is never negative (the Event model) and fits a 64-bit column (the viewer's index).
SEQ_LIMIT = 1 << 63
#: Lenient reading: problems beyond this many are counted, not listed.
MAX_LISTED_PROBLEMS = 20


def log_default(obj: Any) -> Any:
    # A pydantic model logs as its field values (nested models come back here). Reading __dict__
    # directly is several times faster than model_dump and gives the same result for plain fields.
    if isinstance(obj, BaseModel):
        return obj.__dict__
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot log a value of type {type(obj).__name__}")


def dumps(obj: Any) -> bytes:
    """Serialise for the run log: compact, deterministic, numpy and pydantic aware."""
    return orjson.dumps(obj, default=log_default, option=DUMP_OPTIONS)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(obj, default=log_default, option=DUMP_OPTIONS | orjson.OPT_INDENT_2))
    os.replace(tmp, path)


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("simworld", "simpy", "pydantic", "numpy", "networkx"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


class RunWriter:
    """Owns one run directory while the run is going on."""

    def __init__(self, path: Path, manifest: dict[str, Any], flush_bytes: int = 1 << 16) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise BadInput(str(self.path), f"cannot create the run directory ({err.strerror or err})") from None
        self.manifest = dict(manifest)
        self.manifest.setdefault("status", "running")
        self.manifest.setdefault("started_at", now_iso())
        self.manifest.setdefault("versions", package_versions())
        self._counts: Counter[str] = Counter()
        #: serialised events not yet written (whole lines), and their kinds (counted when written). One
        #: growing buffer, not a list of lines: keeping hundreds of small bytes objects alive makes each new
        #: one several times dearer to allocate.
        self.buf = bytearray()
        self.kinds: list[str] = []
        self.flush_bytes = flush_bytes  # events are written in chunks of about this size
        self._volatile: Any = None
        self._fd = os.open(self.path / EVENTS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self.write_manifest()

    def append(self, line: bytes, kind: str) -> None:
        """Queue one serialised event (without its newline). (``World.log`` does the same inline.)"""
        buf = self.buf
        buf += line
        buf += b"\n"
        self.kinds.append(kind)
        if len(buf) >= self.flush_bytes:
            self.flush()

    def append_volatile(self, seq: int, fields: dict[str, Any]) -> None:
        """Wall-clock facts about event ``seq`` (kept out of events.jsonl so reruns stay identical)."""
        if self._volatile is None:
            self._volatile = open(self.path / VOLATILE, "ab")  # noqa: SIM115 - closed in close()
        self._volatile.write(dumps({"seq": seq, **fields}) + b"\n")

    def flush(self) -> None:
        if self._volatile is not None:
            self._volatile.flush()
        if not self.buf:
            return
        view = memoryview(self.buf)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        finally:
            view.release()
        self.buf.clear()
        self._counts.update(self.kinds)
        self.kinds.clear()

    @property
    def counts(self) -> Counter[str]:
        """Events logged so far, per kind."""
        return self._counts + Counter(self.kinds) if self.kinds else self._counts

    def write_manifest(self) -> None:
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json_atomic(self.path / METRICS, metrics)

    def close(self, status: str, **extra: Any) -> None:
        self.flush()
        if self._volatile is not None:
            self._volatile.close()
        os.fsync(self._fd)
        os.close(self._fd)
        self.manifest.update(extra)
        self.manifest["status"] = status
        self.manifest["finished_at"] = now_iso()
        self.manifest["event_counts"] = dict(sorted(self.counts.items()))
        self.write_manifest()


# -- reading events.jsonl -------------------------------------------------------------------------------
def event_problem(obj: object) -> str | None:
    """Why a parsed line is not an event, or None when it is one: what every reader accepts as an event.

    Only the fields every reader relies on are checked (``seq``, ``t``, ``kind``, ``agent``, ``witnesses``);
    the rest is checked by the Event model (``RunLog.events``) and the payload models (test mode)."""
    if not isinstance(obj, dict):
        return "an event must be a JSON object"
    for key, types in (("seq", int), ("t", (int, float)), ("kind", str)):
        if key not in obj:
            return f"missing field {key!r}"
        if not isinstance(obj[key], types) or isinstance(obj[key], bool):
            return f"field {key!r} has the wrong type"
    if not 0 <= obj["seq"] < SEQ_LIMIT:
        return "field 'seq' must be a non-negative 64-bit integer"
    if obj.get("agent") is not None and not isinstance(obj["agent"], str):
        return "field 'agent' must be a string or null"
    wit = obj.get("witnesses")
    if wit is not None and not (isinstance(wit, list) and all(isinstance(w, str) for w in wit)):
        return "field 'witnesses' must be a list of strings"
    return None


#: What :class:`EventLines` yields per event: ``(event, line, offset, length, seq, t, kind, agent, witnesses)``,
#: that is the parsed line, its 1-based line number, byte offset and length (without the newline), and the
#: fields the reader checked, so that a caller on a hot path need not look them up again.
EventLine = tuple[dict[str, Any], int, int, int, int, float, str, str | None, list[str] | None]


@dataclass
class EventLines:
    """One pass over the lines of an ``events.jsonl`` that start in ``[start, end)`` (``start``: a line start).

    Iterating yields every valid event as an :data:`EventLine`. Blank lines are skipped. The last line of
    the file, when it lacks its newline and is not a valid event, was cut off by a crash: it is skipped and
    ``truncated`` set. Any other line that is not a valid event (:func:`event_problem`) is, when ``strict``,
    a :class:`BadInput` naming the line; otherwise it is skipped, counted in ``n_problems`` and (the first
    ``MAX_LISTED_PROBLEMS``) listed in ``problems`` as (line, what is wrong). Line numbers count from
    ``start``. After the pass, ``lines`` is the number of physical lines read.
    """

    path: str | os.PathLike[str]
    strict: bool = True
    start: int = 0
    end: int | None = None
    lines: int = 0
    truncated: bool = False
    problems: list[tuple[int, str]] = field(default_factory=list)
    n_problems: int = 0

    def __iter__(self) -> Iterator[EventLine]:
        loads, decode_error, join, seq_limit = orjson.loads, orjson.JSONDecodeError, "".join, SEQ_LIMIT
        end = self.end
        limit = os.path.getsize(self.path) if end is None else end
        lineno, off = 0, self.start
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            for raw in fh:
                if off >= limit:
                    break
                lineno += 1
                n = len(raw)
                # The common case in a few lookups and type tests (this loop indexes a million events in
                # seconds); event_problem() says what is wrong with any line that fails them.
                try:
                    obj = loads(raw)
                    s, t, k, a, w = obj["seq"], obj["t"], obj["kind"], obj.get("agent"), obj.get("witnesses")
                    if w is not None:
                        join(w)  # refuses anything but strings, several times faster than a test per item
                except (decode_error, TypeError, KeyError, AttributeError) as err:
                    error: str | None = f"not valid JSON ({err.msg})" if isinstance(err, decode_error) else None
                else:
                    if (
                        type(s) is int
                        and 0 <= s < seq_limit
                        and (type(t) is float or type(t) is int)
                        and type(k) is str
                        and (a is None or type(a) is str)
                        and (w is None or type(w) is list)
                    ):
                        yield obj, lineno, off, n - 1 if raw[-1] == 10 else n, s, t, k, a, w  # 10: newline
                        off += n
                        continue
                    error = None
                off += n
                if error is None:
                    error = event_problem(obj) or "not an event"
                if raw[-1:] != b"\n" and end is None and off >= limit:
                    self.truncated = True  # the writer died in the middle of this line
                elif raw.strip():
                    self._problem(lineno, error)
        self.lines = lineno

    def _problem(self, lineno: int, error: str) -> None:
        if self.strict:
            raise BadInput(str(self.path), error, f"line {lineno}")
        self.n_problems += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append((lineno, error))


@dataclass
class RunLog:
    """A run directory opened for reading: ``sw.load_run(path)``."""

    path: Path
    manifest: dict[str, Any]
    truncated: bool = False
    #: The log's last complete line is ``run.finished`` (the run got to its end).
    finished: bool = False

    @property
    def status(self) -> str:
        """The manifest's status; ``incomplete`` when the manifest still says ``running`` although the log
        ends in ``run.finished`` (the process was killed while it settled the manifest)."""
        status = str(self.manifest.get("status", "unknown"))
        return "incomplete" if status == "running" and self.finished else status

    @property
    def metrics(self) -> dict[str, Any] | None:
        p = self.path / METRICS
        if not p.exists():
            return None
        try:
            value = orjson.loads(p.read_bytes())
        except orjson.JSONDecodeError as err:
            raise BadInput(str(p), f"not valid JSON ({err.msg})") from None
        if not isinstance(value, dict):
            raise BadInput(str(p), f"expected a JSON object, got {type(value).__name__}")
        return value

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.manifest.get("config", {}))

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        """Every event as a dict, in order; its fields checked (:func:`event_problem`), not its payload."""
        for line in self._lines():
            yield line[0]

    def _lines(self) -> Iterator[EventLine]:
        lines = EventLines(self.path / EVENTS, strict=True)
        yield from lines
        if lines.truncated:
            self.truncated = True

    def events(
        self,
        kind: str | None = None,
        agent: str | None = None,
        witness: str | None = None,
        since: float | None = None,
        until: float | None = None,
        volatile: bool = False,
        involves: str | None = None,
    ) -> Iterator[Event]:
        """Validated events, filtered.

        ``kind`` matches exactly, or by prefix when it ends in ``.*`` (``"auction.*"``); ``agent`` is the
        actor (the one who did it: most world events, a Dutch clock tick say, have none); ``witness``
        keeps events that agent witnessed; ``involves`` keeps those it did or witnessed;
        ``since``/``until`` bound simulated time.
        """
        prefix = kind[:-1] if kind and kind.endswith(".*") else None
        extra = self.volatile() if volatile else {}
        for obj, line, _, _, _, _, k, _, _ in self._lines():
            if kind is not None and (not k.startswith(prefix) if prefix else k != kind):
                continue
            if agent is not None and obj.get("agent") != agent:
                continue
            if witness is not None and witness not in (obj.get("witnesses") or ()):
                continue
            if involves is not None and obj.get("agent") != involves and involves not in (obj.get("witnesses") or ()):
                continue
            t = obj["t"]
            if (since is not None and t < since) or (until is not None and t > until):
                continue
            if extra and obj["seq"] in extra and isinstance(obj.get("data", {}), dict):
                obj = {**obj, "data": {**obj.get("data", {}), "volatile": extra[obj["seq"]]}}
            try:
                yield Event.model_validate(obj)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                raise BadInput(
                    str(self.path / EVENTS), f"{where}: {first['msg']}", f"line {line} (seq {obj['seq']})"
                ) from None

    def volatile(self) -> dict[int, dict[str, Any]]:
        """Wall-clock fields by seq (latency, cache hits): not part of the deterministic log."""
        return read_volatile(self.path / VOLATILE)

    def __iter__(self) -> Iterator[Event]:
        return self.events()

    def to_pandas(self, kind: str | None = None, flatten: bool = True) -> Any:
        """A DataFrame of the events (needs pandas); ``flatten`` spreads ``data`` into ``data.*`` columns."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas: pip install 'simworld[analysis]'") from err
        rows = [e.model_dump() for e in self.events(kind=kind)]
        df = pd.DataFrame(rows, columns=["seq", "t", "kind", "agent", "witnesses", "causes", "data"])
        if flatten and len(df):
            data = pd.json_normalize(df["data"].tolist()).add_prefix("data.")
            df = pd.concat([df.drop(columns=["data"]), data], axis=1)
        return df


def read_volatile(path: Path) -> dict[int, dict[str, Any]]:
    """``volatile.jsonl`` by seq (none when the file is absent); a torn or foreign line is skipped."""
    out: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return out
    for raw in path.read_bytes().splitlines():
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # a torn last line after a crash
        if isinstance(rec, dict) and isinstance(rec.get("seq"), int):
            out[rec.pop("seq")] = rec
    return out


def load_run(path: str | os.PathLike[str]) -> RunLog:
    """Open a run directory written by :func:`simworld.run` (or the CLI)."""
    p = Path(path)
    if not p.is_dir():
        raise BadInput(str(p), "not a run directory (no such folder)")
    mpath = p / MANIFEST
    if not mpath.exists():
        raise BadInput(str(p), f"not a run directory (no {MANIFEST})")
    try:
        manifest = orjson.loads(mpath.read_bytes())
    except orjson.JSONDecodeError as err:
        raise BadInput(str(mpath), f"not valid JSON ({err.msg})") from None
    if not isinstance(manifest, dict):
        raise BadInput(str(mpath), f"expected a JSON object, got {type(manifest).__name__}")
    events = p / EVENTS
    if not events.exists():
        raise BadInput(str(p), f"not a run directory (no {EVENTS})")
    if not events.is_file():
        raise BadInput(str(events), "is not a file")
    try:
        truncated = _tail_truncated(events)
        finished = _last_kind(events) == "run.finished"
    except OSError as err:
        raise BadInput(str(events), f"cannot be read ({err.strerror or err})") from None
    return RunLog(path=p, manifest=manifest, truncated=truncated, finished=finished)


def _last_kind(path: Path) -> str | None:
    """The kind of the last complete line of an events file (None if it has none or it is not an event)."""
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        pos, tail = end, b""
        while pos > 0:
            step = min(1 << 16, pos)
            pos -= step
            fh.seek(pos)
            tail = fh.read(step) + tail
            body = tail[: tail.rfind(b"\n")]  # up to the last newline: complete lines only
            start = body.rfind(b"\n")
            if start >= 0 or pos == 0:
                line = body[start + 1:]
                break
        else:
            return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    kind = obj.get("kind") if isinstance(obj, dict) else None
    return kind if isinstance(kind, str) else None


def _tail_truncated(path: Path) -> bool:
    """True when the file ends in a partial line (a crash in the middle of a write)."""
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        if end == 0:
            return False
        fh.seek(end - 1)
        if fh.read(1) == b"\n":
            return False
        # Read back to the last newline: the partial line is whatever follows it.
        pos, chunk, tail = end, 1 << 16, b""
        while pos > 0:
            step = min(chunk, pos)
            pos -= step
            fh.seek(pos)
            tail = fh.read(step) + tail
            cut = tail.rfind(b"\n")
            if cut >= 0:
                tail = tail[cut + 1 :]
                break
    try:
        return event_problem(orjson.loads(tail)) is not None
    except orjson.JSONDecodeError:
        return True
