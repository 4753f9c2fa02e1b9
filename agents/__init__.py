"""Agents: persona, perception, memory, brain, beliefs."""

from simworld.agents.agent import Agent
from simworld.agents.beliefs import Belief, Beliefs
from simworld.agents.brains import Policy, PolicyRegistry, RuleBrain
from simworld.agents.perception import Perception
from simworld.agents.persona import BigFive, Demographics, Persona, load_personas, save_personas
from simworld.agents.population import PopulationSpec, generate_population

__all__ = [
    "Agent", "Belief", "Beliefs", "BigFive", "Demographics", "Perception", "Persona", "Policy",
    "PolicyRegistry", "PopulationSpec", "RuleBrain", "generate_population", "load_personas", "save_personas",
]
