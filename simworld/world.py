"""The World: one simpy clock, the run log, named random streams, the agents, and decisions.

A run's whole life goes through four methods: ``emit`` (log a world event and deliver it to the
perception of each witness), ``log`` (record without delivery), ``decide``/``decide_many`` (ask agents
for choices) and ``run`` (advance the clock). Deferred (batched) decisions are resolved by
:class:`simworld.resolver.DecisionResolver`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np
import orjson
import simpy
from pydantic import BaseModel

from simworld.decisions import AgentLike, DecisionRequest
from simworld.events import EventTypes, WorldEvent, checking_default
from simworld.resolver import DecisionResolver
from simworld.rng import Streams
from simworld.runlog import DUMP_OPTIONS, RunWriter, log_default

__all__ = ["World", "WorldEvent"]

Captured = tuple[str, Any, Any, tuple[str, ...], tuple[int, ...], Any]
_captured: ContextVar[list[Captured] | None] = ContextVar("simworld_captured", default=None)

#: Keys of a logged payload that perception never hands to witnesses (analysis annotations).
_ANNOTATIONS = ("hidden", "facts", "covert")


class World:
    """The simulation: a clock, a log, random streams, agents.

    ``event_types`` holds the payload models of the run's event kinds (a scenario's run declares them
    all; by default only the core kinds are known); with ``check_events`` (default: the
    ``SIMWORLD_CHECK_EVENTS`` environment variable) every logged payload is validated against them.
    """

    def __init__(
        self,
        seed: int = 0,
        writer: RunWriter | None = None,
        event_types: EventTypes | None = None,
        check_events: bool | None = None,
    ) -> None:
        self.env = simpy.Environment()
        self.seed = int(seed)
        self.streams = Streams(self.seed)
        self.writer = writer
        self.event_types = event_types if event_types is not None else EventTypes(strict=False)
        self.check_events = checking_default() if check_events is None else bool(check_events)
        self.agents: dict[str, AgentLike] = {}
        self.seq = 0
        self._decisions = 0
        self.resolver = DecisionResolver(self, self._acted)
        #: Set (e.g. by a signal handler) to end the run cleanly after the current event.
        self.stop_requested = False
        #: Why the run was asked to stop early (e.g. a model budget), if it was not a signal.
        self.stop_reason: str | None = None
        #: Facts about the run's machinery (memory store, embedder, models) merged into manifest.json.
        self.manifest_extra: dict[str, Any] = {}
        self._closers: list[Callable[[World], None]] = []
        self._stoppers: list[Callable[[], None]] = []

    @property
    def stats(self) -> dict[str, int]:
        """Counters of the run so far: decisions, batches (of deferred decisions)."""
        return {"decisions": self._decisions, "batches": self.resolver.batches}

    # -- time and randomness -------------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.env.now)

    def rng(self, name: str) -> np.random.Generator:
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
        if data is None:
            data = {}
        if self.check_events:
            self.event_types.check(kind, data)
        held = _captured.get()
        if held is not None:
            held.append((kind, data, agent, tuple(witnesses), tuple(causes), volatile))
            return -1
        seq = self.seq
        self.seq = seq + 1
        writer = self.writer
        if writer is not None:
            line = orjson.dumps({"seq": seq, "t": float(self.env.now), "kind": kind, "agent": agent,
                                 "witnesses": witnesses, "causes": causes, "data": data},
                                default=log_default, option=DUMP_OPTIONS)  # runlog.dumps, inlined
            buf = writer.buf  # writer.append, inlined
            buf += line
            buf += b"\n"
            writer.kinds.append(kind)
            if len(buf) >= writer.flush_bytes:
                writer.flush()
            if volatile:
                writer.append_volatile(seq, volatile)
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

    def request_stop(self, reason: str | None = None) -> None:
        """End the run after the current event (``reason`` None: a signal; else e.g. a model budget).
        Safe to call from a signal handler: work waiting on wall-clock time (model calls) is cancelled."""
        if reason is not None and self.stop_reason is None:
            self.stop_reason = reason
        self.stop_requested = True
        for fn in list(self._stoppers):
            fn()

    def on_stop(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` when a stop is requested (cancel what waits on the wall clock)."""
        self._stoppers.append(fn)

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
        facts: Mapping[str, Any] | None = None,
        covert: Sequence[str] = (),
    ) -> int:
        """Log a world event once and hand it to the perception of each witness, in order.

        ``hidden`` names data keys that are logged (as ground truth for analysis) but that witnesses do
        not perceive; the log line lists them under ``data["hidden"]``. ``facts`` states what the event
        makes true (``{"marble.location": "box"}``) and ``covert`` names witnesses the others do not know
        observed it; both are logged for theory-of-mind analysis and never perceived.
        """
        data = data if data is not None else {}
        if hidden or facts or covert:
            logged = dict(data)
            if hidden:
                logged["hidden"] = list(hidden)
            if facts:
                logged["facts"] = dict(facts)
            if covert:
                unknown = [c for c in covert if c not in witnesses]
                if unknown:
                    raise ValueError(f"covert observers {unknown} of {kind!r} are not among its witnesses")
                logged["covert"] = list(covert)
            seq = self.log(kind, logged, agent, witnesses, causes)
            if hidden:
                data = {k: v for k, v in data.items() if k not in hidden}
        else:
            seq = self.log(kind, data, agent, witnesses, causes)
        if witnesses:
            event = WorldEvent(seq, self.env.now, kind, agent, data, tuple(causes))
            agents = self.agents
            for wid in witnesses:
                agents[wid].perceive(event)
        return seq

    def say(
        self,
        sender: str,
        audience: Sequence[str],
        text: str,
        witnesses: Sequence[str] | None = None,
        causes: Sequence[int] = (),
        agent: str | None = None,
        covert: Sequence[str] = (),
        **labels: Any,
    ) -> int:
        """An utterance (``message.sent``): ``sender`` addresses ``audience``; ``witnesses`` (default: the
        sender and the audience) hear it, ``covert`` ones unbeknown to the others. ``labels`` are the
        scenario's typed tags (move, strategy, ...);
        ``agent`` is the acting agent (default: the sender when it is an agent of this world; a voice that
        is not an agent, such as a moderator, logs no actor)."""
        speaks_as_agent = sender in self.agents
        if witnesses is not None:
            heard = list(witnesses)
        else:
            heard = list(dict.fromkeys([sender, *audience] if speaks_as_agent else audience))
        if agent is None and speaks_as_agent:
            agent = sender
        return self.emit("message.sent", {"sender": sender, "audience": list(audience), "text": text, **labels},
                         witnesses=heard, agent=agent, causes=causes, covert=covert)

    # -- agents -------------------------------------------------------------------------------
    def add_agent(self, agent: AgentLike) -> AgentLike:
        if agent.id in self.agents:
            raise ValueError(f"duplicate agent id {agent.id!r}")
        self.agents[agent.id] = agent
        agent.attach(self)
        self.log("agent.joined", agent.joined_record(), agent=agent.id)
        return agent

    # -- decisions ----------------------------------------------------------------------------
    def decide(self, agent: AgentLike, request: DecisionRequest) -> simpy.Event:
        """An event whose value is the agent's validated action.

        Rule brains answer at once. Batched (model) brains are collected, and every decision pending
        at this simulated instant is resolved together once the instant has otherwise settled;
        processes then resume in the order they asked.
        """
        brain = agent.brain
        if brain.batched:
            return self.resolver.defer(agent, request)
        # _decide_now and _acted unrolled: this is the hottest path of a rule run
        out = brain.decide(agent, request)
        action = out if out.__class__ is request.action_type else request.validate(out)
        self._decisions += 1
        aid = agent.id
        causes = request.causes
        data = {"decision": request.decision, "action": action.__dict__, "brain": brain.name}
        seq = self.log("agent.acted", data, aid, (aid,), causes)
        agent.perceive(WorldEvent(seq, self.env.now, "agent.acted", aid, data, tuple(causes)))
        return self.env.timeout(0, action)

    def decide_many(self, pairs: Iterable[tuple[AgentLike, DecisionRequest]]) -> simpy.Event:
        """One event whose value is the list of actions, in the order of ``pairs``."""
        pairs = list(pairs)
        results: list[Any] = [None] * len(pairs)
        group = self.env.event()
        waiting = 0

        def fill(index: int, ev: simpy.Event) -> None:
            nonlocal waiting
            results[index] = ev.value
            waiting -= 1
            if waiting == 0:
                group.succeed(results)

        for i, (agent, request) in enumerate(pairs):
            if agent.brain.batched:
                waiting += 1
                self.resolver.defer(agent, request).callbacks.append(functools.partial(fill, i))
            else:
                results[i] = self._decide_now(agent, request)
        if waiting == 0:
            group.succeed(results)
        return group

    def _decide_now(self, agent: AgentLike, request: DecisionRequest) -> BaseModel:
        out = agent.brain.decide(agent, request)
        # the common case (the policy built the right model) skips validation
        action = out if out.__class__ is request.action_type else request.validate(out)
        self._acted(agent, request, action)
        return action

    def _acted(self, agent: AgentLike, request: DecisionRequest, action: BaseModel) -> None:
        """Log ``agent.acted`` and let the agent perceive it (what :meth:`emit` does, unrolled for the
        hottest path of a run). A pydantic action is logged (and perceived) as its field values; reading
        __dict__ avoids a serialiser round trip."""
        self._decisions += 1
        aid = agent.id
        causes = request.causes
        data = {"decision": request.decision, "action": action.__dict__, "brain": agent.brain.name}
        seq = self.log("agent.acted", data, aid, (aid,), causes)
        agent.perceive(WorldEvent(seq, self.env.now, "agent.acted", aid, data, tuple(causes)))

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
        while not self.stop_requested:
            t = peek()
            if t == math.inf or t > limit:
                break
            step()
            n += 1
            if progress is not None and n % every == 0:
                progress(self)
        if progress is not None:
            progress(self)
