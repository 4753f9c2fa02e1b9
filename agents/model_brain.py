"""Model brains: a LangGraph pipeline (recall -> theory of mind -> deliberate -> reflect).

Decisions pending at one simulated instant arrive together (``decide_batch``) and go through the graph as
one batch: each node runs for every decision of the batch concurrently on the gateway's event loop (one
graph invocation per batch, not per decision, which keeps the graph's own cost off the per-decision path).
A node is written for one decision (it takes and updates a :class:`DecisionState`). Each decision's log
events are held back and written in request order afterwards, so the log stays deterministic whatever
order the model answers in. Invalid output gets one
repair round; after that, or if the model fails, the agent's rule policy decides and
``decision.fallback`` is logged. One agent's failure never stops the others.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from simworld.agents.beliefs import TypedBelief
from simworld.agents.brains import BaseBrain, Observer, Policy
from simworld.agents.persona_text import DescriptiveRenderer
from simworld.agents.prompts import PromptFormatter, extract_json, memory_line, public_context, schema_of

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


class Pending:
    """One decision on its way through the batched graph: its state, the context its log events are held
    back in, and the error that ended it early (its remaining nodes are skipped)."""

    __slots__ = ("context", "error", "held", "state")

    def __init__(self, state: DecisionState, world: Any) -> None:
        self.state = state
        self.context = contextvars.copy_context()
        self.held: list[Any] = self.context.run(world.capture)
        self.error: str | None = None


class BatchState(TypedDict):
    brain: Any
    pending: list[Pending]


def over_batch(node: Node) -> Callable[[BatchState], Awaitable[dict[str, Any]]]:
    """A node for one decision, run for every decision of a batch at once (each in its own context)."""

    async def step(p: Pending) -> None:
        try:
            update = await node(p.state)
            if update:
                p.state.update(update)  # type: ignore[typeddict-item]
        except CacheMiss:
            raise  # replay mode: a miss means the run cannot be reproduced; stop it with a clear error
        except Exception as err:  # noqa: BLE001 - one agent's failure must never stop the others
            p.error = f"{type(err).__name__}: {err}"

    async def run(state: BatchState) -> dict[str, Any]:
        live = [p for p in state["pending"] if p.error is None]
        if len(live) == 1:
            await asyncio.create_task(step(live[0]), context=live[0].context)
        elif live:
            await asyncio.gather(*(asyncio.create_task(step(p), context=p.context) for p in live))
        return {}

    run.__name__ = getattr(node, "__name__", "node")
    return run


async def recall(state: DecisionState) -> dict[str, Any]:
    """Retrieve memories relevant to the decision (or the most recent ones if memory cannot search)."""
    brain, agent, request = state["brain"], state["agent"], state["request"]
    query = f"{request.decision} " + " ".join(f"{k} {v}" for k, v in public_context(request).items())
    memories = list(agent.memory.retrieve(query, k=brain.k_memories))
    beliefs = [f"{who}: {key} = {b.value} (confidence {b.confidence:.2f})" for who, key, b in agent.beliefs][-20:]
    return {"memories": memories, "beliefs": beliefs}


class BeliefEstimate(BaseModel):
    """One belief the theory-of-mind node forms about another agent."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    about: str = Field(description="the other agent's id")
    key: str = Field(min_length=1, max_length=64, description="what the belief is about, e.g. budget")
    value: float | int | str | bool | None = Field(description="the estimate")
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class BeliefEstimates(BaseModel):
    """The theory-of-mind node's answer."""

    model_config = ConfigDict(extra="forbid")
    beliefs: list[BeliefEstimate] = Field(default_factory=list, max_length=50)


@lru_cache(maxsize=32)
def typed_answer(belief_model: type[TypedBelief]) -> type[BaseModel]:
    """The theory-of-mind node's answer for a scenario's typed beliefs: ``{"beliefs": [belief_model]}``."""
    return create_model(f"{belief_model.__name__}Answer", __config__=ConfigDict(extra="forbid"),
                        beliefs=(list[belief_model], Field(default_factory=list, max_length=50)))  # type: ignore[valid-type]


class Insights(BaseModel):
    """The reflect node's answer: one to three conclusions."""

    model_config = ConfigDict(extra="forbid")
    insights: list[str] = Field(min_length=1, max_length=3)


M = TypeVar("M", bound=BaseModel)


async def ask(brain: ModelBrain, agent: Any, messages: list[dict[str, str]], model: type[M], seed: int,
              node: str) -> tuple[M | None, str | None]:
    """One schema-validated answer: the call, and one repair round with the validation error. Returns
    (the answer, None) or (None, why it failed)."""
    schema = schema_of(model)
    error = "no answer"
    for attempt in range(2):
        try:
            label = node if attempt == 0 else ("repair" if node == "deliberate" else f"{node}.repair")
            response = await brain.gateway.call(ChatRequest(messages, schema, seed + attempt), agent.id, label)
        except CacheMiss:
            raise
        except ModelError as err:
            return None, f"model error: {err}"
        try:
            return model.model_validate(extract_json(response.text)), None
        except (ValueError, ValidationError) as err:
            error = _short(err)
            messages = brain.formatter.repair(messages, response.text, error)
    return None, f"invalid output after repair: {error}"


def node_failed(brain: ModelBrain, agent: Any, node: str, reason: str, request: DecisionRequest) -> None:
    """A model node other than the decision itself failed: logged (``model.failed``) and counted."""
    agent.world.log("model.failed", {"node": node, "decision": request.decision, "reason": reason},
                    agent=agent.id, causes=request.causes)
    brain.gateway.count_node_failure(node)


async def theory_of_mind(state: DecisionState) -> dict[str, Any]:
    """Ask the model what the agent's memories say about the others; update beliefs (logged). A failed
    or invalid answer (after a repair round) is logged as ``model.failed`` and leaves beliefs as they were."""
    brain, agent, request = state["brain"], state["agent"], state["request"]
    memories = state.get("memories", [])
    remembered = " ".join(memory_line(m) for m in memories)
    others = sorted(a for a in agent.world.agents if a != agent.id and a in remembered)
    if not others:
        return {}
    typed = brain.belief_model
    fields = {k: f.description or "" for k, f in typed.model_fields.items()} if typed is not None else None
    messages = brain.formatter.theory_of_mind(brain.persona_text(agent), memories, others, fields)
    model = typed_answer(typed) if typed is not None else BeliefEstimates
    answer, why = await ask(brain, agent, messages, model, state["seed"], "theory_of_mind")
    if answer is None:
        node_failed(brain, agent, "theory_of_mind", why or "no answer", request)
        return {}
    beliefs: list[Any] = answer.beliefs  # type: ignore[attr-defined]
    strangers = sorted({b.about for b in beliefs if b.about not in others})
    for b in beliefs:
        if b.about not in others:
            continue
        if isinstance(b, TypedBelief):
            for key, value in b.values().items():
                agent.beliefs.update(b.about, key, value, confidence=b.confidence, rule="theory_of_mind")
        else:
            agent.beliefs.update(b.about, b.key, b.value, confidence=b.confidence, rule="theory_of_mind")
    if strangers:
        node_failed(brain, agent, "theory_of_mind", f"beliefs about agents not remembered here ignored: {strangers}",
                    request)
    return {}


async def deliberate(state: DecisionState) -> dict[str, Any]:
    """The action, as JSON validated against the decision's schema, with one repair round."""
    brain, agent, request = state["brain"], state["agent"], state["request"]
    messages = brain.formatter.decision(brain.persona_text(agent), state.get("memories", []),
                                        state.get("beliefs", []), request)
    action, why = await ask(brain, agent, messages, request.action_type, state["seed"], "deliberate")
    return {"action": action, "fallback": why}


async def reflect(state: DecisionState) -> dict[str, Any]:
    """When the memory asks for it, the model writes reflections (stored with evidence links); a failed
    answer is logged as ``model.failed``."""
    brain, agent, request = state["brain"], state["agent"], state["request"]
    memory = agent.memory
    if not memory.wants_reflection():
        return {}
    evidence = list(memory.recent(brain.k_memories))
    messages = brain.formatter.reflection(brain.persona_text(agent), evidence)
    answer, why = await ask(brain, agent, messages, Insights, state["seed"], "reflect")
    if answer is None:
        node_failed(brain, agent, "reflect", why or "no answer", request)
        return {}
    for text in answer.insights:
        if text.strip():
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
    """A linear LangGraph pipeline of ``order`` over a batch of decisions (:class:`BatchState`); add, remove
    or replace nodes by changing the two."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(BatchState)
    for name in order:
        node: Any = over_batch(nodes[name])  # LangGraph's overloads do not cover async functions of a TypedDict
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
        belief_model: type[TypedBelief] | None = None,
    ) -> None:
        self.gateway = gateway
        #: the scenario's typed beliefs for the theory-of-mind node (None: free keys, BeliefEstimate)
        self.belief_model = belief_model
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

    def persona_text(self, agent: Any) -> str:
        """What the model is told about the agent's persona (rendered once, logged in ``agent.joined``)."""
        text = agent.persona_text
        if text is None:
            text = agent.persona_text = DescriptiveRenderer().render(agent.persona)
        return str(text)

    def observe(self, agent: Any, event: WorldEvent) -> None:
        if self._observer is not None:
            self._observer.observe(agent.persona, event, agent.beliefs, agent.rng)

    def decide(self, agent: Any, request: DecisionRequest) -> Any:
        return self.decide_batch([(agent, request)])[0]

    def _seed(self, agent: Any) -> int:
        n = self._counts.get(agent.id, 0)
        self._counts[agent.id] = n + 1
        return stable_hash(f"{agent.world.seed}:{agent.id}:{n}") & 0x7FFFFFFF

    def decide_batch(self, items: list[tuple[Any, DecisionRequest]]) -> list[Any]:
        """Resolve ``items`` together; each runs with its own agent's brain (graph, fallback policy): one
        graph invocation per distinct graph in the batch."""
        world = items[0][0].world
        reason = self.gateway.exhausted()
        actions: list[Any] = [None] * len(items)
        reasons: list[str | None] = [reason] * len(items)
        if reason and self.on_budget == "stop" and not world.stop_requested:
            world.stop_requested, world.stop_reason = True, reason  # no cancelling: this batch falls back
        if not reason:
            pending = [Pending({"brain": agent.brain, "agent": agent, "request": request,
                                "seed": agent.brain._seed(agent)}, world) for agent, request in items]
            groups: dict[int, tuple[ModelBrain, list[Pending]]] = {}
            for (agent, _), p in zip(items, pending):
                groups.setdefault(id(agent.brain.graph), (agent.brain, []))[1].append(p)

            async def invoke(brain: ModelBrain, group: list[Pending]) -> None:
                try:
                    await brain.graph.ainvoke({"brain": brain, "pending": group})
                except CacheMiss:
                    raise
                except Exception as err:  # noqa: BLE001 - the graph itself failed: these decisions fall back
                    for p in group:
                        p.error = p.error or f"{type(err).__name__}: {err}"

            async def run_all() -> None:
                await asyncio.gather(*(invoke(brain, group) for brain, group in groups.values()))

            self.gateway.run(run_all())
            for i, p in enumerate(pending):
                seqs = world.flush_captured(p.held)
                request = items[i][1]
                request.causes.extend(s for s, rec in zip(seqs, p.held) if rec[0] in ("model.call", "memory.retrieved"))
                actions[i] = None if p.error else p.state.get("action")
                reasons[i] = p.error or p.state.get("fallback")
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
