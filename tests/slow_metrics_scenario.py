"""A scenario whose metrics take a while (for signals that arrive while a run is finishing): it writes
``finishing.marker`` next to the run folder when its metrics start, then computes for ``metrics_s`` s."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import simworld as sw


class SlowMetrics(sw.Scenario):
    name = "slow_metrics"

    class Config(sw.ScenarioConfig):
        metrics_s: float = 3.0

    def processes(self, world: sw.World) -> list[Any]:
        def tick() -> Any:
            for _ in range(3):
                world.log("agent.perceived", {"missed": [], "reason": "tick"})
                yield world.timeout(1.0)

        return [tick()]

    def metrics(self, log: sw.RunLog) -> dict[str, Any]:
        (Path(log.path).parent / "finishing.marker").write_text("now")
        deadline = time.monotonic() + self.config.metrics_s
        while time.monotonic() < deadline:  # busy, as a large metrics pass is
            time.sleep(0.01)
        return {"events": sum(1 for _ in log.events())}
