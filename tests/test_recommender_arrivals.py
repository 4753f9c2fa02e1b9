"""The driver that starts each viewer's process at its first arrival writes the same log, byte for byte,
as one process per viewer parked from time 0 (the way sessions were started before)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from simworld.scenarios.recommender.scenario import RecommenderScenario

from simworld.runner import execute, prepare
from simworld.world import World


class ParkedFromStart(RecommenderScenario):
    """The reference: every viewer's process is created at time 0 and waits for its first arrival."""

    def processes(self, world: World) -> list[Generator[simpy.Event, Any, None]]:
        index = self.population.index
        return [self.viewer(world, label, uid, agent, self.arrivals[index[uid]])
                for label, uid, agent in self.viewer_agents]


def log_of(cls: type[RecommenderScenario], tmp_path, name: str, overrides: dict[str, Any]) -> bytes:
    prepared = prepare(cls, seed=5, overrides=overrides)
    result = execute(prepared, out=tmp_path, run_id=name)
    lines = (result.path / "events.jsonl").read_bytes().splitlines()
    return b"\n".join(lines[1:])  # run.started names the scenario class


@pytest.mark.parametrize("overrides", [
    {"n_users": 150},  # Poisson arrivals over a week, several sessions per viewer
    {"n_users": 100, "sessions_per_user": 2, "days": 0.05},  # fixed sessions, crowded: many run back to back
    {"n_users": 60, "recommender": ["popular", "random"]},  # an A/B test: the same arrival in two arms
])
def test_driver_writes_the_same_log_as_processes_parked_from_the_start(tmp_path, overrides):
    driver = log_of(RecommenderScenario, tmp_path, "driver", overrides)
    parked = log_of(ParkedFromStart, tmp_path, "parked", overrides)
    assert driver.count(b"recommender.session_started") > overrides["n_users"] // 2
    assert driver == parked
