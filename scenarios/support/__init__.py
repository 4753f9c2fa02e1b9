"""Emotional-support conversations: ESConv strategies, persona seekers and supporters, matching, replay."""

from simworld.scenarios.support.config import SupportConfig, SupporterRole
from simworld.scenarios.support.esconv import Conversation, Turn, load_esconv
from simworld.scenarios.support.matching import compatibility, match, random_assignment
from simworld.scenarios.support.scenario import SupportScenario
from simworld.scenarios.support.seeker import Feedback, SeekerRole, SeekerTurn, response
from simworld.scenarios.support.strategies import STRATEGIES, SupportTurn, canonical_strategy, policies

__all__ = [
    "STRATEGIES", "Conversation", "Feedback", "SeekerRole", "SeekerTurn", "SupportConfig", "SupportScenario",
    "SupportTurn", "SupporterRole", "Turn", "canonical_strategy", "compatibility", "load_esconv", "match",
    "policies", "random_assignment", "response",
]
