"""The memory machinery of one world: :class:`MemoryServices` plus making each agent's memory and
retrieving for many agents at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from simworld.memory.batch import retrieve_batch
from simworld.memory.config import PersonaLike
from simworld.memory.records import Retrieved, Written
from simworld.memory.services import MemoryServices
from simworld.memory.simple import ListMemory
from simworld.memory.stream import MemoryStream

from simworld.errors import from_validation


class MemorySystem(MemoryServices):
    """Builds each agent's memory from one :class:`MemoryConfig` and serves it embeddings.

    >>> memory = MemorySystem(cfg.memory).bind(world)       # in a scenario's setup
    >>> agent = Agent(persona, brain, memory=memory.stream(persona))
    """

    def stream(self, persona: PersonaLike | None, owner: str | None = None) -> MemoryStream | ListMemory:
        """A new agent memory as the config says (``kind: list`` gives the plain :class:`ListMemory`)."""
        if self.config.kind == "list":
            return ListMemory()
        try:
            return MemoryStream(self.config, persona=persona, owner=owner, system=self)
        except ValidationError as err:
            who = persona.id if persona is not None else "?"
            raise from_validation(f"persona {who!r}", err, "roles.memory") from None

    # -- many agents at once --------------------------------------------------------------------
    def retrieve_many(
        self,
        requests: Sequence[tuple[MemoryStream, str | None]],
        k: int = 5,
        now: float | None = None,
    ) -> list[list[Retrieved]]:
        """Retrieve for many agents together: every pending memory of every stream is embedded in one
        batch, every distinct query in another, then all streams are scored in one vectorised pass
        (:mod:`simworld.memory.batch`). Results and logs are the same as calling ``stream.retrieve``
        for each request in order."""
        pending: list[Any] = []
        seen: set[int] = set()
        for stream, _query in requests:
            for src in stream._src[stream._synced :]:
                if isinstance(src, Written) or id(src) in seen:
                    continue
                seen.add(id(src))
                entry = self._entry(src)
                if entry is None or entry[2] < 0:
                    pending.append(src)
        if pending:
            self.vectors_for(pending)
        for stream, _query in requests:
            stream.sync()
        distinct = sorted({q for _s, q in requests if q})
        qvecs = dict(zip(distinct, self.embed_queries(distinct))) if distinct else {}
        return retrieve_batch([(s, q, qvecs.get(q) if q else None) for s, q in requests], k, now)
