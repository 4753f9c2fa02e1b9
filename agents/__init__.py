"""Agents: persona, perception, memory, brain, beliefs."""

from simworld.agents.agent import Agent
from simworld.agents.beliefs import Belief, Beliefs, TypedBelief
from simworld.agents.brains import Observer, Policy, PolicyRegistry, RuleBrain
from simworld.agents.cast import Cast, read_personas
from simworld.agents.perception import Attention, Perception
from simworld.agents.persona import BigFive, Demographics, Persona, load_personas, save_personas
from simworld.agents.population import PersonaDraws, PopulationSpec, RoleSampler, generate_population

__all__ = [
    "Agent", "Attention", "Belief", "Beliefs", "BigFive", "Cast", "Demographics", "Observer", "Perception",
    "Persona", "PersonaDraws", "Policy", "PolicyRegistry", "PopulationSpec", "RoleSampler", "RuleBrain", "TypedBelief", "generate_population",
    "load_personas",
    "read_personas", "save_personas",
]
