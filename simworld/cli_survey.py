"""``simworld survey``: administer a questionnaire (Mini-IPIP, IPIP-50, or your own file) to personas.

::

    simworld survey --instrument mini-ipip --population 200 --seed 1 --out survey/
    simworld survey --instrument ipip-50 --personas people.yaml --set brain=llm --set model.base_url=... --out s/
    simworld survey --instrument my-bfi.yaml --poles 2 --out poles/      # the 32 Big Five pole profiles, twice

The folder gets ``survey.json``, ``respondents.jsonl``, ``answers.jsonl`` (every prompt and response),
``scores.json`` and ``items.csv`` (:mod:`simworld.analysis.psychometrics`); ``simworld report DIR`` draws it.
Bad input (an unknown or malformed instrument, a bad persona file, a folder that already holds files) is one
line, exit 2, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from simworld.errors import BadInput


def _fmt(x: Any) -> str:
    return "-" if x is None else (f"{x:.2f}" if isinstance(x, float) else str(x))


@click.command("survey", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--instrument", default="mini-ipip", show_default=True, metavar="NAME|FILE",
              help="mini-ipip, ipip-50, or an instrument file (YAML or JSON) in the same format.")
@click.option("--personas", "personas_file", type=click.Path(dir_okay=False), default=None,
              help="A persona file (YAML, JSON or JSONL).")
@click.option("--population", type=click.IntRange(1, 100_000), default=None, metavar="N",
              help="N personas from the population generator (seeded).")
@click.option("--poles", type=click.IntRange(1, 1000), default=None, metavar="K",
              help="The 32 Big Five pole profiles (0.1 / 0.9, PersonaLLM's design), K personas each.")
@click.option("--persona-prompt", default="descriptive", show_default=True, metavar="descriptive|numeric|none|FILE",
              help="How a model brain is told its persona.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="brain=rule|llm|local, model.*, noise, pole_margin.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True)
@click.option("--out", required=True, type=click.Path(), help="A new folder for the survey.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as one JSON object before the folder.")
def survey(instrument: str, personas_file: str | None, population: int | None, poles: int | None,
           persona_prompt: str, overrides: Sequence[str], seed: int, out: str, as_json: bool) -> None:
    """Administer a questionnaire to personas and score it (alpha, correlation with the intended traits, d)."""
    from simworld.agents.persona import BigFive, Persona, load_personas
    from simworld.agents.persona_text import make_renderer
    from simworld.analysis.psychometrics import Respondent, SurveyConfig, administer, check_out_dir, load_instrument
    from simworld.config import build_config

    given = [flag for flag, v in (("--personas", personas_file), ("--population", population), ("--poles", poles))
             if v is not None]
    if len(given) != 1:
        raise BadInput("--personas", "give exactly one of --personas FILE, --population N, --poles K"
                       + (f" (got {', '.join(given)})" if given else ""))
    check_out_dir(out)
    inst = load_instrument(instrument)
    cfg = build_config(SurveyConfig, "survey", overrides=list(overrides))
    renderer = make_renderer(persona_prompt, source="--persona-prompt")
    if personas_file is not None:
        people = load_personas(personas_file)
    elif population is not None:
        import numpy as np

        from simworld.agents.population import PopulationSpec, generate_population

        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,))))
        people = generate_population(PopulationSpec(), population, rng, id_prefix="person")
    else:
        from simworld.analysis.psychometrics import poles as pole_profiles

        assert poles is not None
        people = [Persona(id=f"pole{i:02d}-{k}", name=f"Respondent {i * poles + k + 1}", big_five=BigFive(**profile))
                  for i, profile in enumerate(pole_profiles()) for k in range(poles)]
    respondents = [Respondent.from_persona(p.model_dump(mode="json"), renderer.render(p)) for p in people]
    result = administer(inst, respondents, cfg, seed=seed, out=out)
    scores = result.scores
    if as_json:
        click.echo(json.dumps({k: v for k, v in scores.items() if k != "respondents"}, sort_keys=True))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{inst.title or inst.name}: {scores['n_respondents']} respondents, "
                            f"{scores['failures']} failed answers", show_header=True, header_style="bold")
        for col in ("trait", "items", "mean", "sd", "alpha", "r (intended)", "d (poles)", "n high/low"):
            table.add_column(col)
        for trait, row in scores["traits"].items():
            table.add_row(trait, str(row["items"]), _fmt(row["mean"]), _fmt(row["sd"]), _fmt(row["alpha"]),
                          _fmt(row["r_intended"]), _fmt(row["d_poles"]), f"{row['n_high']}/{row['n_low']}")
        import sys

        Console(stderr=True, width=None if sys.stderr.isatty() else 120).print(table)
    click.echo(out)
