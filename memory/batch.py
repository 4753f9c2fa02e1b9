"""Retrieval for many agents at once: the scoring of every agent's memories as one set of vector
operations over their concatenation (segment-wise min-max and top-k), instead of a dozen small numpy
calls per agent. Results and logs are exactly those of retrieving one agent after another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from simworld.memory.records import Retrieved

if TYPE_CHECKING:
    from simworld.memory.stream import MemoryStream

Request = tuple["MemoryStream", "str | None", "np.ndarray | None"]


def _vectorisable(stream: MemoryStream) -> bool:
    """Exact scoring over every memory (an aligned numpy store), nothing forgotten, min-max parts."""
    store = stream.store
    return (stream._synced > 0 and store.exhaustive and stream._aligned and stream.config.normalize == "minmax"
            and not stream._forgotten.count(1))


def _segment_minmax(x: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    lo = np.repeat(np.minimum.reduceat(x, starts), sizes)
    span = np.repeat(np.maximum.reduceat(x, starts), sizes) - lo
    flat = span <= 1e-12
    return np.where(flat, 0.5, (x - lo) / np.where(flat, 1.0, span))


def retrieve_batch(requests: Sequence[Request], k: int, now: float | None) -> list[list[Retrieved]]:
    """Retrieve for each (stream, query, query vector), in order; streams must be synced."""
    streams = [r[0] for r in requests]
    fast = [i for i, s in enumerate(streams) if _vectorisable(s)]
    if len({id(s) for s in streams}) < len(streams):
        fast = []  # a stream asked twice must see its first retrieval's access times: go one by one
    picks = _score(requests, fast, k, now) if fast else {}
    out: list[list[Retrieved]] = []
    for i, (stream, query, qv) in enumerate(requests):
        if i in picks:
            chosen, parts, t = picks[i]
            stream._access[chosen] = t
            out.append(stream._deliver(query, k, chosen, parts, stream.config.weights, ()))
        else:
            out.append(stream._retrieve_synced(query, qv, k, None, None, now, ()))
    return out


def _score(requests: Sequence[Request], fast: list[int], k: int, now: float | None
           ) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    streams = [requests[i][0] for i in fast]
    sizes = np.array([s._synced for s in streams], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    nows = [now if now is not None else s._now() for s in streams]
    cfgs = [s.config for s in streams]
    rates = [math.log(c.decay) / c.decay_unit if c.decay < 1.0 else 0.0 for c in cfgs]

    access = np.concatenate([s._access[: s._synced] for s in streams])
    rec = np.exp(np.repeat(rates, sizes) * (np.repeat(nows, sizes) - access))
    rec = _segment_minmax(rec, starts, sizes)
    imp = _segment_minmax(np.concatenate([s._imp_np[: s._synced] for s in streams]), starts, sizes)
    has_query = np.array([requests[i][2] is not None for i in fast])
    sims = np.concatenate([
        s.store.similarities(requests[i][2]).astype(np.float64) if requests[i][2] is not None  # type: ignore[attr-defined]
        else np.zeros(s._synced) for i, s in zip(fast, streams)])
    rel = np.where(np.repeat(has_query, sizes), _segment_minmax(sims, starts, sizes), 0.0)

    w = np.array([[c.weights.recency, c.weights.importance, c.weights.relevance] for c in cfgs])
    total = np.repeat(w[:, 0], sizes) * rec + np.repeat(w[:, 1], sizes) * imp + np.repeat(w[:, 2], sizes) * rel

    seg = np.repeat(np.arange(len(streams)), sizes)
    local = np.arange(len(total)) - np.repeat(starts, sizes)
    order = np.lexsort((-local, -total, seg))  # by agent, best first, later memory first on ties
    picks = {}
    for j, i in enumerate(fast):
        top = order[starts[j] : starts[j] + min(k, int(sizes[j]))]
        parts = np.stack([rec[top], imp[top], rel[top], total[top]])
        picks[i] = (local[top], parts, nows[j])
    return picks
