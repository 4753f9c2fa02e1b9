"""Where a sweep's runs execute: ``serial`` (one after another in this process), ``local`` (a process pool,
spawn) and ``ray`` (Ray tasks on a local Ray this sweep starts, or on a cluster at ``address``).

Each executor takes the tasks and calls ``done(outcome)`` as each run ends, in completion order; the tables
never depend on that order. Ctrl-C: pending runs are cancelled, runs under way end as ``interrupted``
(their folders are valid logs that ``--resume`` runs again), and :class:`SweepInterrupted` is raised.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Protocol

from simworld.errors import BadInput
from simworld.runner import RunInterrupted
from simworld.sweep.spec import RunTask
from simworld.sweep.worker import Outcome, run_task, start_pool_worker

EXECUTORS = ("local", "ray", "serial")


class SweepInterrupted(RunInterrupted):
    """Ctrl-C stopped the sweep; every finished run is kept and ``--resume`` runs the rest (the CLI exits
    130 with the sweep folder as the last line of stdout)."""

    def __init__(self, message: str = "interrupted", path: Path | None = None) -> None:
        Exception.__init__(self, message)
        self.path = path if path is not None else Path(".")


class Executor(Protocol):
    name: str
    workers: int

    def run(self, tasks: Sequence[RunTask], done: Callable[[Outcome], None]) -> None: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Every run in this process, one after another (the benchmark's baseline; debugging)."""

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1

    def run(self, tasks: Sequence[RunTask], done: Callable[[Outcome], None]) -> None:
        for task in tasks:
            outcome = run_task(task)
            done(outcome)
            if outcome.status == "interrupted":
                raise SweepInterrupted

    def close(self) -> None:
        pass


class LocalExecutor:
    """A pool of spawned processes (no state inherited from this one), ``workers`` at a time."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def run(self, tasks: Sequence[RunTask], done: Callable[[Outcome], None]) -> None:
        if not tasks:
            return
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=ctx,
                                   initializer=start_pool_worker, initargs=(os.getpid(),))
        pending: set[Future[Outcome]] = set()
        try:
            with _workers_start_ignoring_ctrl_c():  # the pool starts its processes as tasks arrive
                futures = {pool.submit(run_task, t): t for t in tasks}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    outcome = _outcome(fut, futures[fut])
                    done(outcome)
        except KeyboardInterrupt:
            for fut in pending:
                fut.cancel()
            # runs under way got the same Ctrl-C (one process group) and end as interrupted
            pool.shutdown(wait=True, cancel_futures=True)
            raise SweepInterrupted from None
        pool.shutdown(wait=True)

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _workers_start_ignoring_ctrl_c() -> Iterator[None]:
    """Processes started here inherit an ignored SIGINT, so a Ctrl-C while one is still importing cannot
    kill it (and break the pool); a run in it takes Ctrl-C through the runner as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _outcome(fut: Future[Outcome], task: RunTask) -> Outcome:
    try:
        return fut.result()
    except Exception as err:  # noqa: BLE001 - a worker that died (killed, out of memory) fails its run only
        return Outcome(task.run_id, "failed", f"worker died: {type(err).__name__}: {err}", 0.0, "")


class RayExecutor:
    """Ray tasks, one CPU each. Without ``address`` a local Ray with ``workers`` CPUs starts here (and
    stops at the end); with one, the sweep joins that cluster, whose nodes must have simworld installed and
    see the sweep folder at the same path (a shared file system)."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise BadInput("--executor", "ray is not installed (pip install 'simworld[ray]')") from None
        self.ray: Any = ray
        self.address = address
        if address is not None:
            _check_reachable(address)
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        self._started = not ray.is_initialized()
        if self._started:
            try:
                if address is None:
                    ray.init(num_cpus=workers or os.cpu_count() or 1, **kwargs)
                else:
                    ray.init(address=address, **kwargs)
            except Exception as err:  # noqa: BLE001 - Ray raises several kinds for a cluster it cannot join
                raise BadInput("--address", f"cannot start or join Ray at {address or 'a new local instance'}: "
                                            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                               ) from None
        self.workers = workers or int(self.ray.cluster_resources().get("CPU", 1))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_task)

    def run(self, tasks: Sequence[RunTask], done: Callable[[Outcome], None]) -> None:
        ray = self.ray
        refs = {self._remote.remote(t): t for t in tasks}
        pending = list(refs)
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    try:
                        outcome = ray.get(ref)
                    except Exception as err:  # noqa: BLE001 - a task that died fails its run only
                        t = refs[ref]
                        outcome = Outcome(t.run_id, "failed", f"worker died: {type(err).__name__}: {err}", 0.0, "")
                    done(outcome)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref)  # a run under way is interrupted (its folder says so) and runs again on --resume
            raise SweepInterrupted from None

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()


def _check_reachable(address: str) -> None:
    """A ``host:port`` (or ``ray://host:port``) that answers, checked in seconds before Ray's own retries."""
    if address == "auto":
        return
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise BadInput("--address", f"expected host:port or ray://host:port, got {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except OSError as err:
        raise BadInput("--address", f"cannot reach a Ray cluster at {address}: {err.strerror or err}") from None


def make_executor(name: str, workers: int | None = None, address: str | None = None) -> Executor:
    if name not in EXECUTORS:
        raise BadInput("--executor", f"unknown executor {name!r} (known: {', '.join(EXECUTORS)})")
    if address is not None and name != "ray":
        raise BadInput("--address", "only the ray executor joins a cluster (add --executor ray)")
    if workers is not None and workers < 1:
        raise BadInput("--workers", f"must be at least 1, got {workers}")
    if name == "ray":
        return RayExecutor(workers, address)
    if name == "serial":
        return SerialExecutor()
    return LocalExecutor(workers)
