"""Scored retrieval over a memory stream's columns (a mixin of :class:`~simworld.memory.MemoryStream`).

A retrieval scores every eligible memory by recency, importance and relevance (each a small function
in :mod:`simworld.memory.scoring`), normalises each part, combines them with the weights, takes the
exact top k, marks those memories accessed and logs ``memory.retrieved`` with every part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from simworld.memory import scoring
from simworld.memory.config import ScoringWeights
from simworld.memory.records import MESSAGE, OBSERVATION, Retrieved, Written

if TYPE_CHECKING:
    from simworld.memory.config import MemoryConfig
    from simworld.memory.records import MemoryRecord
    from simworld.memory.stores import VectorStore

    from simworld.world import World

_ROUND = 6


class Retrieval:
    """Retrieval for a stream; relies on the stream's columns (``_access``, ``_imp_np``, ``_ids``...)."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by MemoryStream
        config: MemoryConfig
        owner: str | None
        world: World | None
        _synced: int
        _aligned: bool
        _src: list[Any]
        _ids: list[str]
        _access: np.ndarray
        _imp_np: np.ndarray
        _forgotten: bytearray

        @property
        def store(self) -> VectorStore: ...

        @property
        def index(self) -> dict[str, int]: ...


        def sync(self, vectors: np.ndarray | None = None) -> None: ...
        def record(self, i: int) -> MemoryRecord: ...
        def _sys(self) -> Any: ...

    def retrieve(
        self,
        query: str | None = None,
        k: int = 5,
        *,
        kinds: Sequence[str] | None = None,
        weights: ScoringWeights | None = None,
        now: float | None = None,
        causes: Sequence[int] = (),
        query_vector: np.ndarray | None = None,
    ) -> list[Retrieved]:
        """The ``k`` memories with the highest weighted recency + importance + relevance to ``query``.

        Returns each with its score parts, marks them accessed now, and logs ``memory.retrieved``.
        Without a query, relevance is left out (0 for every memory). ``query_vector`` skips embedding
        the query (e.g. to ask with an item's vector); ``query`` is then only logged.
        """
        self.sync()
        qv = query_vector
        if qv is None and query:
            qv = self._sys().embed_queries([query])[0]
        return self._retrieve_synced(query, qv, k, kinds, weights, now, causes)

    def _retrieve_synced(
        self,
        query: str | None,
        qv: np.ndarray | None,
        k: int,
        kinds: Sequence[str] | None,
        weights: ScoringWeights | None,
        now: float | None,
        causes: Sequence[int],
    ) -> list[Retrieved]:
        cfg = self.config
        w = weights or cfg.weights
        n = self._synced
        if now is None:
            now = self._now()
        cand = self._eligible(n, kinds)
        rec = scoring.normalise("recency", scoring.recency(self._access[cand], now, cfg.decay, cfg.decay_unit),
                                cfg.normalize)
        imp = scoring.normalise("importance", scoring.importance(self._imp_np[cand]), cfg.normalize)
        if qv is not None and len(cand):
            pos, sims = self._relevance(qv, cand, w.recency * rec + w.importance * imp)
            if pos is not None:
                cand, rec, imp = cand[pos], rec[pos], imp[pos]
            rel = scoring.normalise("relevance", scoring.relevance(sims.astype(np.float64)), cfg.normalize)
        else:
            rel = np.zeros(len(cand))
        total = scoring.combine(rec, imp, rel, w)
        pick = scoring.top_k(total, k, prefer_late=True)
        chosen = cand[pick]
        self._access[chosen] = now
        return self._deliver(query, k, chosen, np.stack([rec[pick], imp[pick], rel[pick], total[pick]]), w, causes)

    def _now(self) -> float:
        """Simulated now: the world's clock, or (unbound) the time of the latest memory."""
        return self.world.now if self.world is not None else (float(self._src[-1].t) if self._src else 0.0)

    def _deliver(self, query: str | None, k: int, chosen: np.ndarray, parts: np.ndarray, w: ScoringWeights,
                 causes: Sequence[int]) -> list[Retrieved]:
        """Build the results (parts rounded as logged) and log ``memory.retrieved``."""
        r4 = np.round(parts, _ROUND).tolist()
        out = [Retrieved(self.record(i), *p) for i, p in zip(chosen.tolist(), zip(*r4))]
        if self.world is not None:
            self.world.log(
                "memory.retrieved",
                {
                    "query": query, "k": k, "ids": [r.id for r in out],
                    "parts": dict(zip(("recency", "importance", "relevance", "total"), r4)),
                    "weights": w.model_dump(),
                },
                agent=self.owner,
                causes=causes,
            )
        return out

    def _eligible(self, n: int, kinds: Sequence[str] | None) -> np.ndarray:
        """Indices of the memories a retrieval may return (not forgotten, of the asked kinds)."""
        if kinds is None and not self._forgotten.count(1):
            return np.arange(n)
        ok = np.ones(n, dtype=bool)
        if self._forgotten.count(1):
            ok[: len(self._forgotten)] &= np.frombuffer(bytes(self._forgotten[:n]), dtype=np.uint8) == 0
        if kinds is not None:
            wanted = set(kinds)
            ok &= np.fromiter((self.record_kind(i) in wanted for i in range(n)), dtype=bool, count=n)
        return np.arange(n) if ok.all() else np.flatnonzero(ok)

    def record_kind(self, i: int) -> str:
        src = self._src[i]
        if isinstance(src, Written):
            return src.kind
        return MESSAGE if src.kind == "message.sent" else OBSERVATION

    def _relevance(self, qv: np.ndarray, cand: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Cosine similarity to the query for the candidates: every eligible memory with an aligned
        exhaustive store (positions None); otherwise the positions of the store's ``config.candidates``
        nearest plus as many ranked by ``prior`` (weighted recency + importance), whose similarities
        come from their stored vectors. Recency and importance stay normalised over every eligible
        memory; relevance is normalised over the candidates."""
        store = self.store
        if store.exhaustive and self._aligned:
            return None, store.similarities(qv)[cand]  # type: ignore[attr-defined]
        c = self.config.candidates
        hits = store.search(qv, c)
        index = self.index
        known = {index[m]: float(x) for m, x in zip(hits.ids, hits.scores) if m in index}
        near = np.fromiter(known, dtype=np.int64, count=len(known))
        at = np.searchsorted(cand, near)
        ok = (at < len(cand)) & (cand[np.minimum(at, len(cand) - 1)] == near)
        pos = np.union1d(scoring.top_k(prior, c, prefer_late=True), at[ok])
        missing = [int(i) for i in cand[pos] if int(i) not in known]
        if missing:
            sims = store.vectors([self._ids[i] for i in missing]) @ np.asarray(qv, dtype=np.float32)
            known.update(zip(missing, sims.tolist()))
        return pos, np.array([known[int(i)] for i in cand[pos]])
