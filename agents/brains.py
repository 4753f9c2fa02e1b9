"""Rule brains: a named policy, a plain function of (persona, observation, memories, beliefs, rng)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel

from simworld.decisions import DecisionRequest

if TYPE_CHECKING:
    from simworld.agents.agent import Agent
    from simworld.agents.beliefs import Beliefs
    from simworld.agents.persona import Persona


class Policy(Protocol):
    """Returns an action for ``observation`` (the decision request: its name, allowed actions, context).

    A policy may also define ``observe(persona, event, beliefs, rng)`` to update beliefs from what the
    agent perceives (theory of mind); the rule brain calls it for every observation.
    """

    def __call__(
        self,
        persona: Persona,
        observation: DecisionRequest,
        memories: Any,
        beliefs: Beliefs,
        rng: np.random.Generator,
    ) -> BaseModel | dict[str, Any]: ...


class PolicyRegistry:
    """Policies by name, so a config can pick one (``strategy: truthful``)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self._policies: dict[str, Policy] = {}

    def register(self, name: str, policy: Policy | None = None) -> Callable[[Policy], Policy] | Policy:
        """``registry.register("greedy", fn)`` or ``@registry.register("greedy")``."""

        def add(p: Policy) -> Policy:
            self._policies[name] = p
            return p

        return add(policy) if policy is not None else add

    def get(self, name: str) -> Policy:
        try:
            return self._policies[name]
        except KeyError:
            raise KeyError(f"unknown {self.scope} policy {name!r} (known: {', '.join(self.names())})") from None

    def create(self, name: str) -> Policy:
        """A policy ready for one agent: a registered class is instantiated (so it may keep per-agent
        state); a registered function is returned as it is."""
        p = self.get(name)
        return p() if isinstance(p, type) else p

    def names(self) -> list[str]:
        return sorted(self._policies)

    def __contains__(self, name: object) -> bool:
        return name in self._policies


class RuleBrain:
    """Answers at once by calling its policy. Never goes through a graph or a model."""

    batched = False
    name = "rule"

    def __init__(self, policy: Policy, policy_name: str = "") -> None:
        self.policy = policy
        self.policy_name = policy_name or getattr(policy, "__name__", type(policy).__name__)
        observe = getattr(policy, "observe", None)
        self.observes = observe is not None
        self._observe = observe

    def decide(self, agent: Agent, request: DecisionRequest) -> BaseModel | dict[str, Any]:
        return self.policy(agent.persona, request, agent.memory, agent.beliefs, agent.rng)

    def decide_batch(self, items: list[tuple[Agent, DecisionRequest]]) -> list[BaseModel | dict[str, Any]]:
        return [self.decide(agent, request) for agent, request in items]

    def observe(self, agent: Agent, event: Any) -> None:
        if self._observe is not None:
            self._observe(agent.persona, event, agent.beliefs, agent.rng)
