"""One pass over ``events.jsonl``: where each line starts and the few fields the viewer filters on.

Lines come from the run log's one line reader (:class:`simworld.runlog.EventLines`, lenient: a corrupt
line is listed as a problem and skipped, so it is found and named here, not when a page happens to
include it). Only ``seq``, ``t``, ``kind``, ``agent`` and ``witnesses`` are kept, as numpy columns. A large
file is split at line boundaries and scanned by worker processes.
"""

from __future__ import annotations

import gc
import itertools
import os
import pickle
import subprocess
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simworld.runlog import MAX_LISTED_PROBLEMS, EventLines

#: Files larger than this are scanned by several processes (spawning one costs ~0.2 s) ...
PARALLEL_BYTES = 48 << 20
#: ... on a machine with at least this many CPUs.
PARALLEL_MIN_CPUS = 4


@dataclass
class Columns:
    """The scanned columns of a run log (or of one byte range of it), one row per valid event."""

    offsets: np.ndarray  # int64: byte offset of the line
    lengths: np.ndarray  # int32: bytes, without the newline
    seq: np.ndarray  # int64
    t: np.ndarray  # float64
    kind: np.ndarray  # int32 code into ``kinds``
    agent: np.ndarray  # int32 code into ``agents``, -1 for none
    wset: np.ndarray  # int32 code into ``wsets`` (the witness set, as agent codes), -1 for none
    kinds: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    wsets: list[tuple[int, ...]] = field(default_factory=list)
    lines: int = 0  # physical lines read, blank ones included
    problems: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, what is wrong)
    n_problems: int = 0
    truncated: bool = False  # the last line was cut off (the writer died mid-write)


def scan_range(path: str, start: int = 0, end: int | None = None) -> Columns:
    """Scan the lines that start in ``[start, end)`` (``start`` must be a line start)."""
    offsets, lengths, seqs, ts = array("q"), array("i"), array("q"), array("d")
    kcodes, acodes, wcodes = array("i"), array("i"), array("i")
    kinds: dict[str, int] = {}
    agents: dict[str, int] = {}
    wsets: dict[tuple[str, ...], int] = {}
    reader = EventLines(path, strict=False, start=start, end=end)
    gc_was_on = gc.isenabled()
    gc.disable()  # a million small containers would trigger many useless collections
    try:
        for _, _, off, n, seq, t, k, a, w in reader:
            kc = kinds.get(k)
            if kc is None:
                kc = kinds[k] = len(kinds)
            if a is None:
                ac = -1
            else:
                known = agents.get(a)
                if known is None:
                    known = agents[a] = len(agents)
                ac = known
            if w:
                wkey = tuple(w)
                wc = wsets.get(wkey)
                if wc is None:
                    wc = wsets[wkey] = len(wsets)
            else:
                wc = -1
            offsets.append(off)
            lengths.append(n)
            seqs.append(seq)
            ts.append(t)
            kcodes.append(kc)
            acodes.append(ac)
            wcodes.append(wc)
    finally:
        if gc_was_on:
            gc.enable()
    names = list(agents)
    return Columns(
        offsets=np.frombuffer(offsets, np.int64).copy(),
        lengths=np.frombuffer(lengths, np.int32).copy(),
        seq=np.frombuffer(seqs, np.int64).copy(),
        t=np.frombuffer(ts, np.float64).copy(),
        kind=np.frombuffer(kcodes, np.int32).copy(),
        agent=np.frombuffer(acodes, np.int32).copy(),
        wset=np.frombuffer(wcodes, np.int32).copy(),
        kinds=list(kinds),
        agents=names,
        wsets=[tuple(_code(agents, names, x) for x in ws) for ws in wsets],
        lines=reader.lines,
        problems=reader.problems,
        n_problems=reader.n_problems,
        truncated=reader.truncated,
    )


def _code(table: dict[str, int], names: list[str], name: str) -> int:
    code = table.get(name)
    if code is None:
        code = table[name] = len(names)
        names.append(name)
    return code


def split_points(path: str, parts: int) -> list[int]:
    """Byte offsets that cut the file into ``parts`` ranges at line starts."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            fh.seek(size * i // parts)
            fh.readline()
            pos = fh.tell()
            if cuts[-1] < pos < size:
                cuts.append(pos)
    return cuts + [size]


def merge(parts: Sequence[Columns]) -> Columns:
    """Join the columns of consecutive ranges, recoding names into one table each."""
    if len(parts) == 1:
        return parts[0]
    kinds: dict[str, int] = {}
    agents: dict[str, int] = {}
    names: list[str] = []
    wsets: dict[tuple[int, ...], int] = {}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("offsets", "lengths", "seq", "t", "kind", "agent", "wset")}
    problems: list[tuple[int, str]] = []
    n_problems, base = 0, 0
    for p in parts:
        kmap = np.array([kinds.setdefault(k, len(kinds)) for k in p.kinds] or [0], np.int32)
        amap = np.array([_code(agents, names, a) for a in p.agents] + [-1], np.int32)  # [-1] maps code -1
        wmap = np.array(
            [wsets.setdefault(tuple(int(amap[x]) for x in ws), len(wsets)) for ws in p.wsets] + [-1], np.int32
        )  # the trailing -1 maps code -1 (no witnesses) to itself
        cols["offsets"].append(p.offsets)
        cols["lengths"].append(p.lengths)
        cols["seq"].append(p.seq)
        cols["t"].append(p.t)
        cols["kind"].append(kmap[p.kind])
        cols["agent"].append(amap[p.agent])
        cols["wset"].append(wmap[p.wset])
        problems += [(base + line, msg) for line, msg in p.problems]
        n_problems += p.n_problems
        base += p.lines
    return Columns(
        **{k: np.concatenate(v) for k, v in cols.items()},
        kinds=list(kinds),
        agents=names,
        wsets=list(wsets),
        lines=base,
        problems=problems[:MAX_LISTED_PROBLEMS],
        n_problems=n_problems,
        truncated=parts[-1].truncated,
    )


def default_workers(path: str | Path) -> int:
    """Processes to scan ``path`` with: up to 4 for a large file on a machine with 4 or more CPUs, else 1
    (on 2 shared cores, workers measured no faster than one process: see benchmarks/viewer.py)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if os.path.getsize(path) < PARALLEL_BYTES or cpus < PARALLEL_MIN_CPUS:
        return 1
    return min(cpus, 4)


def scan(path: str | Path, workers: int | None = None) -> Columns:
    """Scan a whole ``events.jsonl`` with ``workers`` processes (default: :func:`default_workers`).

    Workers are plain ``python -m simworld.viewer.scan`` subprocesses (not multiprocessing, which would
    re-import the caller's main module); this process scans the first range itself.
    """
    path = str(path)
    if workers is None:
        workers = default_workers(path)
    cuts = split_points(path, max(1, workers))
    if len(cuts) <= 2:
        return scan_range(path)
    ranges = list(itertools.pairwise(cuts))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "simworld.viewer.scan", path, str(a), "" if i == len(ranges) - 1 else str(b)],
            stdout=subprocess.PIPE,
        )
        for i, (a, b) in enumerate(ranges)
        if i > 0
    ]
    parts = [scan_range(path, 0, cuts[1])]
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"scanning {path} failed in a worker (exit code {proc.returncode})")
        parts.append(pickle.loads(out))
    return merge(parts)


if __name__ == "__main__":  # a worker: scan one range and hand the columns back on stdout
    from simworld.viewer.scan import scan_range as _scan  # pickle the class under its importable name

    _path, _start, _end = sys.argv[1:4]
    sys.stdout.buffer.write(pickle.dumps(_scan(_path, int(_start), int(_end) if _end else None), protocol=5))
