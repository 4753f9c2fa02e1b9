"""What the memory streams of one world share: the config, the embedder, how stores are made, and caches
of event texts and vectors (a broadcast seen by a thousand agents is rendered and embedded once). It also
records the embedder and store in the run's manifest. :class:`simworld.memory.MemorySystem` adds making
streams and serving many agents at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from simworld.memory.config import MemoryConfig
from simworld.memory.embedders import Embedder, make_embedder
from simworld.memory.importance import KindTable
from simworld.memory.records import Written
from simworld.memory.stores import NumpyStore, VectorStore
from simworld.memory.text import Renderer, describe_event

if TYPE_CHECKING:
    from simworld.world import World


class MemoryServices:
    """What the memory streams of one world share: the config, the embedder, how stores are made, and
    caches of event texts and vectors. A stream made without a :class:`MemorySystem` gets its own."""

    def __init__(
        self,
        config: MemoryConfig | None = None,
        embedder: Embedder | None = None,
        renderer: Renderer = describe_event,
        store_factory: Callable[[str], VectorStore] | None = None,
    ) -> None:
        self.config = config or MemoryConfig()
        self.renderer = renderer
        self.world: World | None = None
        self._embedder = embedder
        self._store_factory = store_factory
        self.kind_table = KindTable(self.config.importance)
        self._chroma_client: Any = None
        # event cache: seq -> [the event object, its text, its row in _vecs or -1, its numeric fields]
        self._events: dict[int, list[Any]] = {}
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        self._rows = 0

    # -- wiring -------------------------------------------------------------------------------
    def bind(self, world: World) -> Self:
        """Use ``world`` (chroma's default folder is inside its run directory) and record this system
        in its manifest (the first system bound to a world is the one recorded)."""
        if self.world is world:
            return self
        self.world = world
        if "memory" not in world.manifest_extra:
            world.manifest_extra["memory"] = self.describe()
        return self

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.config.embedder, self.config.embedding_dim)
        return self._embedder

    def new_store(self, owner: str) -> VectorStore:
        """An empty store for ``owner``'s memories."""
        if self._store_factory is not None:
            return self._store_factory(owner)
        if self.config.store == "chroma":
            from simworld.memory.chroma import ChromaStore, collection_name, open_client

            if self._chroma_client is None:
                self._chroma_client = open_client(self.chroma_path())
            return ChromaStore(collection=collection_name("memory", owner), client=self._chroma_client)
        return NumpyStore(self.embedder.dim, check_ids=False)  # the stream's ids are unique by construction

    def chroma_path(self) -> Path:
        if self.config.chroma_path is not None:
            return Path(self.config.chroma_path)
        writer = self.world.writer if self.world is not None else None
        if writer is None:
            raise ValueError("memory.store is chroma but no chroma_path is set and the world has no run directory")
        return Path(writer.path) / "chroma"

    def describe(self) -> dict[str, Any]:
        """What goes into ``manifest.json`` under ``memory``."""
        cfg = self.config
        if cfg.kind == "list":
            return {"stream": "list", "config": cfg.model_dump(mode="json")}
        if self._store_factory is not None:
            store: dict[str, Any] = {"name": "custom"}
        elif cfg.store == "chroma":
            try:
                path: str | None = str(self.chroma_path())
            except ValueError:
                path = None
            store = {"name": "chroma", "path": path, "collections": "one per agent", "space": "cosine"}
        else:
            store = {"name": "numpy", "exact": True}
        return {"stream": "memory-stream", "embedder": self.embedder.describe(), "store": store,
                "config": cfg.model_dump(mode="json")}

    # -- texts and vectors ----------------------------------------------------------------------
    def _entry(self, event: Any) -> list[Any] | None:
        """The cache entry of this very event object (perception may hand out altered copies with the
        same seq; those are not shared)."""
        entry = self._events.get(event.seq)
        return entry if entry is not None and entry[0] is event else None

    def _entry_or_new(self, event: Any) -> list[Any] | None:
        """The cache entry of ``event``, made if its seq has none (None for an altered copy)."""
        entry = self._events.get(event.seq)
        if entry is None:
            entry = self._events[event.seq] = [event, None, -1, None]
        return entry if entry[0] is event else None

    def text_of(self, event: Any) -> str:
        entry = self._entry_or_new(event)
        if entry is None:
            return self.renderer(event)
        if entry[1] is None:
            entry[1] = self.renderer(event)
        text: str = entry[1]
        return text

    def numbers_of(self, event: Any) -> tuple[tuple[str, float], ...]:
        """The event's numeric top-level data fields (cached: every witness's reflection reads them)."""
        entry = self._entry_or_new(event)
        if entry is not None and entry[3] is not None:
            cached: tuple[tuple[str, float], ...] = entry[3]
            return cached
        nums = tuple((k, v) for k, v in event.data.items() if type(v) is float or type(v) is int)
        if entry is not None:
            entry[3] = nums
        return nums

    def vectors_for(self, items: Sequence[Any]) -> np.ndarray:
        """Vectors of memories (observed events or written memories), embedding what is not cached in
        one batch."""
        dim = self.embedder.dim
        out = np.empty((len(items), dim), dtype=np.float32)
        todo: list[int] = []
        texts: list[str] = []
        hits: list[int] = []
        rows: list[int] = []
        for i, src in enumerate(items):
            if isinstance(src, Written):
                todo.append(i)
                texts.append(src.text)
                continue
            entry = self._entry(src)
            if entry is not None and entry[2] >= 0:
                hits.append(i)
                rows.append(entry[2])
            else:
                todo.append(i)
                texts.append(self.text_of(src))
        if hits:
            out[hits] = self._vecs[rows]
        if todo:
            vecs = self.embedder.embed(texts)
            for i, vec in zip(todo, vecs):
                out[i] = vec
                src = items[i]
                if not isinstance(src, Written):
                    entry = self._entry(src)
                    if entry is not None and entry[2] < 0:
                        entry[2] = self._keep(vec)
        return out

    def _keep(self, vec: np.ndarray) -> int:
        if self._rows >= len(self._vecs):
            grown = np.zeros((max(64, 2 * len(self._vecs)), len(vec)), dtype=np.float32)
            if self._rows:
                grown[: self._rows] = self._vecs[: self._rows]
            self._vecs = grown
        self._vecs[self._rows] = vec
        self._rows += 1
        return self._rows - 1

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(queries))

