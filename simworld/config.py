"""Config resolution: scenario defaults <- YAML file <- ``--set key.path=value`` overrides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simworld.errors import BadInput, describe_validation_error

#: Keys a config file may hold besides the scenario's own fields.
RESERVED = ("scenario", "seed")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a YAML config file into a mapping; errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise BadInput(str(path), "no such file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise BadInput(str(path), f"malformed YAML: {problem}", where) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BadInput(str(path), f"expected a mapping of config keys, got {type(doc).__name__}")
    return doc


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"model.temperature=0.2"`` -> (["model", "temperature"], 0.2); the value is parsed as YAML."""
    if "=" not in text:
        raise BadInput("--set", f"expected key.path=value, got {text!r}")
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise BadInput("--set", f"bad key path {key!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def set_path(doc: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    cur = doc
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[p] = nxt
        cur = nxt
    cur[parts[-1]] = value


def build_config(
    model: type[BaseModel],
    scenario: str,
    file_values: Mapping[str, Any] | None = None,
    file_name: str | None = None,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> BaseModel:
    """Validate the merged config; the error names where the bad value came from."""
    doc: dict[str, Any] = {k: v for k, v in (file_values or {}).items() if k not in RESERVED}
    origin: dict[str, str] = {k: file_name or "config" for k in doc}
    if isinstance(overrides, Mapping):
        items = [(k.split("."), v, f"{k}={v!r}") for k, v in overrides.items()]
    else:
        items = [(*parse_override(o), o) for o in (overrides or [])]
    for parts, value, text in items:
        top = parts[0]
        if top not in model.model_fields:
            known = ", ".join(sorted(model.model_fields))
            raise BadInput(f"--set {text}", f"unknown field '{top}' for scenario {scenario} (known: {known})")
        set_path(doc, parts, value)
        origin[top] = f"--set {text}"
    try:
        return model.model_validate(doc)
    except ValidationError as err:
        field, problem = describe_validation_error(err)
        top = field.split(".")[0]
        source = origin.get(top) or file_name or "config"
        raise BadInput(source, problem, field) from None
