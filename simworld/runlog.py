"""The run directory: ``manifest.json``, ``events.jsonl`` (append-only) and ``metrics.json``.

The writer buffers whole lines and hands them to the OS in one ``write`` call, so the file never ends
in a partial line unless the process dies in the middle of that call. The reader tolerates exactly that:
a truncated last line is skipped and reported, while a corrupt line anywhere else is an error.
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
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

_DUMP_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
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
    return orjson.dumps(obj, default=_default, option=_DUMP_OPTS)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(obj, default=_default, option=_DUMP_OPTS | orjson.OPT_INDENT_2))
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
        self.counts: Counter[str] = Counter()
        self._buf: list[bytes] = []
        self._buf_bytes = 0
        self._flush_bytes = flush_bytes
        self._volatile: Any = None
        self._fd = os.open(self.path / EVENTS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self.write_manifest()

    def append(self, line: bytes, kind: str) -> None:
        """Queue one serialised event (without its newline)."""
        self._buf.append(line)
        self._buf_bytes += len(line) + 1
        self.counts[kind] += 1
        if self._buf_bytes >= self._flush_bytes:
            self.flush()

    def append_volatile(self, seq: int, fields: dict[str, Any]) -> None:
        """Wall-clock facts about event ``seq`` (kept out of events.jsonl so reruns stay identical)."""
        if self._volatile is None:
            self._volatile = open(self.path / VOLATILE, "ab")  # noqa: SIM115 - closed in close()
        self._volatile.write(dumps({"seq": seq, **fields}) + b"\n")

    def flush(self) -> None:
        if self._volatile is not None:
            self._volatile.flush()
        if not self._buf:
            return
        data = b"\n".join(self._buf) + b"\n"
        self._buf.clear()
        self._buf_bytes = 0
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

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


@dataclass
class RunLog:
    """A run directory opened for reading: ``sw.load_run(path)``."""

    path: Path
    manifest: dict[str, Any]
    truncated: bool = False

    @property
    def status(self) -> str:
        return str(self.manifest.get("status", "unknown"))

    @property
    def metrics(self) -> dict[str, Any] | None:
        p = self.path / METRICS
        if not p.exists():
            return None
        try:
            return orjson.loads(p.read_bytes())
        except orjson.JSONDecodeError as err:
            raise BadInput(str(p), f"not valid JSON ({err.msg})") from None

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.manifest.get("config", {}))

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        """Every event as a dict, in order; fast and unvalidated beyond JSON."""
        p = self.path / EVENTS
        with open(p, "rb") as fh:
            lineno = 0
            pending: bytes | None = None
            for raw in fh:
                if pending is not None:
                    yield self._parse(pending, lineno, last=False)
                lineno += 1
                pending = raw
            if pending is not None:
                if not pending.endswith(b"\n"):
                    # The last line lacks its newline: complete if it parses, else cut off by a crash.
                    try:
                        obj = orjson.loads(pending)
                    except orjson.JSONDecodeError:
                        obj = None
                    if not isinstance(obj, dict):
                        self.truncated = True
                        return
                    yield obj
                else:
                    yield self._parse(pending, lineno, last=True)

    def _parse(self, raw: bytes, lineno: int, last: bool) -> dict[str, Any]:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise BadInput(str(self.path / EVENTS), f"not valid JSON ({err.msg})", f"line {lineno}") from None
        if not isinstance(obj, dict):
            raise BadInput(str(self.path / EVENTS), "an event must be a JSON object", f"line {lineno}")
        return obj

    def events(
        self,
        kind: str | None = None,
        agent: str | None = None,
        witness: str | None = None,
        since: float | None = None,
        until: float | None = None,
        volatile: bool = False,
    ) -> Iterator[Event]:
        """Validated events, filtered.

        ``kind`` matches exactly, or by prefix when it ends in ``.*`` (``"auction.*"``); ``agent`` is the
        actor; ``witness`` keeps events that agent perceived; ``since``/``until`` bound simulated time.
        """
        prefix = kind[:-1] if kind and kind.endswith(".*") else None
        extra = self.volatile() if volatile else {}
        for i, obj in enumerate(self.iter_raw()):
            k = obj.get("kind")
            if kind is not None and (not isinstance(k, str) or (not k.startswith(prefix) if prefix else k != kind)):
                continue
            if agent is not None and obj.get("agent") != agent:
                continue
            if witness is not None and witness not in obj.get("witnesses", ()):
                continue
            t = obj.get("t", 0.0)
            if (since is not None and t < since) or (until is not None and t > until):
                continue
            if extra and obj.get("seq") in extra:
                obj = {**obj, "data": {**obj.get("data", {}), "volatile": extra[obj["seq"]]}}
            try:
                yield Event.model_validate(obj)
            except ValidationError as err:
                first = err.errors()[0]
                field = ".".join(str(x) for x in first["loc"])
                raise BadInput(
                    str(self.path / EVENTS), f"{field}: {first['msg']}", f"line {i + 1} (seq {obj.get('seq')})"
                ) from None

    def volatile(self) -> dict[int, dict[str, Any]]:
        """Wall-clock fields by seq (latency, cache hits): not part of the deterministic log."""
        p = self.path / VOLATILE
        out: dict[int, dict[str, Any]] = {}
        if p.exists():
            for raw in p.read_bytes().splitlines():
                try:
                    rec = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue  # a torn last line after a crash
                if isinstance(rec, dict) and isinstance(rec.get("seq"), int):
                    out[rec.pop("seq")] = rec
        return out

    def __iter__(self) -> Iterator[Event]:
        return self.events()

    def to_pandas(self, kind: str | None = None, flatten: bool = True) -> Any:
        """A DataFrame of the events (needs pandas); ``flatten`` spreads ``data`` into ``data.*`` columns."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas: pip install pandas") from err
        rows = [e.model_dump() for e in self.events(kind=kind)]
        df = pd.DataFrame(rows, columns=["seq", "t", "kind", "agent", "witnesses", "causes", "data"])
        if flatten and len(df):
            data = pd.json_normalize(df["data"].tolist()).add_prefix("data.")
            df = pd.concat([df.drop(columns=["data"]), data], axis=1)
        return df


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
    if not (p / EVENTS).exists():
        raise BadInput(str(p), f"not a run directory (no {EVENTS})")
    return RunLog(path=p, manifest=manifest, truncated=_tail_truncated(p / EVENTS))


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
        return not isinstance(orjson.loads(tail), dict)
    except orjson.JSONDecodeError:
        return True
