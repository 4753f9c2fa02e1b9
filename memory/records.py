"""What a memory is, as callers see it: a record, and a record with the score parts that retrieved it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

#: Memory kinds a stream writes itself; brains may write any other kind (``plan``, ``note``, ...).
OBSERVATION, MESSAGE, REFLECTION = "observation", "message", "reflection"

#: Id prefixes of written (non-derivable) memories; observations are ``e<event seq>``.
WRITTEN_PREFIX = {"reflection": "r", "plan": "p", "message": "m"}
OTHER_PREFIX = "n"


class MemoryRecord:
    """One memory.

    ``id`` is stable and derivable from the run log: ``e<seq>`` for an observation of event ``seq``,
    ``r<n>`` for the n-th reflection, ``p<n>`` plans, ``m<n>`` written messages, ``n<n>`` other notes.
    ``t`` is when it was formed and ``last_access`` when it was last retrieved (simulated time);
    ``evidence`` links a reflection to the memories it rests on. An observation's ``text`` is rendered
    from its event the first time it is read (records are built in bulk, e.g. for reflection).
    """

    __slots__ = (
        "_text",
        "embedding",
        "evidence",
        "forgotten",
        "id",
        "importance",
        "kind",
        "last_access",
        "metadata",
        "seq",
        "t",
    )

    def __init__(
        self,
        id: str,
        t: float,
        kind: str,
        text: str | Callable[[], str],
        importance: float,
        last_access: float,
        seq: int | None = None,
        evidence: tuple[str, ...] = (),
        metadata: dict[str, Any] | None = None,
        embedding: np.ndarray | None = None,
        forgotten: bool = False,
    ) -> None:
        self.id = id
        self.t = t
        self.kind = kind
        self._text = text
        self.importance = importance
        self.last_access = last_access
        self.seq = seq
        self.evidence = evidence
        self.metadata = metadata if metadata is not None else {}
        self.embedding = embedding
        self.forgotten = forgotten

    @property
    def text(self) -> str:
        text = self._text
        if not isinstance(text, str):
            text = self._text = text()
        return text

    def key(self) -> tuple[Any, ...]:
        """The fields a rebuilt memory must match (everything but metadata and embedding)."""
        return (self.id, self.kind, self.t, self.importance, self.last_access, self.seq, self.evidence,
                self.forgotten, self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoryRecord) and self.key() == other.key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"MemoryRecord({self.id!r}, t={self.t}, kind={self.kind!r}, importance={self.importance}, "
                f"text={self.text[:60]!r})")


class Retrieved(NamedTuple):
    """A retrieved memory with its normalised score parts and their weighted total (as logged)."""

    record: MemoryRecord
    recency: float
    importance: float
    relevance: float
    total: float

    @property
    def id(self) -> str:
        return self.record.id

    def parts(self) -> dict[str, float]:
        return {"recency": self.recency, "importance": self.importance, "relevance": self.relevance,
                "total": self.total}


@dataclass(slots=True, frozen=True)
class Written:
    """A memory that is not an observation (reflection, plan, note): kept as it was written."""

    id: str
    kind: str
    text: str
    importance: float
    t: float
    evidence: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = None
