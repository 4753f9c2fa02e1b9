"""Retrieval scoring, one small function per factor (as in Generative Agents), then combined.

Every function takes and returns numpy arrays over the candidate memories, so one retrieval is a few
vector operations whatever the number of memories.
"""

from __future__ import annotations

import math

import numpy as np
from simworld.memory.config import ScoringWeights

#: Importance is on a 1-10 scale (Generative Agents' poignancy); ``fixed`` normalisation divides by this.
IMPORTANCE_MAX = 10.0


def recency(last_access: np.ndarray, now: float, decay: float, unit: float) -> np.ndarray:
    """``decay ** ((now - last_access) / unit)``: 1 for a memory touched now, less the longer ago."""
    if decay >= 1.0:
        return np.ones(len(last_access))
    rate = math.log(decay) / unit
    return np.exp(rate * (now - last_access))


def importance(values: np.ndarray) -> np.ndarray:
    """The stored importance (1-10) as it is; normalisation puts it on the other parts' scale."""
    return values


def relevance(similarity: np.ndarray) -> np.ndarray:
    """Cosine similarity to the query, in [-1, 1]."""
    return similarity


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] over the candidates; all equal gives 0.5 each (as Generative Agents does)."""
    if len(x) == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    if hi - lo <= 1e-12:
        return np.full(len(x), 0.5)
    return (x - lo) / (hi - lo)


def fixed(part: str, x: np.ndarray) -> np.ndarray:
    """Scale by the factor's known range: recency is already in (0, 1], importance / 10, relevance (cos+1)/2."""
    if part == "importance":
        return x / IMPORTANCE_MAX
    if part == "relevance":
        return (x + 1.0) * 0.5
    return x


def normalise(part: str, x: np.ndarray, how: str) -> np.ndarray:
    return minmax(x) if how == "minmax" else fixed(part, x)


def combine(rec: np.ndarray, imp: np.ndarray, rel: np.ndarray, w: ScoringWeights) -> np.ndarray:
    """The weighted sum of the normalised parts."""
    return w.recency * rec + w.importance * imp + w.relevance * rel


def top_k(scores: np.ndarray, k: int, prefer_late: bool = False) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, ties broken by position (earliest first, or
    latest first with ``prefer_late``). Exact: ``argpartition`` finds the k-th value, every score tied
    with it is considered, then the few survivors are sorted."""
    n = len(scores)
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    if k < n:
        part = np.argpartition(scores, n - k)[n - k:]
        kth = scores[part].min()
        cand = np.flatnonzero(scores >= kth) if np.count_nonzero(scores == kth) > 1 else part
    else:
        cand = np.arange(n)
    tie = -cand if prefer_late else cand
    order = np.lexsort((tie, -scores[cand]))
    return cand[order[:k]].astype(np.int64, copy=False)
