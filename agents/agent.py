"""An agent: persona + perception + memory + brain + beliefs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simworld.agents.beliefs import Beliefs
from simworld.agents.perception import Perception
from simworld.agents.persona import Persona
from simworld.memory import MemoryStream

from simworld.decisions import Brain, DecisionRequest

if TYPE_CHECKING:
    import numpy as np
    from simpy.events import Event as SimEvent

    from simworld.world import World, WorldEvent


class Agent:
    """Takes in what it witnesses and answers decisions through its brain.

    ``rng`` is the agent's own stream (``"agent:<id>"``), available once the agent joins a world.
    """

    def __init__(
        self,
        persona: Persona,
        brain: Brain,
        perception: Perception | None = None,
        memory: Any | None = None,
        beliefs: Beliefs | None = None,
    ) -> None:
        self.persona = persona
        self.id = persona.id
        self.brain = brain
        self.perception = perception if perception is not None else Perception(persona.attention)
        self.memory = memory if memory is not None else MemoryStream(persona=persona)
        self.beliefs = beliefs if beliefs is not None else Beliefs(self.id)
        self.world: World | None = None
        self.rng: np.random.Generator | None = None
        self._brain_observes = bool(getattr(brain, "observes", False))

    def attach(self, world: World) -> None:
        self.world = world
        self.rng = world.rng(f"agent:{self.id}")
        self.beliefs.bind(world)
        bind_memory = getattr(self.memory, "bind", None)
        if bind_memory is not None:
            bind_memory(world, self.id)

    def joined_record(self) -> dict[str, Any]:
        return {
            "persona": self.persona.model_dump(mode="json"),
            "brain": self.brain.name,
            "policy": getattr(self.brain, "policy_name", None),
        }

    def perceive(self, event: WorldEvent) -> None:
        obs = event if self.perception.attention is None else self.perception.perceive(event)
        if obs is None:
            if self.world is not None:
                self.world.log(
                    "agent.perceived", {"missed": [event.seq], "reason": "attention"}, agent=self.id
                )
            return
        self.memory.observe(obs)
        if self._brain_observes:
            self.brain.observe(self, obs)  # type: ignore[attr-defined]

    def decide(self, request: DecisionRequest) -> SimEvent:
        """``action = yield agent.decide(request)`` inside a simpy process."""
        if self.world is None:
            raise RuntimeError(f"agent {self.id!r} has not joined a world")
        return self.world.decide(self, request)

    def __repr__(self) -> str:
        return f"Agent({self.id!r}, brain={self.brain.name!r})"
