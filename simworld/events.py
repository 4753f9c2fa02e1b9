"""The event format of ``events.jsonl`` and typed payloads for the core event kinds.

Writing is done from plain dicts for speed (see :mod:`simworld.runlog`); reading validates every line
against :class:`Event`, and :func:`typed_data` checks a core kind's payload against its model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class RunStarted(BaseModel):
    scenario: str
    seed: int
    config: dict[str, Any]


class RunFinished(BaseModel):
    status: str
    reason: str | None = None


class AgentJoined(BaseModel):
    persona: dict[str, Any]
    brain: str
    policy: str | None = None


class AgentPerceived(BaseModel):
    missed: list[int]
    reason: str


class BeliefUpdated(BaseModel):
    about: str
    key: str
    value: Any
    confidence: float = Field(ge=0.0, le=1.0)


class DecisionRequested(BaseModel):
    decision: str
    context: dict[str, Any]


class AgentActed(BaseModel):
    decision: str
    action: dict[str, Any]
    brain: str


class MessageSent(BaseModel):
    sender: str
    audience: list[str]
    text: str


CORE_KINDS: dict[str, type[BaseModel]] = {
    "run.started": RunStarted,
    "run.finished": RunFinished,
    "agent.joined": AgentJoined,
    "agent.perceived": AgentPerceived,
    "belief.updated": BeliefUpdated,
    "decision.requested": DecisionRequested,
    "agent.acted": AgentActed,
    "message.sent": MessageSent,
}


def typed_data(event: Event) -> BaseModel | dict[str, Any]:
    """The payload of a core event as its model; other kinds' payloads come back as dicts."""
    model = CORE_KINDS.get(event.kind)
    return model.model_validate(event.data) if model else event.data
