"""``simworld sweep``: one scenario over a grid of config values, persona variants and seeds.

::

    simworld sweep study.yaml --out sweeps/study                     # a process pool, one worker per core
    simworld sweep study.yaml --out sweeps/study --executor ray      # a local Ray (or --address HOST:PORT)
    simworld sweep study.yaml --out sweeps/study --resume            # after Ctrl-C: only what did not finish

The sweep file and the folder's shape are described in :mod:`simworld.sweep`. Prints the sweep folder as
the last line of stdout. Exit codes: 0 every run finished, 1 some runs failed (their rows say why; the
tables hold the rest), 2 bad input (nothing under the folder overwritten), 130 interrupted.
"""

from __future__ import annotations

import click

from simworld.errors import BadInput


@click.command("sweep", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="The sweep folder (new, or with --resume).")
@click.option("--executor", default="local", show_default=True, metavar="local|ray|serial",
              help="local: a process pool; ray: Ray tasks; serial: one after another in this process.")
@click.option("--workers", type=int, default=None, help="Runs at a time (default: the number of cores).")
@click.option("--address", default=None, metavar="HOST:PORT", help="ray: join this cluster instead of starting one.")
@click.option("--resume", is_flag=True, help="Continue the sweep in --out: finished runs are kept, the rest run.")
@click.option("--progress/--no-progress", "show", default=None, help="The progress bar (default: on a terminal).")
def sweep(sweep_file: str, out: str, executor: str, workers: int | None, address: str | None, resume: bool,
          show: bool | None) -> None:
    """Run SWEEP_FILE's grid x persona variants x seeds and write results.csv and summary.csv."""
    from simworld.cli import _print_path
    from simworld.errors import RunFailed
    from simworld.sweep import run_sweep

    if workers is not None and workers < 1:
        raise BadInput("--workers", f"must be at least 1, got {workers}")
    # Ctrl-C: SweepInterrupted (a RunInterrupted) exits 130 with the folder as the last line of stdout
    result = run_sweep(sweep_file, out, executor=executor, workers=workers, resume=resume, address=address,
                       progress=show)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.status.items()))
    skipped = f" ({len(result.skipped)} finished before)" if result.skipped else ""
    click.echo(f"sweep: {result.runs} runs: {counts}{skipped}; tables: {out}/results.csv, {out}/summary.csv",
               err=True)
    bad = sum(n for status, n in result.status.items() if status not in ("completed", "stopped"))
    if bad:
        raise RunFailed(f"{bad} run(s) did not complete; see the status and error columns of {out}/results.csv",
                        out)  # exit 1, the folder still the last line of stdout
    _print_path(out)
