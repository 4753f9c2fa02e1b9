"""``run_sweep``: plan the runs, check the folder, run what is not finished, write the tables."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import yaml

from simworld.errors import BadInput
from simworld.sweep.executors import SweepInterrupted, make_executor
from simworld.sweep.spec import Plan, load_sweep
from simworld.sweep.tables import collect, results_csv, summary_csv, write_parquet
from simworld.sweep.worker import Outcome, finished


@dataclass
class SweepResult:
    path: Path
    runs: int
    ran: list[str] = field(default_factory=list)  # run ids executed by this call, in completion order
    skipped: list[str] = field(default_factory=list)  # finished before (--resume)
    status: dict[str, int] = field(default_factory=dict)  # runs by status, all of them
    interrupted: bool = False


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _check_folder(out: Path, plan: Plan, resume: bool) -> None:
    """A new sweep needs an empty (or new) folder; ``--resume`` needs this sweep's own folder."""
    if out.exists() and not out.is_dir():
        raise BadInput(str(out), "is a file, not a folder")
    spec_file = out / "sweep.yaml"
    if not resume:
        if out.exists() and any(out.iterdir()):
            what = "a sweep (continue it with --resume)" if spec_file.is_file() else "files"
            raise BadInput(str(out), f"already holds {what}; nothing was changed (choose a new folder)")
        return
    if not spec_file.is_file():
        raise BadInput(str(out), "holds no sweep to resume (no sweep.yaml)")
    try:
        before = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise BadInput(str(spec_file), f"cannot read it: {err}") from None
    now = yaml.safe_load(yaml.safe_dump(plan.resolved, sort_keys=False, allow_unicode=True))
    if before != now:
        changed = sorted(k for k in {*before, *now} if before.get(k) != now.get(k)) if isinstance(before, dict) \
            else ["everything"]
        raise BadInput(plan.source, f"differs from the sweep in {out} ({', '.join(changed)}); --resume continues "
                                    "the same sweep only")


def run_sweep(
    sweep_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    executor: str = "local",
    workers: int | None = None,
    resume: bool = False,
    address: str | None = None,
    progress: bool | None = None,
    on_run: Callable[[Outcome], None] | None = None,
) -> SweepResult:
    """Run every run of the sweep in ``sweep_file`` into ``out`` and write its tables.

    Bad input (the sweep file, any arm's config, the folder, the executor) raises BadInput before anything
    under ``out`` is written. Raises :class:`SweepInterrupted` after Ctrl-C (tables of what finished kept).
    """
    plan = load_sweep(sweep_file)
    out = Path(out)
    runs_dir = (out / "runs").resolve()
    tasks = plan.tasks(runs_dir)
    _check_folder(out, plan, resume)
    runner = make_executor(executor, workers, address)
    result = SweepResult(out, len(tasks))
    outcomes: dict[str, Outcome] = {}
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        if not resume:
            _atomic_write(out / "sweep.yaml", yaml.safe_dump(plan.resolved, sort_keys=False, allow_unicode=True))
        todo = []
        for task in tasks:
            run_dir = runs_dir / task.run_id
            if resume and finished(run_dir):
                result.skipped.append(task.run_id)
                continue
            if run_dir.exists():  # an unfinished run (interrupted, failed, killed): it runs again
                shutil.rmtree(run_dir)
            todo.append(task)
        bar = _Bar(len(tasks), len(result.skipped), runner.name, runner.workers, progress)

        def done(outcome: Outcome) -> None:
            outcomes[outcome.run_id] = outcome
            result.ran.append(outcome.run_id)
            bar.advance(outcome)
            if on_run is not None:
                on_run(outcome)

        with bar:
            try:
                runner.run(todo, done)
            except KeyboardInterrupt:
                raise SweepInterrupted from None
    except SweepInterrupted:
        result.interrupted = True
    finally:
        runner.close()
        if runs_dir.is_dir():
            _write_tables(plan, out, runs_dir, outcomes, result)
    if result.interrupted:
        raise SweepInterrupted(f"interrupted; {result.status.get('completed', 0)} of {result.runs} runs finished "
                               f"in {out} (continue with --resume)", out)
    return result


def _write_tables(plan: Plan, out: Path, runs_dir: Path, outcomes: dict[str, Outcome], result: SweepResult) -> None:
    rows = collect(plan, runs_dir, outcomes)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    result.status = counts
    _atomic_write(out / "results.csv", results_csv(plan, rows))
    _atomic_write(out / "summary.csv", summary_csv(plan, rows))
    write_parquet(plan, rows, out / "results.parquet")
    _write_timings(out / "timings.csv", outcomes)


def _write_timings(path: Path, outcomes: dict[str, Outcome]) -> None:
    """Wall-clock facts (seconds per run, which worker), kept out of the deterministic tables; a resumed
    sweep keeps the earlier rows of runs it did not run again."""
    rows: dict[str, list[str]] = {}
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            for rec in csv.reader(fh):
                if rec and rec[0] != "run_id":
                    rows[rec[0]] = rec
    for o in outcomes.values():
        rows[o.run_id] = [o.run_id, o.status, f"{o.wall_s:.3f}", o.worker]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run_id", "status", "wall_s", "worker"])
    writer.writerows(rows[k] for k in sorted(rows))
    _atomic_write(path, buf.getvalue())


class _Bar:
    """A rich progress bar over runs on a terminal (stderr); nothing otherwise."""

    def __init__(self, total: int, skipped: int, executor: str, workers: int, show: bool | None) -> None:
        from rich.console import Console

        console = Console(stderr=True)
        self.progress: Any = None
        if show if show is not None else console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn(f"[bold]sweep ({executor}, {workers} worker{'s' if workers != 1 else ''})"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
                                     TimeElapsedColumn(), console=console)
            self.task = self.progress.add_task("runs", total=total, completed=skipped, failed=0)
        self.failed = 0

    def __enter__(self) -> Self:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, outcome: Outcome) -> None:
        if outcome.status not in ("completed", "stopped"):
            self.failed += 1
        if self.progress is not None:
            self.progress.update(self.task, advance=1, failed=self.failed)
