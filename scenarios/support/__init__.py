"""Emotional-support conversations: ESConv strategies, persona seekers and supporters, matching, replay."""

from simworld.scenarios.support.config import SupportConfig
from simworld.scenarios.support.dynamics import INTENSITY_CUES, cue, patience, response, reveal_threshold
from simworld.scenarios.support.esconv import STRATEGIES, Conversation, Strategy, Turn, canonical_strategy, load_esconv
from simworld.scenarios.support.events import EVENTS
from simworld.scenarios.support.matching import compatibility, match, random_assignment
from simworld.scenarios.support.policies import (
    STAGES,
    Feedback,
    RandomPolicy,
    SeekerTurn,
    Staged,
    SupportTurn,
    policies,
    seeker_policies,
    stage_of,
)
from simworld.scenarios.support.roles import SeekerRole, SupporterRole
from simworld.scenarios.support.scenario import SupportInputs, SupportScenario

__all__ = [
    "EVENTS", "INTENSITY_CUES", "STAGES", "STRATEGIES", "Conversation", "Feedback", "RandomPolicy", "SeekerRole",
    "SeekerTurn", "Staged", "Strategy", "SupportConfig", "SupportInputs", "SupportScenario", "SupportTurn",
    "SupporterRole", "Turn", "canonical_strategy", "compatibility", "cue", "load_esconv", "match", "patience",
    "policies", "random_assignment", "response", "reveal_threshold", "seeker_policies", "stage_of",
]
