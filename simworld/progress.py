"""Terminal display for the CLI: a progress bar over simulated time and a metrics summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from simworld.scenario import Scenario
    from simworld.world import World


class RunProgress:
    """A rich progress bar; the scenario's ``progress()`` gives (done, total), else simulated time shows."""

    def __init__(self, scenario: Scenario, min_interval: float = 0.1) -> None:
        self.scenario = scenario
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[units]}"),
            TextColumn("sim t={task.fields[sim_t]}"),
            TextColumn("{task.fields[events]} events"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.task = self.progress.add_task(scenario.name or "run", total=None, units="", sim_t="0", events=0)
        self._last = 0.0
        self._min_interval = min_interval

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, world: World, scenario: Scenario) -> None:
        now = time.monotonic()
        if now - self._last < self._min_interval:
            return
        self._last = now
        prog = scenario.progress(world)
        sim_t, events = f"{world.now:,.1f}", world.seq
        if prog is not None:
            done, total = prog
            self.progress.update(self.task, completed=done, total=total, units=f"{done:g}/{total:g}", sim_t=sim_t,
                                 events=events)
        else:
            self.progress.update(self.task, sim_t=sim_t, events=events)


def _flatten(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and len(v) <= 12 and all(not isinstance(x, (dict, list)) for x in v.values()):
            rows.extend(_flatten(v, key + "."))
        elif isinstance(v, (dict, list)):
            rows.append((key, f"({len(v)} entries)"))
        else:
            rows.append((key, v))
    return rows


def print_summary(metrics: dict[str, Any], path: Path, header: str = "metrics", stdout: bool = False) -> None:
    """Top-level metrics as a table: on stderr after a run (whose stdout ends with the run directory), on
    stdout when the table is the answer (``simworld analyze``)."""
    from rich.table import Table

    console = Console(stderr=not stdout)
    table = Table(title=header, show_header=False, title_justify="left")
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for key, value in _flatten(metrics)[:40]:
        table.add_row(key, f"{value:,.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(
        f"run directory: {path}   (metrics: {path / 'metrics.json'}, recompute: simworld analyze {path})",
        highlight=False,
        soft_wrap=True,  # keep paths on one line so they can be copied
    )
