"""``sw.run``: resolve a scenario and its config, run it in a World, write the run directory."""

from __future__ import annotations

import inspect
import os
import secrets
import signal
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from simworld import registry
from simworld.config import build_config, load_config_file
from simworld.errors import BadInput, RunFailed
from simworld.gctune import quiet_gc
from simworld.runlog import RunWriter, load_run
from simworld.scenario import Scenario
from simworld.world import World

#: Seeds are logged as JSON integers, which readers hold in 64 bits.
MAX_SEED = 2**63 - 1


class RunInterrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the run; the log is valid and the manifest says ``interrupted``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"interrupted; partial run kept in {path}")


@dataclass
class RunResult:
    path: Path
    metrics: dict[str, Any]
    status: str = "completed"
    run_id: str = ""
    stats: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    #: Things the user should know although the run completed (e.g. every model decision fell back).
    warnings: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    """A scenario with its validated config, ready to run (what ``simworld validate`` checks)."""

    scenario: Scenario
    seed: int
    source: str


def prepare(
    scenario: str | type[Scenario] | os.PathLike[str],
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> Prepared:
    """Resolve the scenario and config and load every input; raises BadInput, writes nothing."""
    file_values: dict[str, Any] = {}
    file_name = None
    base_dir = Path.cwd()
    spec: str | type[Scenario] | None = str(scenario) if isinstance(scenario, os.PathLike) else scenario
    if isinstance(spec, str) and spec.endswith((".yaml", ".yml")):
        config_file, spec = spec, None
    if config_file is not None:
        file_values = load_config_file(Path(config_file))
        file_name = str(config_file)
        base_dir = Path(config_file).resolve().parent
        if spec is None:
            named = file_values.get("scenario")
            if not isinstance(named, str) or not named:
                raise BadInput(file_name, "missing field (which scenario to run)", "scenario")
            spec = named
            if str(spec).split(":")[0].endswith(".py"):
                spec = str(base_dir / str(spec)) if not Path(str(spec)).is_absolute() else spec
        if seed is None and "seed" in file_values:
            if not isinstance(file_values["seed"], int) or isinstance(file_values["seed"], bool):
                raise BadInput(file_name, f"must be an integer (got {file_values['seed']!r})", "seed")
            seed = file_values["seed"]
            if not 0 <= seed <= MAX_SEED:
                raise BadInput(file_name, f"must be an integer from 0 to {MAX_SEED}, got {seed}", "seed")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise BadInput("--seed", f"must be an integer from 0 to {MAX_SEED}, got {seed}")
    if spec is None:
        raise BadInput(str(scenario), "names no scenario")
    try:
        cls = registry.resolve(spec)
    except BadInput as err:
        if file_name is None or "scenario" not in file_values:
            raise
        raise BadInput(file_name, f"{err.source}: {err.problem}", "scenario") from None
    cfg = build_config(cls.Config, cls.name or cls.__name__, file_values, file_name, overrides)
    inst = cls(cfg, base_dir=base_dir)
    cfg.preflight(file_name or "config", base_dir)
    inst.load_inputs()
    return Prepared(inst, int(seed if seed is not None else 0), file_name or (cls.name or cls.__name__))


def _new_run_id(name: str, seed: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{name}-s{seed}-{stamp}-{secrets.token_hex(2)}"


def execute(
    prepared: Prepared,
    out: str | os.PathLike[str] = "runs",
    run_id: str | None = None,
    progress: Callable[[World, Scenario], None] | None = None,
) -> RunResult:
    """Run a prepared scenario and write its run directory."""
    scn = prepared.scenario
    name = scn.name or type(scn).__name__
    run_id = run_id or _new_run_id(name, prepared.seed)
    if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id:
        raise BadInput("--run-id", f"must be a plain folder name, got {run_id!r}")
    path = Path(out) / run_id
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BadInput(str(path), "run directory already exists and is not empty")
    scn.load_inputs()  # no-op after prepare(); a scenario built by hand is checked before anything is written
    config = scn.config.model_dump(mode="json")
    ref = name if registry.is_registered(type(scn)) else inspect.getfile(type(scn))
    writer = RunWriter(
        path,
        {
            "run_id": run_id,
            "scenario": name,
            "scenario_ref": ref,
            "panel": scn.panel,
            "seed": prepared.seed,
            "config": config,
            "source": prepared.source,
        },
    )
    world = World(prepared.seed, writer, event_types=type(scn).event_types())
    def tick(w: World) -> None:
        writer.flush()
        if progress is not None:
            progress(w, scn)

    status, reason = "completed", None
    with StopSignals(world) as signals:
        try:
            world.log("run.started", {"scenario": name, "seed": prepared.seed, "config": config})
            # setup builds what the run keeps (agents, memories, processes): collecting while it grows
            # walks it again and again (most of the setup time of a 100k-agent run)
            with quiet_gc():
                scn.setup(world)
                for gen in scn.processes(world):
                    world.process(gen)
                world.run(progress=tick)
            if world.stop_requested:
                if world.stop_reason:
                    status, reason = "stopped", world.stop_reason
                else:
                    status, reason = "interrupted", "interrupted by a signal"
        except KeyboardInterrupt:
            status, reason = "interrupted", "interrupted by the user"
        except BadInput as err:
            signals.finishing()
            _finish(world, writer, scn, "failed", err.line())
            raise
        except Exception as err:
            signals.finishing()
            status, reason = "failed", f"{type(err).__name__}: {err}"
            _finish(world, writer, scn, status, reason, traceback.format_exc())
            raise RunFailed(f"run failed: {reason} (log kept in {path})", path) from err
        signals.finishing()
        metrics = _finish(world, writer, scn, status, reason)
    if status == "interrupted":
        raise RunInterrupted(path)
    warnings = list(writer.manifest.get("warnings", []))
    return RunResult(path, metrics, status, run_id, dict(world.stats), reason, warnings)


class StopSignals:
    """Ctrl-C and SIGTERM while a run is under way.

    While the clock runs, the first signal asks the world to stop after the current event (cancelling
    any wait on a model server at once); a second one forces the stop. While the run is finishing
    (metrics, the final manifest), signals are noted and ignored, so the run directory is always
    completed. Only the main thread can take signals; elsewhere this does nothing.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._finishing = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._old = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._finishing:
            return
        if self.world.stop_requested:
            raise KeyboardInterrupt
        self.world.request_stop()

    def finishing(self) -> None:
        self._finishing = True

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def _finish(
    world: World, writer: RunWriter, scn: Scenario, status: str, reason: str | None, tb: str | None = None
) -> dict[str, Any]:
    """Close the log with ``run.finished``, compute metrics from it, and settle the manifest."""
    world.log("run.finished", {"status": status, "reason": reason})
    extra_close: str | None = None
    try:
        world.close()
    except Exception as err:  # noqa: BLE001 - a closing hook must not lose the run
        extra_close = f"{type(err).__name__}: {err}"
    writer.flush()
    metrics: dict[str, Any] = {}
    extra: dict[str, Any] = {"stats": dict(world.stats), **world.manifest_extra}
    if extra_close:
        extra["close_error"] = extra_close
    try:
        metrics = scn.metrics(load_run(writer.path))
        writer.write_metrics(metrics)
    except Exception as err:  # noqa: BLE001 - a metrics bug must not lose the run
        if status == "completed":
            status = "failed"
        extra["metrics_error"] = f"{type(err).__name__}: {err}"
    if reason:
        extra["reason"] = reason
    if tb:
        extra["traceback"] = tb
    warnings = [f"all {m['decisions']} decisions of the {kind!r} model brains fell back to the rule policy "
                f"(first reason: {m['all_fell_back']})"
                for kind, m in sorted(extra.get("models", {}).items()) if m.get("all_fell_back")]
    if warnings:
        extra["warnings"] = warnings
    writer.close(status, **extra)
    return metrics


def run(
    scenario: str | type[Scenario] | os.PathLike[str],
    seed: int | None = None,
    out: str | os.PathLike[str] = "runs",
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    progress: Callable[[World, Scenario], None] | None = None,
) -> RunResult:
    """Run a scenario by name, class, ``.py`` or ``.yaml`` path. Returns the run directory and metrics."""
    registry.refuse_runs_while_importing()
    prepared = prepare(scenario, seed=seed, overrides=overrides, config_file=config_file)
    return execute(prepared, out=out, run_id=run_id, progress=progress)
