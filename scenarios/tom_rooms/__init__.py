"""Theory of mind in rooms: agents move objects between containers, come and go, tell (or lie), watch unseen."""

from simworld.scenarios.tom_rooms.bench import generate, stories
from simworld.scenarios.tom_rooms.config import TomRoomsConfig, tom_memory
from simworld.scenarios.tom_rooms.events import EVENTS, HALLWAY
from simworld.scenarios.tom_rooms.metrics import tom_rooms_metrics
from simworld.scenarios.tom_rooms.policies import (
    DECISION,
    DeceiverPolicy,
    HonestPolicy,
    Mind,
    PersonaPolicy,
    RandomPolicy,
    RoomAction,
    fact_of,
    policies,
)
from simworld.scenarios.tom_rooms.roles import TomRole, honesty
from simworld.scenarios.tom_rooms.scenario import TomInputs, TomRoomsScenario
from simworld.scenarios.tom_rooms.story import Line, render, text

__all__ = [
    "DECISION", "EVENTS", "HALLWAY", "DeceiverPolicy", "HonestPolicy", "Line", "Mind", "PersonaPolicy",
    "RandomPolicy", "RoomAction", "TomInputs", "TomRole", "TomRoomsConfig", "TomRoomsScenario", "fact_of", "generate",
    "honesty", "policies", "render", "stories", "text", "tom_memory", "tom_rooms_metrics",
]
