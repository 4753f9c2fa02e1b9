"""Decisions deferred to batched brains (model brains), resolved together once per simulated instant.

Every decision a batched brain is asked for at one instant is collected; when nothing else is left to
happen at that instant, they are resolved together (brains that share a ``batch_key`` get one
``decide_batch`` call, so a gateway can run their model calls concurrently), and the waiting processes
resume in the order they asked. Simulated time therefore never depends on wall-clock time or on the
order in which model answers arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import simpy
from pydantic import BaseModel

from simworld.decisions import AgentLike, DecisionRequest

if TYPE_CHECKING:
    from simworld.world import World


class DecisionResolver:
    """Owns the pending deferred decisions of one world."""

    def __init__(self, world: World, acted: Callable[[AgentLike, DecisionRequest, BaseModel], None]) -> None:
        self.world = world
        self.env = world.env
        self._acted = acted
        self._pending: list[tuple[AgentLike, DecisionRequest, simpy.Event]] = []
        self._armed = False
        self.batches = 0

    def defer(self, agent: AgentLike, request: DecisionRequest) -> simpy.Event:
        """An event that succeeds with the agent's action once this instant's batch is resolved."""
        self.world.log(
            "decision.requested",
            {"decision": request.decision, "context": request.context},
            agent=agent.id,
            causes=request.causes,
        )
        ev = self.env.event()
        self._pending.append((agent, request, ev))
        if not self._armed:
            self._armed = True
            self.env.timeout(0).callbacks.append(self._settle)
        return ev

    def _settle(self, _ev: simpy.Event) -> None:
        """Resolve once the instant has settled: while other events are still due now, wait behind them
        (a zero delay goes to the back of this instant's queue)."""
        if self.env.peek() == self.env.now:
            self.env.timeout(0).callbacks.append(self._settle)
            return
        self._armed = False
        self.resolve()

    def resolve(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        self.batches += 1
        groups: dict[Hashable, list[int]] = {}
        for i, (agent, _req, _ev) in enumerate(pending):
            groups.setdefault(agent.brain.batch_key, []).append(i)
        actions: list[Any] = [None] * len(pending)
        for idxs in groups.values():
            brain = pending[idxs[0]][0].brain
            outs = brain.decide_batch([(pending[i][0], pending[i][1]) for i in idxs])
            if len(outs) != len(idxs):
                raise RuntimeError(f"brain {brain.name!r} answered {len(outs)} of {len(idxs)} decisions")
            for i, out in zip(idxs, outs):
                actions[i] = out
        for (agent, request, ev), out in zip(pending, actions):
            action = request.validate(out)
            self._acted(agent, request, action)
            ev.succeed(action)
