"""``simworld tom``: theory of mind from a run log, interviews, and benchmark files.

::

    simworld tom RUN_DIR [--orders 1,2] [--json]          probe counts and the agents' logged-belief accuracy
    simworld tom RUN_DIR --chain anne,sally --fact apple.container     one belief, and reality
    simworld tom RUN_DIR --ask --out answers.jsonl [--set brain=llm ...]   interview the agents
    simworld tom generate --n 1000 --orders 1,2,3,4 --out bench.jsonl   a benchmark of tom_rooms stories

Bad input (an unknown fact or agent, an order above 4, a log without witnesses) is one line, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from simworld.errors import BadInput


class _RunDirFirst(click.Group):
    """A group whose first argument, when it is not a subcommand, is a run folder (``show`` is implied)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


def _orders(text: str, flag: str = "--orders") -> tuple[int, ...]:
    try:
        orders = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise BadInput(flag, f"expected comma-separated orders such as 1,2, got {text!r}") from None
    if not orders:
        raise BadInput(flag, "names no order")
    for o in orders:
        if not 0 <= o <= 4:
            raise BadInput(flag, f"order {o} is outside 0..4 (0: reality and memory; 1-4: beliefs)")
    return orders


def _patterns(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def _fmt(x: Any) -> str:
    return "-" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


@click.group("tom", cls=_RunDirFirst, context_settings={"help_option_names": ["-h", "--help"]})
def tom() -> None:
    """Theory of mind: simworld tom RUN_DIR [--orders 1,2] [--json] [--ask --out FILE] | simworld tom generate."""


@tom.command("show")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--orders", default="1,2", show_default=True, help="Orders of the probes (0: reality and memory).")
@click.option("--fact", "facts", default=None, metavar="PATTERN[,PATTERN]", help="Only these facts (glob patterns).")
@click.option("--chain", default=None, metavar="A[,B,...]", help="With --fact FACT: print this chain's belief.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the sampling.")
@click.option("--ask", is_flag=True, help="Interview the agents (the belief probes) and score their answers.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="With --ask: the answers file (JSONL).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Interview config: brain, model.*, memories.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def show_cmd(run_dir: str, orders: str, facts: str | None, chain: str | None, seed: int, ask: bool, out: str | None,
             overrides: Sequence[str], as_json: bool) -> None:
    """Probe counts and the agents' belief accuracy for RUN_DIR (or one belief, or an interview)."""
    from simworld.analysis.tom import Knowledge, belief_scores, counts, probes, score_answers
    from simworld.runlog import load_run

    wanted = _orders(orders)
    patterns = _patterns(facts)
    if ask and out is None:
        raise BadInput("--out", "--ask needs --out FILE for the answers")
    log = load_run(run_dir)
    k = Knowledge(log)
    if patterns is not None:
        import fnmatch

        for p in patterns:
            if not any(fnmatch.fnmatchcase(f, p) for f in k.facts):
                k.reality(p)  # raises: unknown fact, naming the ones the log states
    if chain is not None:
        if patterns is None or len(patterns) != 1:
            raise BadInput("--chain", "needs exactly one --fact")
        members = [c.strip() for c in chain.split(",") if c.strip()]
        one = {"chain": members, "fact": patterns[0], "belief": k.belief(members, patterns[0]),
               "reality": k.reality(patterns[0])}
        click.echo(json.dumps(one, default=str) if as_json else
                   f"{' > '.join(k.name(m) for m in members)}: {one['belief']} (reality: {one['reality']})")
        return
    found = probes(k, orders=wanted, seed=seed, facts=patterns, balanced=False)
    report: dict[str, Any] = {"run": str(log.path), "facts": len(k.facts), "agents": len(k.agents),
                              "probes": counts(found), "beliefs": belief_scores(log, knowledge=k, seed=seed)}
    if ask:
        from simworld.agents.interview import InterviewConfig, interview
        from simworld.config import build_config

        cfg = build_config(InterviewConfig, "interview", overrides=list(overrides))
        asked = probes(k, orders=tuple(o for o in wanted if o >= 1) or (1,), kinds=("belief",), seed=seed,
                       facts=patterns, balanced=False)
        assert out is not None
        answers = interview(log, asked, out, cfg)
        report["answers"] = {"file": out, **score_answers(answers, k.personas, k.policies, seed=seed)}
    if as_json:
        click.echo(json.dumps(report, sort_keys=True, default=str))
        return
    _print(report, k)


def _print(report: dict[str, Any], k: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{report['run']}: {report['agents']} agents, {report['facts']} facts")
    table = Table(title="probes", show_header=True, header_style="bold")
    for col in ("kind:order", "n", "ToM-required"):
        table.add_column(col)
    for key, row in report["probes"].items():
        table.add_row(key, str(row["n"]), str(row["tom_required"]))
    console.print(table)
    beliefs = report["beliefs"]
    table = Table(title=f"logged beliefs ({beliefs['n']} scored, {beliefs['unscored']} without a known truth)",
                  show_header=True, header_style="bold")
    for col in ("agent", "strategy", "n", "accuracy", "brier", "mae"):
        table.add_column(col)
    for agent, row in beliefs["by_agent"].items():
        table.add_row(k.name(agent), str(row["strategy"]), str(row["n"]), _fmt(row["accuracy"]), _fmt(row["brier"]),
                      _fmt(row["mae"]))
    console.print(table)
    answers = report.get("answers")
    if answers:
        table = Table(title=f"answers ({answers['file']})", show_header=True, header_style="bold")
        for col in ("questions", "n", "accuracy", "95% CI"):
            table.add_column(col)
        rows = {"all": answers["accuracy"], **answers["by_kind"], **answers["tom_required"],
                "All* (facts)": answers["all_star"]}
        for key, cell in rows.items():
            ci = cell.get("ci95")
            table.add_row(key, str(cell["n"]), _fmt(cell["accuracy"]), f"{ci[0]:.3f}..{ci[1]:.3f}" if ci else "-")
        console.print(table)


@tom.command("generate")
@click.option("--n", "n", type=click.IntRange(min=1), required=True, help="How many stories.")
@click.option("--orders", default="1,2,3,4", show_default=True, help="Question orders (0: reality and memory).")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The benchmark file (JSONL).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="First story's seed.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="tom_rooms config (agents, rooms, ...).")
@click.option("--no-balance", is_flag=True, help="Keep every question (default: as many ToM-required as not).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
def generate_cmd(n: int, orders: str, out: str, seed: int, overrides: Sequence[str], no_balance: bool,
                 as_json: bool) -> None:
    """Write a benchmark of N tom_rooms stories with labelled questions (no simworld needed to use it)."""
    from simworld.config import build_config, parse_override
    from simworld.scenarios.tom_rooms import TomRoomsConfig
    from simworld.scenarios.tom_rooms.bench import generate

    build_config(TomRoomsConfig, "tom_rooms", overrides=list(overrides))  # one clear error before any story
    parsed = {".".join(path): value for path, value in (parse_override(o) for o in overrides)}
    summary = generate(out, n, _orders(orders), seed=seed, overrides=parsed, balanced=not no_balance)
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
        return
    click.echo(f"{summary['questions']} questions about {summary['stories']} stories in {out}")
    for key, count in summary["by_kind"].items():
        click.echo(f"  {key:18} {count}")
