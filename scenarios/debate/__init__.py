"""Moderated debates with persona debaters and an audience, and opinion dynamics on an influence network."""

from simworld.scenarios.debate.config import DebateConfig
from simworld.scenarios.debate.dynamics import (
    RULES,
    bimodality,
    clusters,
    deffuant,
    degroot,
    friedkin_johnsen,
    hegselmann_krause,
)
from simworld.scenarios.debate.events import EVENTS, DebateMove, move_data
from simworld.scenarios.debate.persuasion import argument_shift, move_strength, receptivity
from simworld.scenarios.debate.policies import Argument, PrivateMessage, Vote, persona_policy, policies
from simworld.scenarios.debate.roles import DebateRole
from simworld.scenarios.debate.scenario import DebateInputs, DebateScenario

__all__ = [
    "EVENTS", "RULES", "Argument", "DebateConfig", "DebateInputs", "DebateMove", "DebateRole", "DebateScenario",
    "PrivateMessage", "Vote", "argument_shift", "bimodality", "clusters", "deffuant", "degroot", "friedkin_johnsen",
    "hegselmann_krause", "move_data", "move_strength", "persona_policy", "policies", "receptivity",
]
