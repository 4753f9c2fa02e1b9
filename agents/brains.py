"""Rule brains: a named policy, a plain function of (persona, observation, memories, beliefs, rng)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload, runtime_checkable

import numpy as np
from simworld.memory import Memory

from simworld.decisions import Action, DecisionRequest
from simworld.events import WorldEvent

if TYPE_CHECKING:
    from simworld.agents.agent import Agent
    from simworld.agents.beliefs import Beliefs
    from simworld.agents.persona import Persona


class Policy(Protocol):
    """Returns an action for ``observation`` (the decision request: its name, allowed actions, context
    and the policy hints only rule policies see)."""

    def __call__(
        self,
        persona: Persona,
        observation: DecisionRequest,
        memories: Memory,
        beliefs: Beliefs,
        rng: np.random.Generator,
    ) -> Action: ...


@runtime_checkable
class Observer(Protocol):
    """A policy that also learns from what the agent perceives (theory of mind): the brain calls
    ``observe`` for every observation, before any later decision."""

    def observe(self, persona: Persona, event: WorldEvent, beliefs: Beliefs, rng: np.random.Generator) -> None: ...


P = TypeVar("P", bound=Callable[..., Any])


class PolicyRegistry:
    """Policies by name, so a config can pick one (``strategy: truthful``). A registered function is a
    policy shared by every agent; a registered class is instantiated once per agent (so it may keep
    per-agent state)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self._policies: dict[str, Callable[..., Any]] = {}

    @overload
    def register(self, name: str) -> Callable[[P], P]: ...

    @overload
    def register(self, name: str, policy: P) -> P: ...

    def register(self, name: str, policy: P | None = None) -> Callable[[P], P] | P:
        """``registry.register("greedy", fn)`` or ``@registry.register("greedy")``."""

        def add(p: P) -> P:
            self._policies[name] = p
            return p

        return add(policy) if policy is not None else add

    def get(self, name: str) -> Callable[..., Any]:
        try:
            return self._policies[name]
        except KeyError:
            raise KeyError(f"unknown {self.scope} policy {name!r} (known: {', '.join(self.names())})") from None

    def create(self, name: str) -> Policy:
        """A policy ready for one agent (a registered class is instantiated)."""
        p = self.get(name)
        return cast(Policy, p() if isinstance(p, type) else p)

    def names(self) -> list[str]:
        return sorted(self._policies)

    def __contains__(self, name: object) -> bool:
        return name in self._policies


class BaseBrain:
    """What a brain must offer (:class:`simworld.decisions.Brain`), with defaults: subclass it and define
    ``decide`` (and ``decide_batch`` for a batched brain, which the kernel asks once per instant)."""

    name: str = "custom"
    batched: bool = False
    observes: bool = False
    policy_name: str | None = None

    @property
    def batch_key(self) -> Hashable:
        """Brains with the same key are asked together (one ``decide_batch`` call)."""
        return id(self)

    def observe(self, agent: Agent, event: WorldEvent) -> None:
        """Called with every observation of the agent when ``observes`` is true."""

    def decide(self, agent: Agent, request: DecisionRequest) -> Action:
        raise NotImplementedError(f"{type(self).__name__} must define decide()")

    def decide_batch(self, items: list[tuple[Agent, DecisionRequest]]) -> list[Action]:
        return [self.decide(agent, request) for agent, request in items]


class RuleBrain(BaseBrain):
    """Answers at once by calling its policy. Never goes through a graph or a model."""

    batched = False
    name = "rule"

    def __init__(self, policy: Policy, policy_name: str = "") -> None:
        self.policy = policy
        self.policy_name: str | None = policy_name or getattr(policy, "__name__", type(policy).__name__)
        # what isinstance(policy, Observer) tests, without the Protocol machinery (about 20 us an agent)
        self._observer = cast(Observer, policy) if callable(getattr(policy, "observe", None)) else None
        self.observes = self._observer is not None

    def decide(self, agent: Agent, request: DecisionRequest) -> Action:
        return self.policy(agent.persona, request, agent.memory, agent.beliefs, agent.rng)

    def observe(self, agent: Agent, event: WorldEvent) -> None:
        if self._observer is not None:
            self._observer.observe(agent.persona, event, agent.beliefs, agent.rng)
