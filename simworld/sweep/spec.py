"""A sweep file, read and checked: the scenario, its base config, the grid, persona variants, seeds, the
control arm and the sweep-wide model budget; and the plan it gives (every arm, every run)."""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simworld.config import load_config_file
from simworld.errors import BadInput, describe_validation_error
from simworld.files import load_yaml, read_text

#: The results column of the named persona variants (the ``personas`` block).
PERSONA_COLUMN = "persona"
#: The words that clear a persona field in a grid (``persona.occupation: [none, mathematician]``).
NONE_WORDS = (None, "none")
MAX_RUNS = 1_000_000


class Budget(BaseModel):
    """One model budget for the whole sweep, split over its runs (each run gets ``model.max_calls`` and
    ``model.max_total_tokens`` of at most its share, so the runs together never pass it, whatever order
    they run in and on whichever executor)."""

    model_config = ConfigDict(extra="forbid")

    max_calls: int | None = Field(default=None, ge=1)
    max_total_tokens: int | None = Field(default=None, ge=1)


class SweepSpec(BaseModel):
    """What a sweep file holds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scenario: str | None = Field(default=None, description="a scenario name or a .py file; default: the config's")
    config: str | dict[str, Any] | None = Field(default=None, description="a config file, or base values inline")
    set: dict[str, Any] = Field(default_factory=dict, description="base overrides, key.path -> value")
    grid: dict[str, list[Any]] | None = Field(default=None, description="config key (or persona.FIELD) -> values")
    personas: dict[str, dict[str, Any]] | None = Field(
        default=None, description="named persona variants ({empty: true} or {set: {field: value}}), one column")
    seeds: int | list[int] = Field(default=1, description="a count (0..n-1) or a list")
    control: dict[str, Any] | None = Field(
        default=None, description="swept key -> value: the arm(s) every other arm is compared with")
    budget: Budget | None = None

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: int | list[int]) -> int | list[int]:
        seeds = list(range(v)) if isinstance(v, int) else v
        if not seeds:
            raise ValueError("give at least one seed")
        if any(isinstance(s, bool) or s < 0 or s > 2**63 - 1 for s in seeds):
            raise ValueError("seeds are integers from 0 to 2**63-1")
        if len(set(seeds)) != len(seeds):
            raise ValueError("the same seed twice")
        return v

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


@dataclass(frozen=True)
class Arm:
    """One cell of the grid: its label (``arm03``), its swept values (by column) and its config overrides."""

    label: str
    values: dict[str, Any]
    overrides: dict[str, Any]
    is_control: bool = False
    control: str | None = None  # the label of the arm this one is compared with


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, in plain data (it crosses to a worker process or a Ray node)."""

    run_id: str
    arm: str
    seed: int
    scenario: str | None
    config_file: str | None
    overrides: dict[str, Any]
    out: str  # the sweep's runs/ folder
    base_dir: str = "."  # the sweep file's folder: relative paths in its values are read from there


@dataclass
class Plan:
    source: str
    spec: SweepSpec
    scenario: str | None
    config_file: str | None
    keys: list[str]
    arms: list[Arm]
    seeds: list[int]
    resolved: dict[str, Any] = field(default_factory=dict)  # what DIR/sweep.yaml holds
    base_dir: Path = field(default_factory=Path.cwd)

    def tasks(self, out: Path) -> list[RunTask]:
        per_run = _budget_shares(self.spec.budget, len(self.arms) * len(self.seeds), self.source)
        tasks = []
        for arm in self.arms:
            for seed in self.seeds:
                overrides = copy.deepcopy(arm.overrides)
                share = next(per_run)
                overrides.update({f"model.{k}": v for k, v in share.items()})
                if share:  # each run's share is a hard cap, so the runs together never pass the sweep's budget
                    overrides["model.budget_strict"] = True
                tasks.append(RunTask(f"{arm.label}-s{seed}", arm.label, seed, self.scenario, self.config_file,
                                     overrides, str(out), str(self.base_dir)))
        return tasks


def _budget_shares(budget: Budget | None, n_runs: int, source: str) -> Iterator[dict[str, int]]:
    """Per-run shares of the sweep budget (largest first; they add up to the budget)."""
    limits = {k: v for k, v in (budget.model_dump() if budget else {}).items() if v is not None}
    for key, total in limits.items():
        if total < n_runs:
            raise BadInput(source, f"{total} is less than one per run ({n_runs} runs)", f"budget.{key}")
    for i in range(n_runs):
        yield {k: total // n_runs + (1 if i < total % n_runs else 0) for k, total in limits.items()}


def column_text(value: Any) -> str:
    """A swept value as results.csv shows it: text as it is, null as ``none``, anything else as JSON."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def load_sweep(path: str | os.PathLike[str]) -> Plan:
    """Read a sweep file and check everything a run would (every arm's config); writes nothing."""
    path = Path(path)
    source = str(path)
    doc = load_yaml(read_text(path, "sweep file"), source, columns=True)
    if not isinstance(doc, dict):
        raise BadInput(source, f"expected a mapping (scenario, grid, seeds, ...), got {type(doc).__name__}")
    try:
        spec = SweepSpec.model_validate(doc)
    except ValidationError as err:
        where, problem = describe_validation_error(err)
        raise BadInput(source, problem, where) from None
    return plan(spec, source, path.resolve().parent)


def plan(spec: SweepSpec, source: str, base_dir: Path) -> Plan:
    """Every arm of ``spec`` (grid values in file order, persona variants last), checked against the
    scenario's config."""
    config_file: str | None = None
    base: dict[str, Any] = {}
    if isinstance(spec.config, str):
        cfg_path = Path(spec.config).expanduser()
        cfg_path = cfg_path if cfg_path.is_absolute() else base_dir / cfg_path
        if not cfg_path.is_file():
            raise BadInput(source, f"no such config file: {cfg_path}", "config")
        config_file = str(cfg_path)
        load_config_file(cfg_path)  # its own errors name it
    elif isinstance(spec.config, dict):
        base = {k: v for k, v in spec.config.items() if k not in ("scenario", "seed")}
    scenario = spec.scenario
    if scenario is None and isinstance(spec.config, dict) and isinstance(spec.config.get("scenario"), str):
        scenario = spec.config["scenario"]
    if scenario is None and config_file is None:
        raise BadInput(source, "missing field (which scenario to sweep)", "scenario")
    if scenario is not None and scenario.split(":")[0].endswith(".py") and not Path(scenario).is_absolute():
        scenario = str(base_dir / scenario)

    grid = spec.grid
    if grid is not None and not grid:
        raise BadInput(source, "the grid is empty (give at least one key with values)", "grid")
    if grid is None and not spec.personas:
        raise BadInput(source, "missing field (a grid of config keys, or persona variants, to sweep)", "grid")
    for key, options in (grid or {}).items():
        if not options:
            raise BadInput(source, "no values (give at least one)", f"grid.{key}")
        if key == PERSONA_COLUMN or key.startswith("seed"):
            raise BadInput(source, f"{key!r} cannot be a grid key (persona variants go under personas:, seeds "
                                   "under seeds:)", f"grid.{key}")
        texts = [column_text(v) for v in options]
        if len(set(texts)) != len(texts):
            raise BadInput(source, "the same value twice", f"grid.{key}")
    if spec.personas is not None and not spec.personas:
        raise BadInput(source, "no persona variants (give at least one, or leave personas out)", "personas")
    for name in spec.personas or {}:
        if not name or not name.replace("_", "").replace("-", "").replace(" ", "").isalnum():
            raise BadInput(source, f"{name!r}: name persona variants with letters, digits, -, _ and spaces",
                           "personas")

    axes: list[tuple[str, list[Any]]] = list((grid or {}).items())
    if spec.personas:
        axes.append((PERSONA_COLUMN, list(spec.personas)))
    keys = [k for k, _ in axes]
    combos = list(itertools.product(*(vals for _, vals in axes)))
    n_runs = len(combos) * len(spec.seed_list)
    if n_runs > MAX_RUNS:
        raise BadInput(source, f"{n_runs:,} runs is more than {MAX_RUNS:,}", "grid")
    width = max(2, len(str(len(combos) - 1)))
    control = _control_values(spec, keys, source)

    arms: list[Arm] = []
    for i, combo in enumerate(combos):
        values = dict(zip(keys, combo))
        overrides = _overrides(spec, base, values)
        arms.append(Arm(f"arm{i:0{width}d}", values, overrides))
    arms = _mark_controls(arms, keys, control, source)
    result = Plan(source, spec, scenario, config_file, keys, arms, spec.seed_list, base_dir=base_dir)
    _check_arms(result)
    result.resolved = {
        "scenario": scenario, "config": config_file if config_file is not None else (base or None),
        **spec.model_dump(mode="json", exclude={"scenario", "config"}, exclude_none=True),
        "arms": {a.label: {k: column_text(v) for k, v in a.values.items()} for a in arms},
    }
    return result


def _overrides(spec: SweepSpec, base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """An arm's config overrides: the inline base, then ``set``, then its grid values and persona variant."""
    out: dict[str, Any] = copy.deepcopy(dict(base))
    out.update(copy.deepcopy(spec.set))
    persona: dict[str, Any] = {}
    persona_set: dict[str, Any] = {}
    for key, value in values.items():
        if key == PERSONA_COLUMN:
            variant = copy.deepcopy((spec.personas or {})[value])
            persona.update({k: v for k, v in variant.items() if k != "set"})
            persona_set.update(variant.get("set") or {})
        elif key.startswith(PERSONA_COLUMN + "."):
            persona_set[key[len(PERSONA_COLUMN) + 1:]] = None if value in NONE_WORDS else value
        else:
            out[key] = copy.deepcopy(value)
    if persona or persona_set:
        out[PERSONA_COLUMN] = {**persona, "set": persona_set}
    return out


def _control_values(spec: SweepSpec, keys: list[str], source: str) -> dict[str, str] | None:
    if spec.control is None:
        return None
    if not spec.control:
        raise BadInput(source, "empty (name the control's value of at least one swept key)", "control")
    out = {}
    for key, value in spec.control.items():
        if key not in keys:
            raise BadInput(source, f"{key!r} is not a swept key (swept: {', '.join(keys)})", f"control.{key}")
        out[key] = column_text(None if key.startswith(PERSONA_COLUMN + ".") and value in NONE_WORDS else value)
    return out


def _mark_controls(arms: list[Arm], keys: list[str], control: dict[str, str] | None, source: str) -> list[Arm]:
    """Each arm's control: the arm with the control's values for the control keys and this arm's values
    for the other keys (so ``control: {persona: none}`` compares within each format)."""
    if control is None:
        return arms
    by_values = {tuple(column_text(a.values[k]) for k in keys): a.label for a in arms}
    out = []
    for arm in arms:
        texts = {k: column_text(arm.values[k]) for k in keys}
        if all(texts[k] == v for k, v in control.items()):
            out.append(Arm(arm.label, arm.values, arm.overrides, True, None))
            continue
        target = tuple(control.get(k, texts[k]) for k in keys)
        if target not in by_values:
            shown = ", ".join(f"{k}={v}" for k, v in control.items())
            raise BadInput(source, f"no arm has {shown} (the values must be among the grid's)", "control")
        out.append(Arm(arm.label, arm.values, arm.overrides, False, by_values[target]))
    return out


def _check_arms(p: Plan) -> None:
    """Every arm's config through the scenario's own checks (files read, nothing written); an error names
    the sweep file and the grid key (or block) it came from."""
    from simworld.runner import prepare

    budget = {f"model.{k}": 1 for k, v in (p.spec.budget.model_dump() if p.spec.budget else {}).items() if v}
    for arm in p.arms:
        try:
            with in_folder(p.base_dir):
                prepare(p.scenario or p.config_file or "", seed=p.seeds[0],
                        overrides={**copy.deepcopy(arm.overrides), **budget},
                        config_file=p.config_file if p.scenario is not None else None)
        except BadInput as err:
            raise _blame(err, p, arm) from None


def _blame(err: BadInput, p: Plan, arm: Arm) -> BadInput:
    """Say which block of the sweep file gave the bad value (the runner names it ``--set key=value``)."""
    if not err.source.startswith("--set "):
        return err
    key = err.source[len("--set "):].split("=", 1)[0]
    values = ", ".join(f"{k}={column_text(v)}" for k, v in arm.values.items())
    if key == PERSONA_COLUMN:
        where = "personas" if PERSONA_COLUMN in arm.values else "grid.persona.*"
    elif key in (p.spec.grid or {}):
        where = f"grid.{key}"
    elif key in p.spec.set:
        where = f"set.{key}"
    elif key.startswith("model.max_"):
        where = "budget"
    else:
        where = f"config.{key}"
    return BadInput(p.source, f"{err.problem} (arm {arm.label}: {values})" if values else err.problem, where)


@contextlib.contextmanager
def in_folder(path: str | Path) -> Iterator[None]:
    """Resolve relative paths (persona and data files named in the sweep's values) from ``path``, as a
    config file's are read from its folder; the same on every executor, whatever its working folder."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
