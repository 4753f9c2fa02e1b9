"""The World: one simpy clock, the run log, named random streams, the agents, and decisions.

A run's whole life goes through four methods: ``emit`` (log a world event and deliver it to the
perception of each witness), ``log`` (record without delivery), ``decide``/``decide_many`` (ask agents
for choices) and ``run`` (advance the clock).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Generator, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import simpy
from pydantic import BaseModel
from simpy.events import Event as SimEvent

from simworld.decisions import AgentLike, DecisionRequest
from simworld.rng import Streams
from simworld.runlog import RunWriter, dumps

Captured = tuple[str, Any, Any, tuple[str, ...], tuple[int, ...], Any]
_captured: ContextVar[list[Captured] | None] = ContextVar("simworld_captured", default=None)

#: simpy orders events at one instant by (priority, insertion). Normal events use priority 1; the
#: decision resolver uses 2 so that it runs only once everything else at that instant has happened.
_RESOLVE_PRIORITY = 2


@dataclass(slots=True)
class WorldEvent:
    """An event as perception sees it (the same fields as a log line, minus witnesses). Treat as read-only."""

    seq: int
    t: float
    kind: str
    agent: str | None
    data: dict[str, Any]
    causes: tuple[int, ...] = ()


def _quiet_gc() -> Callable[[], None]:
    """While the clock runs, keep what already exists (agents, personas, setup) out of the cyclic
    collector and collect less often: long-lived agents, memories and events are otherwise walked again
    and again (a quarter of a large run's time). Returns the function that restores both."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], 20_000), max(old[1], 20), max(old[2], 20))

    def restore() -> None:
        gc.unfreeze()
        gc.set_threshold(*old)

    return restore


class World:
    """The simulation: a clock, a log, random streams, agents."""

    def __init__(self, seed: int = 0, writer: RunWriter | None = None) -> None:
        self.env = simpy.Environment()
        self.seed = int(seed)
        self.streams = Streams(self.seed)
        self.writer = writer
        self.agents: dict[str, AgentLike] = {}
        self.seq = 0
        self._decisions = 0
        self._batches = 0
        self._pending: list[tuple[AgentLike, DecisionRequest, SimEvent]] = []
        self._resolver: SimEvent | None = None
        #: Set (e.g. by a signal handler) to end the run cleanly after the current event.
        self.stop_requested = False
        #: Why the run was asked to stop early (e.g. a model budget), if it was not a signal.
        self.stop_reason: str | None = None
        #: Facts about the run's machinery (memory store, embedder, models) merged into manifest.json.
        self.manifest_extra: dict[str, Any] = {}
        self._closers: list[Callable[[World], None]] = []

    @property
    def stats(self) -> dict[str, int]:
        """Counters of the run so far: decisions, batches (of deferred decisions)."""
        return {"decisions": self._decisions, "batches": self._batches}

    # -- time and randomness -------------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.env.now)

    def rng(self, name: str):  # -> numpy.random.Generator
        """The named random stream (``"agent:alice"``, ``"scenario:auction"``)."""
        return self.streams(name)

    def process(self, gen: Generator[Any, Any, Any]) -> simpy.Process:
        return self.env.process(gen)

    def timeout(self, delay: float, value: Any = None) -> simpy.Timeout:
        return self.env.timeout(delay, value)

    # -- the log ------------------------------------------------------------------------------
    def log(
        self,
        kind: str,
        data: dict[str, Any] | None = None,
        agent: str | None = None,
        witnesses: Sequence[str] = (),
        causes: Sequence[int] = (),
        volatile: dict[str, Any] | None = None,
    ) -> int:
        """Append one event to the run log and return its seq. Nobody perceives it.

        ``volatile`` holds wall-clock facts about the event (latency, whether a cache served it); they go
        to ``volatile.jsonl`` beside the log, so ``events.jsonl`` stays identical across reruns. Inside
        :meth:`capture` the event is held back (and -1 returned) until :meth:`flush_captured`.
        """
        held = _captured.get()
        if held is not None:
            held.append((kind, data, agent, tuple(witnesses), tuple(causes), volatile))
            return -1
        seq = self.seq
        self.seq = seq + 1
        if self.writer is not None:
            line = dumps(
                {
                    "seq": seq,
                    "t": float(self.env._now),
                    "kind": kind,
                    "agent": agent,
                    "witnesses": witnesses,
                    "causes": causes,
                    "data": data if data is not None else {},
                }
            )
            self.writer.append(line, kind)
            if volatile:
                self.writer.append_volatile(seq, volatile)
        return seq

    def capture(self) -> list[Captured]:
        """Hold back this task's log events (for concurrent model calls, whose completion order is not
        deterministic): returns the list they collect in; write them with :meth:`flush_captured`."""
        held: list[Captured] = []
        _captured.set(held)
        return held

    def flush_captured(self, held: list[Captured]) -> list[int]:
        """Write held-back events in their order now; returns their seqs."""
        return [self.log(kind, data, agent, witnesses, causes, volatile)
                for kind, data, agent, witnesses, causes, volatile in held]

    def on_close(self, fn: Callable[[World], None]) -> None:
        """Call ``fn(world)`` when the run ends, whatever the status (close clients, report usage)."""
        self._closers.append(fn)

    def close(self) -> None:
        closers, self._closers = self._closers, []
        for fn in closers:
            fn(self)

    def emit(
        self,
        kind: str,
        data: dict[str, Any] | None = None,
        witnesses: Sequence[str] = (),
        agent: str | None = None,
        causes: Sequence[int] = (),
        hidden: Sequence[str] = (),
    ) -> int:
        """Log a world event once and hand it to the perception of each witness, in order.

        ``hidden`` names data keys that are logged (as ground truth for analysis) but that witnesses do
        not perceive; the log line lists them under ``data["hidden"]``.
        """
        data = data if data is not None else {}
        if hidden:
            seq = self.log(kind, {**data, "hidden": list(hidden)}, agent, witnesses, causes)
            data = {k: v for k, v in data.items() if k not in hidden}
        else:
            seq = self.log(kind, data, agent, witnesses, causes)
        if witnesses:
            event = WorldEvent(seq, self.env._now, kind, agent, data, tuple(causes))
            agents = self.agents
            for wid in witnesses:
                agents[wid].perceive(event)
        return seq

    # -- agents -------------------------------------------------------------------------------
    def add_agent(self, agent: AgentLike) -> AgentLike:
        if agent.id in self.agents:
            raise ValueError(f"duplicate agent id {agent.id!r}")
        self.agents[agent.id] = agent
        attach = getattr(agent, "attach", None)
        if attach is not None:
            attach(self)
        self.log("agent.joined", agent.joined_record(), agent=agent.id)
        return agent

    # -- decisions ----------------------------------------------------------------------------
    def decide(self, agent: AgentLike, request: DecisionRequest) -> SimEvent:
        """An event whose value is the agent's validated action.

        Rule brains answer at once. Batched (model) brains are collected, and every decision pending
        at this simulated instant is resolved together once the instant has otherwise settled;
        processes then resume in the order they asked.
        """
        if agent.brain.batched:
            return self._defer(agent, request)
        ev = SimEvent(self.env)
        ev._ok = True
        ev._value = self._decide_now(agent, request)
        self.env.schedule(ev)
        return ev

    def decide_many(self, pairs: Iterable[tuple[AgentLike, DecisionRequest]]) -> SimEvent:
        """One event whose value is the list of actions, in the order of ``pairs``."""
        pairs = list(pairs)
        results: list[Any] = [None] * len(pairs)
        group = SimEvent(self.env)
        waiting = 0

        def fill(index: int, ev: SimEvent) -> None:
            nonlocal waiting
            results[index] = ev._value
            waiting -= 1
            if waiting == 0:
                group.succeed(results)

        for i, (agent, request) in enumerate(pairs):
            if agent.brain.batched:
                waiting += 1
                self._defer(agent, request).callbacks.append(lambda ev, i=i: fill(i, ev))
            else:
                results[i] = self._decide_now(agent, request)
        if waiting == 0:
            group.succeed(results)
        return group

    def _decide_now(self, agent: AgentLike, request: DecisionRequest) -> Any:
        action = agent.brain.decide(agent, request)
        if action.__class__ is not request.action_type:
            action = request.validate(action)
        self._acted(agent, request, action)
        return action

    def _defer(self, agent: AgentLike, request: DecisionRequest) -> SimEvent:
        self.log(
            "decision.requested",
            {"decision": request.decision, "context": request.context},
            agent=agent.id,
            causes=request.causes,
        )
        ev = SimEvent(self.env)
        self._pending.append((agent, request, ev))
        if self._resolver is None:
            resolver = SimEvent(self.env)
            resolver._ok = True
            resolver._value = None
            resolver.callbacks.append(self._resolve_pending)
            self.env.schedule(resolver, priority=_RESOLVE_PRIORITY)
            self._resolver = resolver
        return ev

    def _resolve_pending(self, _resolver: SimEvent) -> None:
        pending, self._pending = self._pending, []
        self._resolver = None
        self._batches += 1
        # Brains that share a batch key (model brains on one gateway) are resolved in one call.
        groups: dict[Any, list[int]] = {}
        for i, (agent, _req, _ev) in enumerate(pending):
            groups.setdefault(getattr(agent.brain, "batch_key", id(agent.brain)), []).append(i)
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

    def _acted(self, agent: AgentLike, request: DecisionRequest, action: Any) -> None:
        self._decisions += 1
        # The agent witnesses its own action. A pydantic action is logged (and perceived) as its field
        # values; reading __dict__ avoids a serialiser round trip on the hottest path of a run.
        fields = action.__dict__ if isinstance(action, BaseModel) else action
        self.emit(
            "agent.acted",
            {"decision": request.decision, "action": fields, "brain": agent.brain.name},
            witnesses=(agent.id,),
            agent=agent.id,
            causes=request.causes,
        )

    # -- running ------------------------------------------------------------------------------
    def run(
        self,
        until: float | None = None,
        progress: Callable[[World], None] | None = None,
        every: int = 4096,
    ) -> None:
        """Advance the clock until nothing is scheduled (or ``until``), calling ``progress`` now and then."""
        env = self.env
        step, peek = env.step, env.peek
        limit = math.inf if until is None else until
        n = 0
        restore_gc = _quiet_gc()
        try:
            while not self.stop_requested:
                t = peek()
                if t == math.inf or t > limit:
                    break
                step()
                n += 1
                if progress is not None and n % every == 0:
                    progress(self)
        finally:
            restore_gc()
        if progress is not None:
            progress(self)
