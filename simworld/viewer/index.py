"""The event index of a run: select rows by seq, time, kind, actor and witness; read their lines.

Built once from :func:`simworld.viewer.scan.scan`; every query is a few numpy operations over the
columns, and a page of events is the raw log lines joined into a JSON array (no re-serialising).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from simworld.viewer.scan import Columns, scan

MAX_PAGE = 5000


class QueryError(ValueError):
    """A query parameter that cannot be understood (the server answers 400 with this message)."""


@dataclass(frozen=True)
class Query:
    """Which events: every condition given must hold. Bounds are inclusive."""

    kinds: tuple[str, ...] = ()  # exact kinds, or prefixes written 'auction.*'
    agent: str | None = None  # the actor
    witness: str | None = None  # the agent is among the witnesses
    perceived: str | None = None  # witnessed and not missed (see agent.perceived)
    involves: str | None = None  # the actor or a witness
    t0: float | None = None
    t1: float | None = None
    seq0: int | None = None
    seq1: int | None = None
    seqs: tuple[int, ...] | None = None
    offset: int = 0
    limit: int = 200
    desc: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> Query:
        """From URL query parameters (``kind=a,b.*&agent=x&t1=5&order=desc&limit=50``)."""
        seqs = None
        if params.get("seqs"):
            seqs = tuple(_integer("seqs", s) for s in params["seqs"].split(",") if s)
        order = params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise QueryError("order must be asc or desc")
        limit = int_param(params, "limit")
        return cls(
            kinds=tuple(k for k in params.get("kind", "").split(",") if k),
            agent=params.get("agent") or None,
            witness=params.get("witness") or None,
            perceived=params.get("perceived") or None,
            involves=params.get("involves") or None,
            t0=float_param(params, "t0"),
            t1=float_param(params, "t1"),
            seq0=int_param(params, "seq0"),
            seq1=int_param(params, "seq1"),
            seqs=seqs,
            offset=max(0, int_param(params, "offset") or 0),
            limit=min(MAX_PAGE, max(0, 200 if limit is None else limit)),
            desc=order == "desc",
        )


#: Integers in a query must fit the index's 64-bit columns (and the JSON of an answer).
INT_RANGE = (-(1 << 63), (1 << 63) - 1)


def _integer(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer (got {raw[:40]!r})") from None
    if not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise QueryError(f"{name} is out of range (a 64-bit integer)")
    return value


def int_param(params: dict[str, str], name: str) -> int | None:
    """The integer parameter ``name`` (None when absent or empty); QueryError when it is not one."""
    raw = params.get(name)
    return None if raw is None or raw == "" else _integer(name, raw)


def float_param(params: dict[str, str], name: str) -> float | None:
    """The finite number parameter ``name`` (None when absent or empty); QueryError when it is not one."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(f"{name} must be a number (got {raw[:40]!r})") from None
    if not math.isfinite(value):
        raise QueryError(f"{name} must be finite")
    return value


class RunIndex:
    """Columns of one ``events.jsonl`` plus the means to query them and read lines back."""

    def __init__(self, path: str | Path, workers: int | None = None, cache: bool = False) -> None:
        """Scan ``path`` (``cache``: reuse or store the columns in the user's cache folder)."""
        self.path = Path(path)
        start = time.perf_counter()
        self.cols: Columns = self._columns(workers, cache)
        c = self.cols
        self.n = len(c.seq)
        self.size = os.path.getsize(self.path)
        self._agent_code = {a: i for i, a in enumerate(c.agents)}
        self._kind_code = {k: i for i, k in enumerate(c.kinds)}
        # The writer logs in seq and time order; anything else falls back to masks and a seq lookup.
        self.seq_is_row = bool(self.n == 0 or (c.seq[0] == 0 and np.array_equal(c.seq, np.arange(self.n))))
        self.t_sorted = bool(self.n < 2 or np.all(c.t[1:] >= c.t[:-1]))
        self._seq_order = None if self.seq_is_row else np.argsort(c.seq, kind="stable")
        self._perceived: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.build_seconds = time.perf_counter() - start

    def _columns(self, workers: int | None, cache: bool) -> Columns:
        from simworld.viewer import cache as columns_cache

        self.cached = False
        if not cache or os.path.getsize(self.path) < columns_cache.MIN_BYTES:
            return scan(self.path, workers)
        cols = columns_cache.load(self.path)
        if cols is not None:
            self.cached = True
            return cols
        cols = scan(self.path, workers)
        columns_cache.save(self.path, cols)
        return cols

    # -- facts ------------------------------------------------------------------------------------
    def kind_counts(self) -> dict[str, int]:
        counts = np.bincount(self.cols.kind, minlength=len(self.cols.kinds))
        return {k: int(counts[i]) for i, k in enumerate(self.cols.kinds)}

    def time_range(self) -> tuple[float, float]:
        if self.n == 0:
            return (0.0, 0.0)
        return (float(self.cols.t.min()), float(self.cols.t.max()))

    def problems(self) -> list[str]:
        """Human-readable warnings about the log file itself."""
        c, out = self.cols, []
        if c.truncated:
            out.append(
                "events.jsonl ends in a cut-off line (the run was stopped in the middle of a write); "
                f"showing the {self.n} complete events before it."
            )
        if c.n_problems:
            listed = "; ".join(f"line {line}: {msg}" for line, msg in c.problems)
            more = f" (and {c.n_problems - len(c.problems)} more)" if c.n_problems > len(c.problems) else ""
            out.append(
                f"events.jsonl has {c.n_problems} corrupt line{'s' if c.n_problems != 1 else ''}, "
                f"skipped: {listed}{more}."
            )
        return out

    def rows_of_kind(self, kind: str) -> np.ndarray:
        code = self._kind_code.get(kind)
        return np.flatnonzero(self.cols.kind == code) if code is not None else np.empty(0, np.int64)

    def rows_for_seqs(self, seqs: Iterable[int]) -> np.ndarray:
        """Rows of the given seqs, in the order given, unknown seqs left out."""
        want = np.asarray(list(seqs), np.int64)
        if self.seq_is_row:
            return want[(want >= 0) & (want < self.n)]
        order = self._seq_order
        assert order is not None
        pos = np.searchsorted(self.cols.seq, want, sorter=order)
        pos = np.minimum(pos, max(self.n - 1, 0))
        found = order[pos] if self.n else np.empty(0, np.int64)
        return found[self.cols.seq[found] == want] if self.n else found

    def row_at_or_before(self, seq: int) -> int:
        """The last row whose seq is at most ``seq`` (-1 if none)."""
        if self.seq_is_row:
            return max(-1, min(seq, self.n - 1))
        rows = np.flatnonzero(self.cols.seq <= seq)
        return int(rows[-1]) if len(rows) else -1

    # -- selection --------------------------------------------------------------------------------
    def select(self, q: Query) -> np.ndarray:
        """Rows (ascending) that match every condition of ``q``."""
        c = self.cols
        if q.seqs is not None:
            rows = np.unique(self.rows_for_seqs(q.seqs))
        else:
            lo, hi = 0, self.n
            if self.t_sorted:
                if q.t0 is not None:
                    lo = max(lo, int(np.searchsorted(c.t, q.t0, "left")))
                if q.t1 is not None:
                    hi = min(hi, int(np.searchsorted(c.t, q.t1, "right")))
            if self.seq_is_row:
                if q.seq0 is not None:
                    lo = max(lo, q.seq0)
                if q.seq1 is not None:
                    hi = min(hi, q.seq1 + 1)
            rows = np.arange(lo, max(lo, hi), dtype=np.int64)
        mask: np.ndarray | None = None

        def keep(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else (mask & m)

        if not self.t_sorted or q.seqs is not None:
            if q.t0 is not None:
                keep(c.t[rows] >= q.t0)
            if q.t1 is not None:
                keep(c.t[rows] <= q.t1)
        if not self.seq_is_row or q.seqs is not None:
            if q.seq0 is not None:
                keep(c.seq[rows] >= q.seq0)
            if q.seq1 is not None:
                keep(c.seq[rows] <= q.seq1)
        if q.kinds:
            keep(np.isin(c.kind[rows], self._kind_codes(q.kinds)))
        if q.agent is not None:
            keep(c.agent[rows] == self._agent_code.get(q.agent, -2))
        if q.witness is not None:
            keep(np.isin(c.wset[rows], self._wsets_with(q.witness)))
        if q.involves is not None:
            actor = c.agent[rows] == self._agent_code.get(q.involves, -2)
            keep(actor | np.isin(c.wset[rows], self._wsets_with(q.involves)))
        if mask is not None:
            rows = rows[mask]
        if q.perceived is not None:
            rows = rows[np.isin(rows, self.perceived_rows(q.perceived), assume_unique=True)]
        return rows

    def page(self, q: Query) -> tuple[int, np.ndarray]:
        """(how many match, the rows of the requested page in the requested order)."""
        rows = self.select(q)
        total = len(rows)
        if q.desc:
            rows = rows[::-1]
        return total, rows[q.offset : q.offset + q.limit]

    def _kind_codes(self, kinds: tuple[str, ...]) -> np.ndarray:
        codes: set[int] = set()
        for k in kinds:
            if k.endswith(".*") or k == "*":
                prefix = k[:-1]
                codes.update(i for name, i in self._kind_code.items() if name.startswith(prefix))
            elif k in self._kind_code:
                codes.add(self._kind_code[k])
        return np.fromiter(codes, np.int32, len(codes))

    def _wsets_with(self, agent: str) -> np.ndarray:
        code = self._agent_code.get(agent)
        if code is None:
            return np.empty(0, np.int32)
        hits = [i for i, ws in enumerate(self.cols.wsets) if code in ws]
        return np.asarray(hits, np.int32)

    def missed_seqs(self, agent: str) -> list[int]:
        """The seqs the agent's perception logged as missed (``agent.perceived``), in log order."""
        missed: list[int] = []
        lo, hi = INT_RANGE
        for ev in self.events(self.select(Query(kinds=("agent.perceived",), agent=agent, limit=0))):
            data = ev.get("data")
            if isinstance(data, dict) and isinstance(data.get("missed"), list):
                missed += [m for m in data["missed"] if type(m) is int and lo <= m <= hi]
        return missed

    def perceived_rows(self, agent: str) -> np.ndarray:
        """Rows the agent witnessed, less those its perception logged as missed (``agent.perceived``)."""
        with self._lock:
            cached = self._perceived.get(agent)
        if cached is not None:
            return cached
        rows = np.flatnonzero(np.isin(self.cols.wset, self._wsets_with(agent)))
        missed = self.missed_seqs(agent)
        if missed:
            rows = rows[~np.isin(rows, self.rows_for_seqs(missed))]
        with self._lock:
            self._perceived[agent] = rows
        return rows

    # -- reading ----------------------------------------------------------------------------------
    def lines(self, rows: Iterable[int]) -> list[bytes]:
        """The raw log lines of ``rows`` (without newlines)."""
        offsets, lengths = self.cols.offsets, self.cols.lengths
        out = []
        with open(self.path, "rb") as fh:
            fd = fh.fileno()
            for r in rows:
                out.append(os.pread(fd, int(lengths[r]), int(offsets[r])))
        return out

    def events(self, rows: Iterable[int]) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines(rows)]

    def events_json(self, rows: Iterable[int]) -> bytes:
        """A JSON array of the events, straight from the log lines."""
        return b"[" + b",".join(self.lines(rows)) + b"]"

    def histogram(self, q: Query, bins: int = 200) -> dict[str, Any]:
        """Counts of matching events over simulated time (the timeline's density strip)."""
        t0, t1 = self.time_range()
        rows = self.select(q) if q != Query() else None
        ts = self.cols.t if rows is None else self.cols.t[rows]
        hi = t1 if t1 > t0 else t0 + 1.0
        bins = max(1, min(bins, 2000)) if math.isfinite(hi - t0) else 1  # a span numpy cannot split
        counts, _ = np.histogram(ts, bins=bins, range=(t0, hi))
        return {"t_min": t0, "t_max": t1, "counts": counts.tolist()}
