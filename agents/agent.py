"""An agent: persona + perception + memory + brain + beliefs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from simworld.agents.beliefs import Beliefs
from simworld.agents.perception import Attention, Perception
from simworld.agents.persona import Persona
from simworld.agents.persona_text import DescriptiveRenderer
from simworld.memory import Memory, MemoryStream

from simworld.decisions import Brain, DecisionRequest

if TYPE_CHECKING:
    import simpy

    from simworld.events import WorldEvent
    from simworld.world import World


class Agent:
    """Takes in what it witnesses and answers decisions through its brain.

    ``rng`` is the agent's own stream (``"agent:<id>"``), available once the agent joins a world.
    ``persona_text`` is what model brains are told about the persona (logged in ``agent.joined``).
    """

    def __init__(
        self,
        persona: Persona,
        brain: Brain,
        perception: Perception | None = None,
        memory: Memory | None = None,
        beliefs: Beliefs | None = None,
        persona_text: str | None = None,
    ) -> None:
        self.persona = persona
        self.id = persona.id
        self.brain = brain
        self.perception: Perception = perception if perception is not None else Attention(persona.attention)
        self.memory: Memory = memory if memory is not None else MemoryStream(persona=persona)
        self.beliefs = beliefs if beliefs is not None else Beliefs(self.id)
        #: What a model brain is told about the persona (logged in agent.joined); rule brains are told nothing.
        self.persona_text = persona_text
        if persona_text is None and brain.batched:
            self.persona_text = DescriptiveRenderer().render(persona)
        self._world: World | None = None
        #: the agent's own random stream; set when the agent joins a world (until then reading it raises)
        self.rng: np.random.Generator
        # An attention without a limit passes every event through: skip the call on the hot path.
        self._filters = not (isinstance(self.perception, Attention) and self.perception.takes_everything)

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError(f"agent {self.id!r} has not joined a world")
        return self._world

    @property
    def joined(self) -> bool:
        return self._world is not None

    def attach(self, world: World) -> None:
        self._world = world
        self.rng = world.rng(f"agent:{self.id}")
        self.beliefs.bind(world)
        self.memory.bind(world, self.id)

    def joined_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "persona": self.persona.model_dump(mode="json"),
            "brain": self.brain.name,
            "policy": self.brain.policy_name,
        }
        if self.persona_text is not None:
            record["persona_text"] = self.persona_text
        return record

    def perceive(self, event: WorldEvent) -> None:
        obs = self.perception.perceive(event) if self._filters else event
        if obs is None:
            self.world.log("agent.perceived", {"missed": [event.seq], "reason": "attention"}, agent=self.id)
            return
        self.memory.observe(obs)
        if self.brain.observes:
            self.brain.observe(self, obs)

    def decide(self, request: DecisionRequest) -> simpy.Event:
        """``action = yield agent.decide(request)`` inside a simpy process."""
        world = self._world
        if world is None:
            raise RuntimeError(f"agent {self.id!r} has not joined a world")
        return world.decide(self, request)

    def __getattr__(self, name: str) -> Any:
        # called only for attributes not set: ``rng`` before the agent joins a world
        if name == "rng":
            raise RuntimeError(f"agent {self.id!r} has not joined a world")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"Agent({self.id!r}, brain={self.brain.name!r})"
