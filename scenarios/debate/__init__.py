"""Moderated debates with persona debaters and an audience, and opinion dynamics on an influence network."""

from simworld.scenarios.debate.config import DebateConfig, DebateRole
from simworld.scenarios.debate.dynamics import (
    RULES,
    bimodality,
    clusters,
    deffuant,
    degroot,
    friedkin_johnsen,
    hegselmann_krause,
)
from simworld.scenarios.debate.moves import (
    Argument,
    PrivateMessage,
    Vote,
    argument_shift,
    move_strength,
    policies,
    receptivity,
)
from simworld.scenarios.debate.scenario import DebateScenario

__all__ = [
    "RULES", "Argument", "DebateConfig", "DebateRole", "DebateScenario", "PrivateMessage", "Vote", "argument_shift",
    "bimodality", "clusters", "deffuant", "degroot", "friedkin_johnsen", "hegselmann_krause", "move_strength",
    "policies", "receptivity",
]
