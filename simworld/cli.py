"""The ``simworld`` command line: list, run, validate, analyze.

Exit codes: 0 done, 1 the run failed (log kept), 2 bad input (one line, no traceback), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from simworld.errors import BadInput, RunFailed

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130

_RUN_ID = re.compile(r"[A-Za-z0-9_.-]+")


def _printable(text: str) -> str:
    """Text that can be written to any terminal: undecodable bytes from the command line (surrogate
    escapes) shown as escapes instead of crashing the write."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _err(msg: str) -> None:
    click.echo(f"simworld: error: {_printable(msg)}", err=True)


def _print_path(path: object) -> None:
    """A path as the last line of stdout, byte for byte as the file system has it."""
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stream (a test's capture): escape what cannot be encoded
        click.echo(_printable(str(path)))
        return
    out.write(os.fsencode(str(path)) + b"\n")
    out.flush()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simworld")
def cli() -> None:
    """Persona-driven agents in discrete-event scenarios."""


@cli.command("list")
def list_cmd() -> None:
    """Scenarios and their one-line descriptions."""
    from rich.console import Console
    from rich.table import Table

    from simworld import registry

    table = Table(show_header=True, header_style="bold")
    table.add_column("scenario")
    table.add_column("description")
    for name, cls in registry.available().items():
        table.add_row(name, cls.summary())
    Console().print(table)


@cli.command("run")
@click.argument("target")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Random seed (default: the config file's, else 0).")
@click.option("--out", type=click.Path(file_okay=False), default="runs", show_default=True)
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="Override a config value.")
@click.option("--run-id", default=None, help="Name of the run folder (default: scenario-seed-time).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary; print only the run directory.")
def run_cmd(target: str, seed: int | None, out: str, overrides: Sequence[str], run_id: str | None, quiet: bool) -> None:
    """Run SCENARIO (a name, a .py file or a .yaml config)."""
    from simworld.runner import execute, prepare

    if run_id is not None and (not _RUN_ID.fullmatch(run_id) or run_id in (".", "..")):
        raise BadInput("--run-id", f"must be a plain folder name (letters, digits, '.', '_', '-'), got {run_id!r}")
    prepared = prepare(target, seed=seed, overrides=list(overrides))
    show = not quiet and sys.stderr.isatty()
    if show:
        from simworld.progress import RunProgress

        with RunProgress(prepared.scenario) as bar:
            result = execute(prepared, out=out, run_id=run_id, progress=bar.update)
    else:
        result = execute(prepared, out=out, run_id=run_id)
    if not quiet:
        from simworld.progress import print_summary

        print_summary(result.metrics, result.path)
    if result.status == "stopped":
        click.echo(f"simworld: run stopped early: {result.reason}", err=True)
    for warning in result.warnings:
        click.echo(f"simworld: warning: {warning}", err=True)
    _print_path(result.path)


@cli.command("validate")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE")
def validate_cmd(config_file: str, overrides: Sequence[str]) -> None:
    """Check a config file (and the files it names) without running it."""
    from simworld.runner import prepare

    prepared = prepare(config_file, overrides=list(overrides))
    name = prepared.scenario.name or type(prepared.scenario).__name__
    click.echo(f"ok: {config_file} (scenario {name}, seed {prepared.seed})")


@cli.command("schema")
@click.argument("kind", required=False)
@click.option("--scenario", "scenario", default=None, metavar="NAME|FILE.py",
              help="Also list the kinds of this scenario (a name or your own .py file).")
def schema_cmd(kind: str | None, scenario: str | None) -> None:
    """The JSON schema of an event kind's payload, or every kind with what it records."""
    from simworld import registry
    from simworld.events import EventTypes

    types = EventTypes()
    owners: dict[str, str] = {}
    classes = list(registry.available().values())
    if scenario is not None:
        classes.append(registry.resolve(scenario))
    for cls in classes:
        types.add(cls.events)
        owners.update({m.kind: cls.name for m in cls.events})
    if kind is None:
        for name, line in types.describe().items():
            click.echo(f"{name:28} {owners.get(name, 'core'):12} {line}")
        return
    if kind not in types:
        raise BadInput("KIND", f"unknown event kind {kind!r} (simworld schema lists them)")
    click.echo(json.dumps(types.schema(kind), indent=2, sort_keys=True))


@cli.command("analyze")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
@click.option("--scenario", "scenario", default=None, metavar="FILE.py",
              help="The scenario file a run of your own scenario came from (never taken from the run folder).")
def analyze_cmd(run_dir: str, as_json: bool, scenario: str | None) -> None:
    """Recompute a run's metrics from its log alone."""
    from simworld.analysis import analyze_run

    report = analyze_run(run_dir, scenario)
    if report.get("note"):
        click.echo(f"note: {report['note']}", err=True)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True, default=str))
        return
    from simworld.progress import print_summary

    print_summary(report["metrics"], Path(run_dir), header=f"{report['scenario']} ({report['status']})", stdout=True)
    if report.get("matches_metrics_json") is False:
        click.echo("note: recomputed metrics differ from metrics.json", err=True)


@cli.command("fidelity")
@click.argument("movielens_dir", type=click.Path())
@click.option("--ratios", default="1,2,3,9", show_default=True, help="Unrated items per held-out item (m), comma-separated.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True)
@click.option("--holdout", type=float, default=0.2, show_default=True, help="Latest share of each user's ratings held out.")
@click.option("--max-users", type=click.IntRange(1), default=None, help="Only the first N users.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Who decides: brain=llm, model.base_url=..., model.max_calls=N (budget), model.cache_path=... (brain settings).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def fidelity_cmd(movielens_dir: str, ratios: str, seed: int, holdout: float, max_users: int | None,
                 overrides: Sequence[str], as_json: bool) -> None:
    """User-simulation fidelity on MOVIELENS_DIR (Agent4Rec's protocol) beside baselines on the same split.

    MOVIELENS_DIR: a MovieLens-100k or -1M folder, a MovieLens "latest" CSV folder (ratings.csv,
    movies.csv) or a plain user,item,rating,timestamp CSV. Rule brains unless --set brain=llm."""
    from simworld.scenarios.recommender.fidelity import fidelity, fidelity_brains, format_table

    brains = fidelity_brains(list(overrides)) if overrides else None
    report = fidelity(movielens_dir, ratios=ratios, seed=seed, holdout=holdout, max_users=max_users, brains=brains)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
    else:
        click.echo(format_table(report))


@cli.command("replay")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it local).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8765, or a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option("--export", "export_file", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained FILE.html of a small run instead of serving.")
@click.option("--panel", type=click.Path(dir_okay=False, exists=True), default=None,
              help="A scenario panel script (FILE.js) to use instead of the run's own.")
def replay_cmd(
    run_dir: str, host: str, port: int | None, no_browser: bool, export_file: str | None, panel: str | None
) -> None:
    """Replay RUN_DIR in a web page: timeline, events, agents and the scenario's panel."""
    from simworld.viewer.cli import replay

    replay(run_dir, host=host, port=port, open_browser=not no_browser, export=export_file, panel=panel)


def _add_tom() -> None:
    from simworld.cli_tom import tom

    cli.add_command(tom)


_add_tom()


def _add_survey() -> None:
    from simworld.cli_survey import survey

    cli.add_command(survey)


_add_survey()


def _add_report() -> None:
    from simworld.cli_report import report

    cli.add_command(report)


_add_report()


def _add_sweep() -> None:
    from simworld.cli_sweep import sweep

    cli.add_command(sweep)


_add_sweep()


def main(argv: Sequence[str] | None = None) -> int:
    from simworld.runner import RunInterrupted

    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="simworld", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as err:  # bare ``simworld``: show the help, not an error
        click.echo(err.ctx.get_help() if err.ctx is not None else err.format_message())
        return 0
    except click.exceptions.Abort:
        _err("aborted")
        return EXIT_INTERRUPTED
    except click.UsageError as err:
        _err(err.format_message().replace("\n", " "))
        return EXIT_BAD_INPUT
    except click.ClickException as err:
        _err(err.format_message())
        return err.exit_code
    except BadInput as err:
        for line in err.lines():
            _err(line)
        return EXIT_BAD_INPUT
    except RunFailed as err:
        _err(str(err))
        if err.path is not None:
            _print_path(err.path)  # the run directory stays the last line of stdout
        return EXIT_FAILED
    except RunInterrupted as err:
        _err(str(err))
        _print_path(err.path)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    return 0


