"""How a process asks an agent for a choice, and what an agent and its brain must provide to answer it."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from simworld.events import WorldEvent
    from simworld.world import World

Action = BaseModel | dict[str, Any]


@dataclass(slots=True)
class DecisionRequest:
    """A choice an agent must make now.

    ``decision`` names it (``"auction.bid"``); ``action_type`` is the pydantic model of the allowed
    actions; ``context`` is what the agent perceives at this moment (its observation: what a model
    brain's prompt may show); ``policy_hints`` is what only rule policies see (private computations
    such as the room's value distribution); ``causes`` are the seqs of the events that prompted the
    choice, copied into the ``agent.acted`` event.
    """

    decision: str
    action_type: type[BaseModel]
    context: dict[str, Any] = field(default_factory=dict)
    causes: list[int] = field(default_factory=list)
    policy_hints: dict[str, Any] = field(default_factory=dict)

    def validate(self, action: Any) -> BaseModel:
        if isinstance(action, self.action_type):
            return action
        try:
            return self.action_type.model_validate(action)
        except ValidationError as err:
            raise InvalidAction.from_validation(self.decision, err) from None


class InvalidAction(Exception):
    """An action that does not fit the decision's action model. (Constructed from one message, since
    simpy re-raises process exceptions by calling ``type(exc)(*exc.args)``.)"""

    @classmethod
    def from_validation(cls, decision: str, err: ValidationError) -> InvalidAction:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "action"
        return cls(f"invalid action for {decision}: {loc}: {first.get('msg')}")


class AgentLike(Protocol):
    """What the kernel needs from an agent (``simworld.agents.Agent`` is the full thing)."""

    id: str
    brain: Brain

    def attach(self, world: World) -> None: ...

    def perceive(self, event: WorldEvent) -> None: ...

    def joined_record(self) -> dict[str, Any]: ...


@runtime_checkable
class Brain(Protocol):
    """Answers decisions.

    ``batched`` brains are resolved together once per simulated instant; brains with the same
    ``batch_key`` in one ``decide_batch`` call. ``observes`` says whether ``observe`` wants every
    observation of the agent (rule policies that keep beliefs do). ``policy_name`` names the rule policy
    behind the brain (its own, or its fallback), for the log.
    """

    name: str
    batched: bool
    observes: bool

    @property
    def batch_key(self) -> Hashable: ...

    @property
    def policy_name(self) -> str | None: ...

    def observe(self, agent: Any, event: WorldEvent) -> None: ...

    def decide(self, agent: Any, request: DecisionRequest) -> Action: ...

    def decide_batch(self, items: list[tuple[Any, DecisionRequest]]) -> list[Action]: ...
