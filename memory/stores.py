"""Vector stores behind one protocol: ``NumpyStore`` (the default, exact) and ``ChromaStore`` (persistent).

Scores are cosine similarities, best first. Ties are broken by insertion order, so a search is a
deterministic function of what was added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from simworld.memory.scoring import top_k


@dataclass(slots=True)
class Hits:
    """The result of one search: ids and cosine similarities, best first."""

    ids: list[str]
    scores: np.ndarray


class VectorStore(Protocol):
    """What a memory stream (or a recommender's catalogue) needs from a vector index.

    ``exhaustive`` stores can also score every vector at once (``similarities``), which lets the stream
    rank memories exactly by their combined score; the others are asked for candidates.
    """

    name: str
    exhaustive: bool

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> Hits: ...

    def search_batch(self, queries: np.ndarray, k: int) -> list[Hits]: ...

    def vectors(self, ids: Sequence[str]) -> np.ndarray: ...

    def __len__(self) -> int: ...

    def describe(self) -> dict[str, Any]: ...


class NumpyStore:
    """A contiguous float32 matrix that grows geometrically; exact top-k with ``argpartition``.

    Row ``i`` is the ``i``-th vector added, so a caller that adds in its own order (the memory stream)
    can use row numbers directly. ``normalize`` L2-normalises rows and queries (cosine similarity);
    turn it off to score raw inner products. ``check_ids`` rejects an id added twice; a caller that
    guarantees unique ids (the stream) turns it off and the id index is then built only when asked.
    """

    name = "numpy"
    exhaustive = True

    def __init__(self, dim: int | None = None, capacity: int = 64, normalize: bool = True,
                 check_ids: bool = True) -> None:
        self.dim = dim
        self.normalize = normalize
        self.check_ids = check_ids
        self._initial = max(1, capacity)
        self._mat = np.zeros((self._initial, dim or 0), dtype=np.float32)
        self._n = 0
        self._ids: list[str] = []
        self._index: dict[str, int] | None = {} if check_ids else None

    def __len__(self) -> int:
        return self._n

    @property
    def matrix(self) -> np.ndarray:
        """The stored vectors (a view, rows in insertion order)."""
        return self._mat[: self._n]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(ids):
            raise ValueError(f"expected {len(ids)} vectors as a 2-d array, got shape {vectors.shape}")
        if self.dim is None:
            self.dim = vectors.shape[1]
            self._mat = np.zeros((self._initial, self.dim), dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have {vectors.shape[1]} dimensions, the store holds {self.dim}")
        index = self._index
        if index is not None:
            for i, key in enumerate(ids):
                if key in index:
                    raise ValueError(f"id {key!r} is already in the store")
                index[key] = self._n + i
        need = self._n + len(ids)
        if need > len(self._mat):
            grown = np.zeros((max(need, 2 * len(self._mat)), self.dim), dtype=np.float32)
            grown[: self._n] = self._mat[: self._n]
            self._mat = grown
        block = self._mat[self._n : need]
        block[:] = vectors
        if self.normalize:
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            np.divide(block, norms, out=block, where=norms > 0)
        self._ids.extend(ids)
        self._n = need

    def _query(self, query: np.ndarray) -> np.ndarray:
        q = np.asarray(query, dtype=np.float32)
        if not self.normalize:
            return q
        if q.ndim == 1:
            norm = float(np.sqrt(q @ q))
            return q / np.float32(norm) if norm > 0 and abs(norm - 1.0) > 1e-6 else q
        norm = np.linalg.norm(q, axis=-1, keepdims=True)
        out: np.ndarray = np.divide(q, norm, out=np.zeros_like(q), where=norm > 0)
        return out

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """The similarity of every stored vector to ``query``, in row order."""
        sims: np.ndarray = self._mat[: self._n] @ self._query(query)
        return sims

    def search(self, query: np.ndarray, k: int) -> Hits:
        scores = self.similarities(query)
        rows = top_k(scores, k)
        ids = self._ids
        return Hits([ids[r] for r in rows], scores[rows])

    def search_batch(self, queries: np.ndarray, k: int) -> list[Hits]:
        """Many queries in one matrix product (e.g. a thousand users against one item catalogue)."""
        q = self._query(np.atleast_2d(queries))
        scores = q @ self._mat[: self._n].T
        ids = self._ids
        out = []
        for row in scores:
            rows = top_k(row, k)
            out.append(Hits([ids[r] for r in rows], row[rows]))
        return out

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        index = self._rows()
        rows = [index[i] for i in ids]
        return self._mat[rows]

    def row(self, key: str) -> int | None:
        return self._rows().get(key)

    def _rows(self) -> dict[str, int]:
        if self._index is None or len(self._index) != self._n:
            self._index = {key: i for i, key in enumerate(self._ids)}
        return self._index

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "dim": self.dim, "normalize": self.normalize}
