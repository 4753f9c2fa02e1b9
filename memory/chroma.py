"""``ChromaStore``: a chromadb collection on disk behind the :class:`~simworld.memory.stores.VectorStore`
protocol, for long-lived agents across runs and large shared corpora (a recommender's item catalogue).

chromadb is imported only when a store is created (the ``chroma`` extra). Embeddings always come from
us: the collection gets no embedding function, because chromadb's default one downloads a model at run
time, which fails offline. Telemetry is off.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from simworld.memory.stores import Hits

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def open_client(path: str | Path) -> Any:
    """A chromadb ``PersistentClient`` at ``path`` with telemetry off."""
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as err:
        raise ImportError("the chroma store needs the chroma extra: pip install 'simworld[chroma]'") from err
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def collection_name(namespace: str, key: str) -> str:
    """A valid chroma collection name for ``key`` (3-512 of [A-Za-z0-9._-], alphanumeric at both ends),
    unique even when two keys differ only in characters chroma does not allow."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=4).hexdigest()
    safe = _UNSAFE.sub("-", key)[:200]
    return f"{namespace}-{safe}-{digest}".strip("._-")


class ChromaStore:
    """One chroma collection (one per agent for memories). Cosine space; HNSW search.

    ``ef_search`` trades speed for recall (chroma's default of 100 is kept unless set). Adds are
    written in batches of at most the client's maximum batch size, as upserts, so a store reopened
    in a later run can be written again without duplicate-id errors.
    """

    name = "chroma"
    exhaustive = False

    def __init__(self, path: str | Path | None = None, collection: str = "simworld", client: Any = None,
                 ef_search: int = 100, ef_construction: int = 200) -> None:
        if client is None:
            if path is None:
                raise ValueError("ChromaStore needs a path or a client")
            client = open_client(path)
        self.client = client
        self.path = str(path) if path is not None else None
        self.collection_name = collection
        self.ef_search = ef_search
        self.collection = client.get_or_create_collection(
            collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": ef_search, "ef_construction": ef_construction}},
        )
        self._batch = int(client.get_max_batch_size())

    def __len__(self) -> int:
        return int(self.collection.count())

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), self._batch):
            end = start + self._batch
            self.collection.upsert(ids=list(ids[start:end]), embeddings=vectors[start:end])

    def search(self, query: np.ndarray, k: int) -> Hits:
        return self.search_batch(np.atleast_2d(query), k)[0]

    def search_batch(self, queries: np.ndarray, k: int) -> list[Hits]:
        n = len(self)
        if n == 0 or k <= 0:
            return [Hits([], np.empty(0, dtype=np.float32)) for _ in range(len(queries))]
        res = self.collection.query(query_embeddings=np.asarray(queries, dtype=np.float32),
                                    n_results=min(k, n), include=["distances"])
        return [Hits(list(ids), 1.0 - np.asarray(dist, dtype=np.float32))
                for ids, dist in zip(res["ids"], res["distances"])]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids``, in the order asked (chroma returns them in its own order)."""
        if not ids:
            return np.zeros((0, 0), dtype=np.float32)
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        return np.stack([by_id[i] for i in ids])

    def describe(self) -> dict[str, Any]:
        from importlib import metadata

        return {"name": self.name, "path": self.path, "collection": self.collection_name,
                "space": "cosine", "ef_search": self.ef_search, "chromadb": metadata.version("chromadb")}
