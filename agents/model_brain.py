"""Model brains: a LangGraph graph per decision (recall -> theory of mind -> deliberate -> reflect).

Decisions pending at one simulated instant arrive together (``decide_batch``) and run concurrently on the
gateway's event loop. Their log events are held back per decision and written in request order
afterwards, so the log stays deterministic whatever order the model answers in. Invalid output gets one
repair round; after that, or if the model fails, the agent's rule policy decides and
``decision.fallback`` is logged. One agent's failure never stops the others.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypedDict

from pydantic import ValidationError
from simworld.agents.brains import BaseBrain, Observer, Policy
from simworld.agents.prompts import PromptFormatter, action_schema, extract_json, memory_line, public_context

from simworld.decisions import DecisionRequest
from simworld.events import WorldEvent
from simworld.models.types import CacheMiss, ChatRequest, ModelError
from simworld.rng import stable_hash

if TYPE_CHECKING:
    from simworld.models.gateway import Gateway

DEFAULT_ORDER = ("recall", "theory_of_mind", "deliberate", "reflect")


class DecisionState(TypedDict, total=False):
    brain: Any
    agent: Any
    request: DecisionRequest
    seed: int
    memories: list[Any]
    beliefs: list[str]
    action: Any
    fallback: str | None


Node = Callable[[DecisionState], Awaitable[dict[str, Any]]]


async def recall(state: DecisionState) -> dict[str, Any]:
    """Retrieve memories relevant to the decision (or the most recent ones if memory cannot search)."""
    brain, agent, request = state["brain"], state["agent"], state["request"]
    query = f"{request.decision} " + " ".join(f"{k} {v}" for k, v in public_context(request).items())
    memories = list(agent.memory.retrieve(query, k=brain.k_memories))
    beliefs = [f"{who}: {key} = {b.value} (confidence {b.confidence:.2f})" for who, key, b in agent.beliefs][-20:]
    return {"memories": memories, "beliefs": beliefs}


async def theory_of_mind(state: DecisionState) -> dict[str, Any]:
    """Ask the model what the agent's memories say about the others; update beliefs (logged)."""
    brain, agent = state["brain"], state["agent"]
    memories = state.get("memories", [])
    remembered = " ".join(memory_line(m) for m in memories)
    others = sorted(a for a in agent.world.agents if a != agent.id and a in remembered)
    if not others:
        return {}
    messages = brain.formatter.theory_of_mind(agent.persona, memories, others)
    try:
        response = await brain.gateway.call(ChatRequest(messages, seed=state["seed"]), agent.id, "theory_of_mind")
        found = extract_json(response.text).get("beliefs", [])
    except CacheMiss:
        raise
    except (ModelError, ValueError, AttributeError):
        return {}  # theory of mind is optional; a bad answer leaves beliefs as they were
    for b in found if isinstance(found, list) else []:
        if isinstance(b, dict) and b.get("about") in others and isinstance(b.get("key"), str):
            try:
                conf = float(b.get("confidence", 0.5))
            except (TypeError, ValueError):
                conf = 0.5
            agent.beliefs.update(b["about"], b["key"][:64], b.get("value"), confidence=conf)
    return {}


async def deliberate(state: DecisionState) -> dict[str, Any]:
    """The action, as JSON validated against the decision's schema, with one repair round."""
    brain, agent, request = state["brain"], state["agent"], state["request"]
    messages = brain.formatter.decision(agent.persona, state.get("memories", []), state.get("beliefs", []), request)
    schema = json.loads(action_schema(request.action_type))
    error = "no answer"
    for attempt in range(2):
        try:
            response = await brain.gateway.call(ChatRequest(messages, schema, state["seed"] + attempt), agent.id,
                                                "deliberate" if attempt == 0 else "repair")
        except CacheMiss:
            raise
        except ModelError as err:
            return {"action": None, "fallback": f"model error: {err}"}
        try:
            return {"action": request.action_type.model_validate(extract_json(response.text)), "fallback": None}
        except (ValueError, ValidationError) as err:
            error = _short(err)
            messages = brain.formatter.repair(messages, response.text, error)
    return {"action": None, "fallback": f"invalid output after repair: {error}"}


async def reflect(state: DecisionState) -> dict[str, Any]:
    """When the memory asks for it, the model writes reflections (stored with evidence links)."""
    brain, agent = state["brain"], state["agent"]
    memory = agent.memory
    if not memory.wants_reflection():
        return {}
    evidence = list(memory.recent(brain.k_memories))
    try:
        response = await brain.gateway.call(
            ChatRequest(brain.formatter.reflection(agent.persona, evidence), seed=state["seed"]), agent.id, "reflect")
        insights = extract_json(response.text).get("insights", [])
    except CacheMiss:
        raise
    except (ModelError, ValueError, AttributeError):
        return {}
    for text in insights[:3] if isinstance(insights, list) else []:
        if isinstance(text, str) and text.strip():
            memory.add_reflection(text.strip(), evidence)
    return {}


def _short(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        return f"{'.'.join(str(p) for p in first.get('loc', ())) or 'answer'}: {first.get('msg')}"
    return str(err)[:200]


DEFAULT_NODES: dict[str, Node] = {
    "recall": recall, "theory_of_mind": theory_of_mind, "deliberate": deliberate, "reflect": reflect,
}


def build_graph(nodes: dict[str, Node], order: list[str]) -> Any:
    """A linear LangGraph pipeline of ``order``; add, remove or replace nodes by changing the two."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(DecisionState)
    for name in order:
        node: Any = nodes[name]  # LangGraph's overloads do not cover async functions of a TypedDict
        graph.add_node(name, node)
    graph.add_edge(START, order[0])
    for a, b in pairwise(order):
        graph.add_edge(a, b)
    graph.add_edge(order[-1], END)
    return graph.compile()


class ModelBrain(BaseBrain):
    """A batched brain backed by the model gateway, with the agent's rule policy as fallback."""

    batched = True

    def __init__(
        self,
        gateway: Gateway,
        fallback: Policy,
        fallback_name: str = "",
        name: str = "llm",
        formatter: PromptFormatter | None = None,
        nodes: dict[str, Node] | None = None,
        order: list[str] | None = None,
        theory_of_mind: bool = False,
        k_memories: int = 8,
        on_budget: str = "stop",
        graph: Any | None = None,
    ) -> None:
        self.gateway = gateway
        self.fallback = fallback
        self.policy_name: str | None = fallback_name
        self.name = name
        self.formatter = formatter or PromptFormatter()
        self.k_memories = k_memories
        self.on_budget = on_budget
        self.nodes = {**DEFAULT_NODES, **(nodes or {})}
        if order is None:
            order = [n for n in DEFAULT_ORDER if theory_of_mind or n != "theory_of_mind"]
        self.order = list(order)
        self.graph = graph if graph is not None else build_graph(self.nodes, self.order)
        #: Decisions of all model brains on one gateway are resolved together, whatever agent they serve.
        self._batch_key = ("model", id(gateway))
        self._counts: dict[str, int] = {}
        self.fallbacks = 0
        # rule-policy belief updates keep working (a profiler that falls back still learns)
        self._observer = fallback if isinstance(fallback, Observer) else None
        self.observes = self._observer is not None

    @property
    def batch_key(self) -> Hashable:
        return self._batch_key

    def observe(self, agent: Any, event: WorldEvent) -> None:
        if self._observer is not None:
            self._observer.observe(agent.persona, event, agent.beliefs, agent.rng)

    def decide(self, agent: Any, request: DecisionRequest) -> Any:
        return self.decide_batch([(agent, request)])[0]

    def _seed(self, agent: Any) -> int:
        n = self._counts.get(agent.id, 0)
        self._counts[agent.id] = n + 1
        return stable_hash(f"{agent.world.seed}:{agent.id}:{n}") & 0x7FFFFFFF

    async def _one(self, agent: Any, request: DecisionRequest, seed: int) -> tuple[Any, str | None, list[Any]]:
        held = agent.world.capture()
        try:
            out = await self.graph.ainvoke({"brain": self, "agent": agent, "request": request, "seed": seed})
            return out.get("action"), out.get("fallback"), held
        except CacheMiss:
            raise  # replay mode: a miss means the run cannot be reproduced; stop it with a clear error
        except Exception as err:  # noqa: BLE001 - one agent's failure must never stop the others
            return None, f"{type(err).__name__}: {err}", held

    def decide_batch(self, items: list[tuple[Any, DecisionRequest]]) -> list[Any]:
        """Resolve ``items`` together; each runs with its own agent's brain (graph, fallback policy)."""
        world = items[0][0].world
        reason = self.gateway.exhausted()
        actions: list[Any] = [None] * len(items)
        reasons: list[str | None] = [reason] * len(items)
        if reason and self.on_budget == "stop" and not world.stop_requested:
            world.stop_requested, world.stop_reason = True, reason  # no cancelling: this batch falls back
        if not reason:
            seeds = [agent.brain._seed(agent) for agent, _ in items]

            async def run_all() -> list[tuple[Any, str | None, list[Any]]]:
                return list(await asyncio.gather(*(a.brain._one(a, r, s) for (a, r), s in zip(items, seeds))))

            for i, (action, why, held) in enumerate(self.gateway.run(run_all())):
                seqs = world.flush_captured(held)
                request = items[i][1]
                request.causes.extend(s for s, rec in zip(seqs, held) if rec[0] in ("model.call", "memory.retrieved"))
                actions[i], reasons[i] = action, why
        for i, (agent, request) in enumerate(items):
            fell_back = actions[i] is None
            if fell_back:
                actions[i] = agent.brain._fall_back(agent, request, reasons[i] or "no action")
            self.gateway.count_decision((reasons[i] or "no action") if fell_back else None)
        return actions

    def _fall_back(self, agent: Any, request: DecisionRequest, reason: str) -> Any:
        self.fallbacks += 1
        agent.world.log("decision.fallback", {"decision": request.decision, "reason": reason,
                                              "policy": self.policy_name}, agent=agent.id, causes=request.causes)
        return self.fallback(agent.persona, request, agent.memory, agent.beliefs, agent.rng)
