"""The event format of ``events.jsonl`` and the typed payload of every event kind.

Each kind has a pydantic payload model (a :class:`Payload` subclass naming its ``kind``). The core kinds
are defined here; a scenario declares its own in its ``events`` module and lists them on its class
(``Scenario.events``). :class:`EventTypes` holds the models of one run: the world checks every emitted
payload against them when event checking is on (``SIMWORLD_CHECK_EVENTS=1``, as the test suite runs),
and costs one flag test per event otherwise. ``simworld schema KIND`` prints any kind's JSON schema.

Writing is done from plain dicts for speed (see :mod:`simworld.runlog`); reading checks the line shape
with :class:`Event`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Environment variable that turns event checking on in every World (the tests set it).
CHECK_ENV = "SIMWORLD_CHECK_EVENTS"


class Event(BaseModel):
    """One line of ``events.jsonl``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(ge=0, description="position in the log, 0-based and gapless")
    t: float = Field(description="simulated time")
    kind: str = Field(min_length=1, description="'run.started', 'auction.bid', ...")
    agent: str | None = Field(default=None, description="the agent that did it, if any")
    witnesses: list[str] = Field(default_factory=list, description="agents who perceived it")
    causes: list[int] = Field(default_factory=list, description="seqs of the events behind it")
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(slots=True)
class WorldEvent:
    """An event as perception sees it (the fields of a log line, minus witnesses). Treat as read-only."""

    seq: int
    t: float
    kind: str
    agent: str | None
    data: dict[str, Any]
    causes: tuple[int, ...] = ()


class Payload(BaseModel):
    """Base of every event payload (the ``data`` of a log line). Subclasses set ``kind``.

    Three keys belong to the kernel and may appear in any payload: ``hidden`` (data keys logged as
    ground truth but not perceived by the witnesses), ``facts`` (``{"entity.attribute": value}`` the
    event makes true, for theory-of-mind analysis) and ``covert`` (witnesses the others do not know saw it).
    """

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[str] = ""

    hidden: list[str] | None = Field(default=None, description="data keys the witnesses do not perceive")
    facts: dict[str, Any] | None = Field(default=None, description="facts the event states, entity.attribute: value")
    covert: list[str] | None = Field(default=None, description="witnesses the other witnesses do not know about")


class InvalidEvent(ValueError):
    """An emitted payload that does not fit its kind's model, or a kind without a model (when checking)."""


# -- core kinds -----------------------------------------------------------------------------------
class RunStarted(Payload):
    """The run begins: which scenario, seed and resolved config."""

    kind: ClassVar[str] = "run.started"
    scenario: str
    seed: int
    config: dict[str, Any]


class RunFinished(Payload):
    """The run ends; ``status`` as in the manifest."""

    kind: ClassVar[str] = "run.finished"
    status: str
    reason: str | None = None


class AgentJoined(Payload):
    """An agent enters the world with its full persona and the brain that decides for it."""

    kind: ClassVar[str] = "agent.joined"
    persona: dict[str, Any]
    brain: str
    policy: str | None = None
    persona_text: str | None = Field(default=None, description="the persona as a model brain is told it")


class AgentPerceived(Payload):
    """Events an agent witnessed but did not take in (its attention was full)."""

    kind: ClassVar[str] = "agent.perceived"
    missed: list[int]
    reason: str


class MemoryWritten(Payload):
    """A memory that cannot be derived from world events: a reflection, plan or note."""

    kind: ClassVar[str] = "memory.written"
    id: str
    kind_: str = Field(alias="kind", description="reflection, plan, note, ...")
    text: str
    importance: float
    evidence: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class RetrievalParts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recency: list[float]
    importance: list[float]
    relevance: list[float]
    total: list[float]


class MemoryRetrieved(Payload):
    """A retrieval from an agent's memory stream, with every score part of every memory returned."""

    kind: ClassVar[str] = "memory.retrieved"
    query: str | None
    k: int
    ids: list[str]
    parts: RetrievalParts
    weights: dict[str, float]


class BeliefUpdated(Payload):
    """An agent's belief about someone (or something) changed."""

    kind: ClassVar[str] = "belief.updated"
    about: str
    key: str
    value: Any
    confidence: float = Field(ge=0.0, le=1.0)
    item: str | None = Field(default=None, description="what the belief is tied to (e.g. the lot)")
    rule: str | None = Field(default=None, description="the update rule that produced it")
    delta: float | None = Field(default=None, description="change from the previous value")
    by: dict[str, float] | None = Field(default=None, description="who moved it, by how much")


class DecisionRequested(Payload):
    """A decision deferred to a batched (model) brain; what the agent saw when asked."""

    kind: ClassVar[str] = "decision.requested"
    decision: str
    context: dict[str, Any]


class DecisionFallback(Payload):
    """A model brain could not decide; the agent's rule policy did."""

    kind: ClassVar[str] = "decision.fallback"
    decision: str
    reason: str
    policy: str | None = None


class ModelFailed(Payload):
    """A model node other than the decision (theory of mind, reflection) got no valid answer."""

    kind: ClassVar[str] = "model.failed"
    node: str
    decision: str
    reason: str


class ModelCall(Payload):
    """One call to a chat model: the full prompt and answer (or the error); latency in volatile.jsonl."""

    kind: ClassVar[str] = "model.call"
    model: str
    provider: str
    node: str
    prompt_hash: str
    messages: list[dict[str, Any]]
    response: str | None
    input_tokens: int
    output_tokens: int
    error: str | None = None


class AgentActed(Payload):
    """An agent's validated action for a decision, and the brain that chose it."""

    kind: ClassVar[str] = "agent.acted"
    decision: str
    action: dict[str, Any]
    brain: str


class MessageSent(Payload):
    """An utterance: who said it, to whom, the words. Scenarios may add typed labels."""

    model_config = ConfigDict(extra="allow")
    kind: ClassVar[str] = "message.sent"
    sender: str
    audience: list[str]
    text: str


CORE: tuple[type[Payload], ...] = (
    RunStarted, RunFinished, AgentJoined, AgentPerceived, MemoryWritten, MemoryRetrieved, BeliefUpdated,
    DecisionRequested, DecisionFallback, ModelCall, ModelFailed, AgentActed, MessageSent,
)


class EventTypes:
    """The payload models of one run's event kinds: the core kinds plus the scenario's.

    ``check(kind, data)`` validates a payload (raising :class:`InvalidEvent`); ``schema(kind)`` is the
    JSON schema of a kind. ``strict`` makes a kind without a model an error (a scenario's run); a world
    built by hand without declared types checks only the kinds it knows.
    """

    def __init__(self, models: Iterable[type[Payload]] = (), strict: bool = True) -> None:
        self.strict = strict
        self._models: dict[str, type[Payload]] = {}
        self.add(CORE)
        self.add(models)

    def add(self, models: Iterable[type[Payload]]) -> None:
        for model in models:
            kind = model.kind
            if not kind or "." not in kind:
                raise ValueError(f"{model.__name__}.kind must be a dotted event kind, got {kind!r}")
            known = self._models.get(kind)
            if known is not None and known is not model:
                raise ValueError(f"event kind {kind!r} has two models: {known.__name__} and {model.__name__}")
            self._models[kind] = model

    def __contains__(self, kind: object) -> bool:
        return kind in self._models

    def __iter__(self) -> Any:
        return iter(sorted(self._models))

    def __len__(self) -> int:
        return len(self._models)

    def model(self, kind: str) -> type[Payload] | None:
        return self._models.get(kind)

    def check(self, kind: str, data: Mapping[str, Any]) -> None:
        """Raise :class:`InvalidEvent` unless ``data`` fits the model registered for ``kind``."""
        model = self._models.get(kind)
        if model is None:
            if not self.strict:
                return
            raise InvalidEvent(f"event kind {kind!r} has no payload model (declare it in the scenario's events)")
        try:
            model.model_validate(dict(data))
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "data"
            raise InvalidEvent(f"{kind}: data.{loc}: {first.get('msg')}") from None

    def schema(self, kind: str) -> dict[str, Any]:
        model = self._models.get(kind)
        if model is None:
            raise KeyError(kind)
        schema = model.model_json_schema(by_alias=True)
        schema["title"] = kind
        return schema

    def describe(self) -> dict[str, str]:
        """kind -> one line of what it records."""
        return {k: (self._models[k].__doc__ or "").strip().splitlines()[0] for k in sorted(self._models)}


def checking_default() -> bool:
    """Whether new Worlds check event payloads (``SIMWORLD_CHECK_EVENTS=1``)."""
    return os.environ.get(CHECK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def typed_data(event: Event, types: EventTypes | None = None) -> BaseModel | dict[str, Any]:
    """The payload of an event as its model (core kinds, or those in ``types``); unknown kinds as dicts."""
    model = (types or _CORE_TYPES).model(event.kind)
    return model.model_validate(event.data) if model else event.data


_CORE_TYPES = EventTypes(strict=False)
