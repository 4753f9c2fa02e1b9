"""One run of a sweep, as a worker process (or a Ray task) executes it: plain data in, plain data out."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simworld.sweep.spec import RunTask, in_folder

FINISHED = ("completed", "stopped")


@dataclass(frozen=True)
class Outcome:
    """What a worker reports; the tables read the run folder itself, this is for runs that have none."""

    run_id: str
    status: str
    error: str
    wall_s: float
    worker: str


def start_pool_worker(parent: int) -> None:
    """A pool worker: between runs it ignores Ctrl-C (the sweep decides what stops; during a run the runner
    takes it and ends the run as ``interrupted`` with a valid log), and it exits when the sweep process
    ``parent`` is gone (killed: the pool's queues would otherwise keep it waiting for ever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="sweep-parent-watch", daemon=True).start()


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(EXIT_ORPHANED)  # a run under way stays "running" in its manifest: --resume runs it again


EXIT_ORPHANED = 3


def run_task(task: RunTask) -> Outcome:
    """Run one task into ``task.out/task.run_id``; every error becomes the outcome's status and text."""
    from simworld.errors import BadInput, RunFailed
    from simworld.runner import RunInterrupted, execute, prepare

    start = time.perf_counter()
    where = f"{socket.gethostname()}:{os.getpid()}"
    status, error = "completed", ""
    try:
        with in_folder(task.base_dir):
            prepared = prepare(task.scenario or task.config_file or "", seed=task.seed, overrides=task.overrides,
                               config_file=task.config_file if task.scenario is not None else None)
            result = execute(prepared, out=task.out, run_id=task.run_id)
        status, error = result.status, result.reason or ""
    except RunInterrupted:
        status, error = "interrupted", "interrupted"
    except BadInput as err:
        status, error = "failed", err.line()
    except RunFailed as err:
        status, error = "failed", str(err)
    except Exception as err:  # noqa: BLE001 - one failing run must not end the sweep
        status, error = "failed", f"{type(err).__name__}: {err}"
    return Outcome(task.run_id, status, error, time.perf_counter() - start, where)


def finished(run_dir: Path) -> bool:
    """A run counts as finished when its manifest says completed or stopped and metrics.json exists."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("status") in FINISHED and (run_dir / "metrics.json").is_file()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
