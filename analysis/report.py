"""Recompute a run's metrics from its log, with the scenario that wrote it.

A run folder is data: its manifest names the scenario, and only a built-in or installed scenario is
used by that name. A run of your own scenario (a ``.py`` file) is recomputed only when you pass that file
(``scenario=`` here, ``--scenario FILE`` on the command line); nothing the folder names is ever imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from simworld import registry
from simworld.errors import BadInput, from_validation
from simworld.runlog import RunLog, load_run
from simworld.scenario import Scenario


def scenario_of(log: RunLog, scenario: str | os.PathLike[str] | type[Scenario] | None = None) -> type[Scenario] | None:
    """The scenario class to recompute ``log`` with: the one the user passed, else the built-in or
    installed scenario the manifest names; None when the run came from a file the user did not pass."""
    if scenario is not None:
        return registry.resolve(scenario if isinstance(scenario, type) else str(scenario))
    name = log.manifest.get("scenario")
    ref = log.manifest.get("scenario_ref", name)
    if isinstance(name, str) and ref == name and name in registry.names():
        return registry.resolve(name)
    return None


def analyze_run(
    path: str | os.PathLike[str], scenario: str | os.PathLike[str] | type[Scenario] | None = None
) -> dict[str, Any]:
    """{"scenario", "status", "metrics", "recomputed", "event_counts", "matches_metrics_json", "note"}.

    ``metrics`` are recomputed from the log when the scenario is known (built in, installed, or passed);
    otherwise they are the stored ``metrics.json`` and ``recomputed`` is false."""
    log = load_run(path)
    name = log.manifest.get("scenario")
    cls = scenario_of(log, scenario)
    counts: dict[str, int] = {}
    for event in log.events():  # validates every line first: a damaged log is one clear error
        counts[event.kind] = counts.get(event.kind, 0) + 1
    stored = log.metrics
    note = None
    if cls is None:
        ref = log.manifest.get("scenario_ref")
        note = (f"this run came from your own scenario ({ref}); its metrics were not recomputed "
                "(pass --scenario FILE.py to recompute them)")
        metrics = stored or {}
    else:
        try:
            instance = cls(cls.Config.model_validate(log.config))
        except ValidationError as err:
            raise from_validation(str(Path(log.path) / "manifest.json"), err, "config") from None
        try:
            metrics = instance.metrics(log)
        except BadInput:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise BadInput(str(Path(log.path) / "events.jsonl"),
                           f"the log does not hold what the {cls.name} metrics need ({type(err).__name__}: {err})"
                           ) from None
    return {
        "scenario": name,
        "status": log.status,
        "truncated": log.truncated,
        "metrics": metrics,
        "recomputed": cls is not None,
        "event_counts": dict(sorted(counts.items())),
        "matches_metrics_json": None if stored is None or cls is None else _same(stored, metrics),
        "note": note,
    }


def _same(a: Any, b: Any) -> bool:
    opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    return bool(orjson.loads(orjson.dumps(a, option=opts)) == orjson.loads(orjson.dumps(b, option=opts)))
