"""The memory stream: everything an agent perceived or thought, scored and retrieved on demand.

Intake is the hot path (every witness of every world event), so ``observe`` only scores importance
(usually a cached per-kind value) and appends to two columns; nothing is embedded, formatted or logged.
Records are built, texts rendered and vectors computed lazily: all pending memories are embedded in
one batch at the first retrieval after they arrived, then kept in the store.

What is logged: ``memory.written`` for memories that cannot be derived from world events (reflections,
plans, notes), and ``memory.retrieved`` for every retrieval. Observations are not logged again: they are
the events whose ``witnesses`` hold the agent, minus those its ``agent.perceived`` lines say it missed,
and their importance is recomputed by the same scorer (see :func:`simworld.memory.rebuild_memory`).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from simworld.memory.config import MemoryConfig, PersonaLike
from simworld.memory.importance import ImportanceScorer, RuleImportance
from simworld.memory.records import (
    MESSAGE,
    OBSERVATION,
    OTHER_PREFIX,
    WRITTEN_PREFIX,
    MemoryRecord,
    Retrieved,
    Written,
)
from simworld.memory.reflection import Reflector, RuleReflector, Window
from simworld.memory.retrieval import Retrieval
from simworld.memory.services import MemoryServices
from simworld.memory.stores import VectorStore

if TYPE_CHECKING:
    from simworld.world import World


class MemoryStream(Retrieval):
    """An agent's memory stream (Generative Agents): observe, write, retrieve, reflect.

    Give it a :class:`~simworld.memory.MemorySystem` to share an embedder and caches with the other
    agents of a world (scenarios do); without one it makes its own with ``config``. The persona's
    ``roles.memory`` adjusts weights, decay, reflection threshold and importance sensitivity.
    """

    __slots__ = (
        "_access",
        "_aligned",
        "_counters",
        "_forgotten",
        "_ids",
        "_imp",
        "_imp_np",
        "_index",
        "_others",
        "_own",
        "_score",
        "_short",
        "_since",
        "_src",
        "_store",
        "_synced",
        "_threshold",
        "_window_start",
        "config",
        "owner",
        "persona",
        "reflector",
        "scorer",
        "system",
        "world",
    )

    def __init__(
        self,
        config: MemoryConfig | None = None,
        persona: PersonaLike | None = None,
        owner: str | None = None,
        system: MemoryServices | None = None,
        store: VectorStore | None = None,
        scorer: ImportanceScorer | None = None,
        reflector: Reflector | None = None,
    ) -> None:
        base = config or (system.config if system is not None else MemoryConfig())
        self.config = cfg = base.for_persona(persona)
        self.persona = persona
        self.owner = owner if owner is not None else (persona.id if persona is not None else None)
        self.system = system
        self.world: World | None = None
        if scorer is None:
            table = system.kind_table if system is not None else None
            scorer = RuleImportance(cfg.importance, persona, self.owner, table)
        self.scorer = scorer
        self.reflector = reflector if reflector is not None else RuleReflector(cfg.reflection.evidence)
        self._store = store
        self._score = self.scorer.score
        self._own: dict[str, float] = {}  # kind -> importance, for kinds the scorer says are constant
        self._others: dict[str, float] = {}
        # columns, one entry per memory, in the order formed
        self._src: list[Any] = []  # the observed event, or a Written
        self._imp = array("d")
        # reflection
        self._threshold = cfg.reflection.threshold if cfg.reflection.enabled else math.inf
        self._since = 0.0
        self._window_start = 0
        self._counters: dict[str, int] = {}
        # capacity (off by default)
        cap = cfg.capacity.short_term
        self._short: deque[int] | None = deque() if cap is not None else None
        self._forgotten = bytearray()
        # what has been embedded and stored (a prefix of the columns)
        self._synced = 0
        self._aligned = True
        self._ids: list[str] = []
        self._index: dict[str, int] | None = None
        self._imp_np = np.zeros(0)
        self._access = np.zeros(0)

    # -- wiring -------------------------------------------------------------------------------
    def bind(self, world: World, owner: str | None = None) -> None:
        """Join a world (``Agent.attach`` calls this): retrievals and written memories are logged there."""
        self.world = world
        if owner is not None:
            if self.owner is not None and self.owner != owner:
                raise ValueError(f"memory of {self.owner!r} cannot be bound to agent {owner!r}")
            self.owner = owner
            if isinstance(self.scorer, RuleImportance):
                self.scorer.owner = owner
            self._own.clear()
            self._others.clear()
        if self.system is None:
            self.system = MemoryServices(self.config)
        self.system.bind(world)

    def _sys(self) -> MemoryServices:
        if self.system is None:
            self.system = MemoryServices(self.config)
        return self.system

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = self._sys().new_store(self.owner or "memory")
        return self._store

    # -- intake -------------------------------------------------------------------------------
    def observe(self, obs: Any) -> None:
        """Take in one observation (a perceived world event). O(1): score, append, maybe reflect."""
        imp = (self._own if obs.agent == self.owner else self._others).get(obs.kind)
        if imp is None:
            imp = self._score_and_learn(obs)
        self._src.append(obs)
        self._imp.append(imp)
        if self._short is not None:
            self._age_out(len(self._src) - 1)
        since = self._since + imp
        self._since = since
        if since >= self._threshold:
            self._reflect(obs)

    def _score_and_learn(self, obs: Any) -> float:
        """Score through the scorer; remember the result per kind when the scorer says it is constant."""
        fixed = self.scorer.constant(obs.kind, obs.agent is not None and obs.agent == self.owner)
        if fixed is not None:
            (self._own if obs.agent == self.owner else self._others)[obs.kind] = fixed
            return fixed
        return float(self._score(obs))

    def write(
        self,
        kind: str,
        text: str,
        importance: float | None = None,
        evidence: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        causes: Sequence[int] = (),
    ) -> MemoryRecord:
        """Add a memory that is not an observation (a plan, a note, a reflection) and log it."""
        prefix = WRITTEN_PREFIX.get(kind, OTHER_PREFIX)
        n = self._counters.get(prefix, 0)
        self._counters[prefix] = n + 1
        imp = float(importance) if importance is not None else self.scorer.score_written(kind, text)
        t = self.world.now if self.world is not None else (float(self._src[-1].t) if self._src else 0.0)
        w = Written(f"{prefix}{n}", kind, text, imp, t, tuple(evidence), dict(metadata) if metadata else None)
        self._append_written(w)
        if self.world is not None:
            self.world.log(
                "memory.written",
                {"id": w.id, "kind": kind, "text": text, "importance": imp, "evidence": list(w.evidence),
                 "metadata": w.metadata or {}},
                agent=self.owner,
                causes=causes,
            )
        return self.record(len(self._src) - 1)

    def restore(self, mem_id: str, kind: str, text: str, importance: float, t: float,
                evidence: Sequence[str] = (), metadata: dict[str, Any] | None = None) -> None:
        """Put back a written memory read from the log (rebuilding); nothing is logged."""
        prefix, digits = mem_id[:1], mem_id[1:]
        if digits.isdigit():
            self._counters[prefix] = max(self._counters.get(prefix, 0), int(digits) + 1)
        self._append_written(Written(mem_id, kind, text, float(importance), float(t), tuple(evidence),
                                     dict(metadata) if metadata else None))

    def touch(self, ids: Sequence[str], t: float) -> None:
        """Set the last-access time of ``ids`` (rebuilding replays ``memory.retrieved`` with this)."""
        self._sync_columns()
        for mem_id in ids:
            i = self.index.get(mem_id)
            if i is not None:
                self._access[i] = t

    def _append_written(self, w: Written) -> None:
        self._src.append(w)
        self._imp.append(w.importance)
        if self._short is not None:
            self._forgotten.append(0)  # written memories go straight to long-term memory

    def _age_out(self, i: int) -> None:
        """Capacity: the newest observation enters short-term memory; the oldest one leaves it, promoted
        to long-term memory when important enough, otherwise forgotten."""
        short = self._short
        assert short is not None
        short.append(i)
        self._forgotten.append(0)
        while len(short) > self.config.capacity.short_term:  # type: ignore[operator]
            j = short.popleft()
            if self._imp[j] < self.config.capacity.promote_importance:
                self._forgotten[j] = 1

    def _reflect(self, trigger: Any) -> None:
        if self.config.reflection.mode == "model":
            return  # due: wants_reflection() says so until a model brain calls add_reflection
        src, imp = self._src, self._imp
        idx = [i for i in range(self._window_start, len(src)) if not isinstance(src[i], Written)]
        system = self._sys()
        window = Window(self.owner, [src[i] for i in idx], [imp[i] for i in idx], float(trigger.t),
                        system.text_of, system.numbers_of)
        self._since = 0.0
        for r in self.reflector.reflect(window):
            self.write("reflection", r.text, r.importance, r.evidence, r.metadata, causes=(trigger.seq,))
        self._window_start = len(self._src)

    def wants_reflection(self) -> bool:
        """Whether a model brain should reflect now (``reflection.mode: model`` and the threshold reached)."""
        return self.config.reflection.mode == "model" and self._since >= self._threshold

    def add_reflection(self, text: str, evidence: Sequence[Any] = (), importance: float | None = None
                       ) -> MemoryRecord:
        """Write a reflection a model brain made from ``evidence`` (memories, retrieved memories or observed
        events); its importance defaults to that of the most important evidence."""
        ids = [e.id if isinstance(e, (Retrieved, MemoryRecord)) else f"e{e.seq}" for e in evidence]
        if importance is None:
            index = self.index
            known = [self._imp[index[i]] for i in ids if i in index]
            importance = max(known) if known else self.scorer.score_written("reflection", text)
        rec = self.write("reflection", text, importance, ids)
        self._since = 0.0
        self._window_start = len(self._src)
        return rec

    # -- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._src)

    def __iter__(self) -> Iterator[MemoryRecord]:
        return iter(self.records(include_forgotten=True))

    def recent(self, n: int) -> list[Any]:
        """The last ``n`` observations as perceived (world events), oldest first; for rule policies."""
        out: list[Any] = []
        for src in reversed(self._src):
            if len(out) >= n:
                break
            if not isinstance(src, Written):
                out.append(src)
        return out[::-1]

    def records(self, include_forgotten: bool = False) -> list[MemoryRecord]:
        """Every memory in the order formed."""
        return [r for r in (self.record(i) for i in range(len(self._src))) if include_forgotten or not r.forgotten]

    def record(self, i: int) -> MemoryRecord:
        """The ``i``-th memory as a :class:`MemoryRecord`."""
        src = self._src[i]
        t = float(src.t)
        last = float(self._access[i]) if i < len(self._ids) else t
        forgotten = i < len(self._forgotten) and self._forgotten[i] == 1
        if isinstance(src, Written):
            return MemoryRecord(src.id, src.t, src.kind, src.text, src.importance, last, None, src.evidence,
                                src.metadata or {}, None, forgotten)
        kind = MESSAGE if src.kind == "message.sent" else OBSERVATION
        meta = {"event_kind": src.kind, "agent": src.agent, "data": src.data}
        text_of = self._sys().text_of
        return MemoryRecord(f"e{src.seq}", t, kind, lambda: text_of(src), self._imp[i], last,
                            src.seq, (), meta, None, forgotten)

    def get(self, mem_id: str) -> MemoryRecord | None:
        self._sync_columns()
        i = self.index.get(mem_id)
        return None if i is None else self.record(i)

    def embedding(self, mem_id: str) -> np.ndarray:
        self.sync()
        vec: np.ndarray = self.store.vectors([mem_id])[0]
        return vec

    # -- embedding ------------------------------------------------------------------------------
    @property
    def index(self) -> dict[str, int]:
        """Position of each memory id (built on demand: only rebuilding and chroma need it)."""
        self._sync_columns()
        if self._index is None:
            self._index = {mem_id: i for i, mem_id in enumerate(self._ids)}
        return self._index

    def _id_of(self, src: Any) -> str:
        return src.id if isinstance(src, Written) else f"e{src.seq}"

    def _sync_columns(self) -> int:
        """Extend the id index and the numpy columns to every memory; returns where they stood before."""
        n, s = len(self._src), len(self._ids)
        if s == n:
            return s
        new = [self._id_of(x) for x in self._src[s:n]]
        self._ids.extend(new)
        if self._index is not None:
            self._index.update(zip(new, range(s, n)))
        if n > len(self._access):
            size = max(n, 2 * len(self._access), 64)
            self._access = np.resize(self._access, size)
            self._imp_np = np.resize(self._imp_np, size)
        self._access[s:n] = [x.t for x in self._src[s:n]]
        self._imp_np[s:n] = np.frombuffer(self._imp[s:n], dtype=np.float64)
        return s

    def sync(self, vectors: np.ndarray | None = None) -> None:
        """Embed every memory not yet in the store, in one batch, and add them."""
        n = len(self._src)
        s = self._synced
        if s == n:
            return
        self._sync_columns()
        pending = self._src[s:n]
        if vectors is None:
            vectors = self._sys().vectors_for(pending)
        store = self.store
        if store.exhaustive and self._aligned and len(store) != s:
            self._aligned = False
        store.add(self._ids[s:n], vectors)
        self._synced = n
