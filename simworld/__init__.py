"""simworld: persona-driven agents in discrete-event scenarios, with typed run logs.

>>> import simworld as sw
>>> result = sw.run("auction", seed=7, out="runs", overrides={"n_bidders": 5})
>>> log = sw.load_run(result.path)

Names are imported lazily so that ``import simworld`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "simworld.runner",
    "prepare": "simworld.runner",
    "RunResult": "simworld.runner",
    "RunInterrupted": "simworld.runner",
    "load_run": "simworld.runlog",
    "RunLog": "simworld.runlog",
    "Event": "simworld.events",
    "World": "simworld.world",
    "WorldEvent": "simworld.world",
    "Scenario": "simworld.scenario",
    "ScenarioConfig": "simworld.scenario",
    "DecisionRequest": "simworld.decisions",
    "BadInput": "simworld.errors",
    "RunFailed": "simworld.errors",
}

__all__ = [
    "BadInput", "DecisionRequest", "Event", "RunFailed", "RunInterrupted", "RunLog", "RunResult", "Scenario",
    "ScenarioConfig", "World", "WorldEvent", "__version__", "load_run", "prepare", "run",
]

if TYPE_CHECKING:
    from simworld.decisions import DecisionRequest
    from simworld.errors import BadInput, RunFailed
    from simworld.events import Event
    from simworld.runlog import RunLog, load_run
    from simworld.runner import RunInterrupted, RunResult, prepare, run
    from simworld.scenario import Scenario, ScenarioConfig
    from simworld.world import World, WorldEvent


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simworld' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
