"""Building a scenario's agents from its config: personas (from a file or the population generator),
and for each one its memory (the config's ``memory`` block) and brain (``brain`` and ``model``).

Every built-in scenario builds its agents here; a custom scenario takes the same two lines::

    cast = Cast(world, self.config)                      # a config with BrainSettings and a memory block
    agent = cast.add(persona, my_policy, "my_policy")    # joined to the world, memory and brain per config
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel
from simworld.agents.agent import Agent
from simworld.agents.beliefs import TypedBelief
from simworld.agents.brain_config import BrainFactory, BrainSettings
from simworld.agents.brains import Policy
from simworld.agents.persona import Persona, load_personas
from simworld.agents.persona_text import make_renderer
from simworld.memory import MemoryConfig, MemoryRole, MemorySystem

from simworld.errors import BadInput
from simworld.files import DataFile
from simworld.world import World


def read_personas(path: Path | DataFile, roles: dict[str, type[BaseModel]], at_least: int | None = None,
                  n_field: str = "n") -> list[Persona]:
    """Personas from a file (or a :class:`~simworld.files.DataFile` with a field map), every role in
    ``roles`` (and ``roles.memory``) validated; with ``at_least`` the file must hold that many (``n_field``
    names the config key asking for them)."""
    personas = load_personas(path, roles={**roles, "memory": MemoryRole})
    if at_least is not None and at_least > len(personas):
        where = path.path if isinstance(path, DataFile) else path
        raise BadInput(str(where), f"holds {len(personas)} personas but {n_field} is {at_least}")
    return personas


class Cast:
    """Makes agents for one world: brains per ``settings`` (rule, model or shares of them; model brains
    share one gateway), memories from one :class:`MemorySystem`."""

    def __init__(self, world: World, settings: BrainSettings, memory: MemoryConfig | None = None,
                 belief_model: type[TypedBelief] | None = None) -> None:
        """``belief_model``: the typed beliefs a model brain's theory-of-mind node forms about each other
        agent (a :class:`~simworld.agents.beliefs.TypedBelief` subclass); None: free keys."""
        self.world = world
        self.brains = BrainFactory(world, settings, belief_model)
        self.renderer = make_renderer(settings.persona_prompt, omit=settings.persona_omit)
        self.memory = MemorySystem(memory if memory is not None else settings.memory).bind(world)
        self.variant = settings.persona  # a sweep's persona variant (the default changes nothing)

    def kinds(self, n: int) -> list[str]:
        """The brain kind of each of ``n`` agents, by the config's shares (seeded, exact counts)."""
        return self.brains.kinds(n)

    def add(self, persona: Persona, policy: Policy, policy_name: str, brain: str = "rule") -> Agent:
        """A new agent for ``persona`` (with the config's persona variant applied) deciding with ``brain``
        (its rule policy is the fallback of a model brain), with a memory as the config says; it joins
        the world."""
        persona = self.variant.apply(persona)
        made = self.brains.make(brain, policy, policy_name)
        text = self.renderer.render(persona) if made.batched else None  # what a model brain is told
        agent = Agent(persona, made, memory=self.memory.stream(persona), persona_text=text)
        self.world.add_agent(agent)
        return agent

    def add_all(
        self,
        personas: Sequence[Persona],
        policy: Callable[[Persona], tuple[Policy, str]],
        brain: Callable[[Persona], str | None] | None = None,
    ) -> list[Agent]:
        """One agent per persona, in order. ``policy(persona)`` gives its rule policy and that policy's
        name; brain kinds follow the config's shares unless ``brain(persona)`` names one."""
        kinds = self.kinds(len(personas))
        out = []
        for persona, kind in zip(personas, kinds):
            chosen = brain(persona) if brain is not None else None
            fn, name = policy(persona)
            out.append(self.add(persona, fn, name, chosen or kind))
        return out

