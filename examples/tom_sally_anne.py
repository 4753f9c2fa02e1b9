"""The Sally-Anne test as a simworld run, asked about with the knowledge engine.

Sally puts the marble in the basket and goes out; Anne moves it to the box; Sally comes back. Each event
names its witnesses and states the facts it makes true (``facts=``); the analysis replays them::

    python examples/tom_sally_anne.py
    simworld tom runs/sally-anne --orders 1,2          # once the run exists: probes and beliefs

Everything here is public API: a scenario with typed payloads, ``world.emit(..., facts=...)``, and
:mod:`simworld.analysis.tom` (``Knowledge``, ``probes``).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any

from simworld.agents import Cast, Persona
from simworld.agents.brain_config import BrainSettings
from simworld.analysis.tom import Knowledge, probes

import simworld as sw
from simworld.decisions import Action, DecisionRequest
from simworld.events import Payload

MARBLE = "marble.container"


class Put(Payload):
    """Someone puts the marble somewhere."""

    kind = "sally_anne.put"
    who: str
    where: str


class Went(Payload):
    """Someone goes out or comes back."""

    kind = "sally_anne.went"
    who: str
    to: str


def idle(persona: Persona, observation: DecisionRequest, memories: Any, beliefs: Any, rng: Any) -> Action:
    """Nobody is asked anything in this story."""
    return {}


class SallyAnne(sw.Scenario):
    """Sally, Anne, a basket, a box and a marble."""

    name = "sally_anne"
    Config = BrainSettings
    events = (Put, Went)
    config: BrainSettings

    def setup(self, world: sw.World) -> None:
        cast = Cast(world, self.config)
        for pid, name in (("sally", "Sally"), ("anne", "Anne")):
            cast.add(Persona(id=pid, name=name), idle, "idle")

    def processes(self, world: sw.World) -> list[Generator[Any, Any, None]]:
        return [self.story(world)]

    def story(self, world: sw.World) -> Generator[Any, Any, None]:
        both = ["sally", "anne"]
        world.emit("sally_anne.put", {"who": "sally", "where": "basket"}, witnesses=both, agent="sally",
                   facts={MARBLE: "basket"})
        yield world.timeout(1)
        world.emit("sally_anne.went", {"who": "sally", "to": "out"}, witnesses=both, agent="sally",
                   facts={"sally.room": "out"})
        yield world.timeout(1)
        world.emit("sally_anne.put", {"who": "anne", "where": "box"}, witnesses=["anne"], agent="anne",
                   facts={MARBLE: "box"})
        yield world.timeout(1)
        world.emit("sally_anne.went", {"who": "sally", "to": "room"}, witnesses=both, agent="sally",
                   facts={"sally.room": "room"})


def main(out: str = "runs") -> None:
    result = sw.run(SallyAnne, seed=0, out=out, run_id="sally-anne")
    k = Knowledge(result.path)
    print("reality:", k.reality(MARBLE))                                   # box
    print("Sally believes:", k.belief("sally", MARBLE))                    # basket
    print("Anne believes Sally believes:", k.belief(["anne", "sally"], MARBLE))  # basket
    print("Sally knows:", k.knows("sally", MARBLE))                        # False
    for p in probes(k, orders=(0, 1, 2), facts=["marble.*"], balanced=False):
        print(f"{p.question:55} {p.answer!s:8} {'ToM' if p.tom_required else ''}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
