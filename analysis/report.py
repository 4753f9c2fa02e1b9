"""Recompute a run's metrics from its log, with the scenario that wrote it."""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError

from simworld import registry
from simworld.errors import BadInput, from_validation
from simworld.runlog import load_run


def analyze_run(path: str | os.PathLike[str]) -> dict[str, Any]:
    """{"scenario", "status", "metrics", "event_counts", "matches_metrics_json"} for a run directory."""
    log = load_run(path)
    name = log.manifest.get("scenario")
    ref = log.manifest.get("scenario_ref") or name
    try:
        cls = registry.resolve(ref)
    except BadInput:
        raise BadInput(str(log.path), f"cannot find the scenario that wrote this run ({ref!r})", "scenario") from None
    try:
        scenario = cls(cls.Config.model_validate(log.config))
    except ValidationError as err:
        raise from_validation(str(log.path / "manifest.json"), err, "config") from None
    counts: dict[str, int] = {}
    for event in log.events():  # validates every line first: a damaged log is one clear error
        counts[event.kind] = counts.get(event.kind, 0) + 1
    metrics = scenario.metrics(log)
    stored = log.metrics
    return {
        "scenario": name,
        "status": log.status,
        "truncated": log.truncated,
        "metrics": metrics,
        "event_counts": dict(sorted(counts.items())),
        "matches_metrics_json": None if stored is None else _same(stored, metrics),
    }


def _same(a: Any, b: Any) -> bool:
    import orjson

    return orjson.loads(orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)) == orjson.loads(
        orjson.dumps(b, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    )
