"""Config resolution: scenario defaults <- YAML file <- ``--set key.path=value`` overrides."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simworld.errors import BadInput, describe_validation_error
from simworld.files import load_yaml, read_text

#: Keys a config file may hold besides the scenario's own fields.
RESERVED = ("scenario", "seed")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a YAML config file into a mapping; errors name the file and line."""
    path = Path(path)
    doc = load_yaml(read_text(path, "config file"), str(path), columns=True)
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
    if len(raw) > 1 << 20:
        raise BadInput("--set", f"the value of {key.strip()!r} is too long ({len(raw):,} characters)")
    try:
        value = load_yaml(raw, "--set") if raw.strip() else ""
    except BadInput as err:
        if "too long" in err.problem or "digits" in err.problem or "nested" in err.problem or "alias" in err.problem:
            raise BadInput("--set", f"{key.strip()}: {err.problem}") from None
        value = raw  # not YAML: take the text as it is
    return parts, value


_MISSING = object()


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model behind a field annotation (``Model`` or ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) not in (Union, UnionType):
        return None  # a container (dict[str, Model], list[Model]) is not itself a sub-model
    models = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else None


def _field_default(model: type[BaseModel] | None, key: str) -> Any:
    """The default of ``model.key`` as plain data (a dict for a sub-model), or ``_MISSING``."""
    if model is None or key not in model.model_fields:
        return _MISSING
    info = model.model_fields[key]
    if info.is_required():
        return _MISSING
    return _plain(info.get_default(call_default_factory=True))


def _plain(value: Any) -> Any:
    """Models (also inside dicts and lists) as plain dicts, so that a key path can walk into them."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


def set_path(doc: dict[str, Any], parts: Sequence[str], value: Any, model: type[BaseModel] | None = None) -> None:
    """Set ``doc[parts[0]][parts[1]]... = value``.

    With ``model``, a level missing from ``doc`` starts from that field's default, so that
    ``population.income.median=1000`` changes one number and keeps the rest of ``population.income``.
    """
    cur = doc
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            default = _field_default(model, p) if nxt is None else _MISSING
            nxt = default if isinstance(default, dict) else {}
            cur[p] = nxt
        model = _model_of(model.model_fields[p].annotation) if model is not None and p in model.model_fields else None
        cur = nxt
    cur[parts[-1]] = value


def fill_defaults(model: type[BaseModel], doc: dict[str, Any]) -> dict[str, Any]:
    """Merge a partial sub-model mapping over that field's default, recursively.

    A config that gives ``population: {income: {median: 1000}}`` keeps the default ``income.sigma`` and
    every other ``population`` field. Only sub-model fields merge; a plain mapping (weights, shares)
    given in full replaces its default.
    """
    out = dict(doc)
    for key, value in doc.items():
        if not isinstance(value, dict) or key not in model.model_fields:
            continue
        sub = _model_of(model.model_fields[key].annotation)
        if sub is None:
            continue
        default = _field_default(model, key)
        base = default if isinstance(default, dict) else {}
        out[key] = fill_defaults(sub, {**base, **value})
    return out


def _check_path(model: type[BaseModel], parts: Sequence[str], source: str, scenario: str) -> None:
    """Reject a key path that leaves the config's fields, naming the first unknown part."""
    cur: type[BaseModel] | None = model
    for i, part in enumerate(parts):
        if cur is None:
            return  # below a plain mapping or value: validation decides
        if part not in cur.model_fields:
            if cur.model_config.get("extra") == "allow":
                return
            known = ", ".join(sorted(cur.model_fields))
            where = "for scenario " + scenario if i == 0 else "in " + ".".join(parts[:i])
            raise BadInput(source, f"unknown field '{'.'.join(parts[: i + 1])}' {where} (known: {known})")
        cur = _model_of(cur.model_fields[part].annotation)


M = TypeVar("M", bound=BaseModel)


def build_config(
    model: type[M],
    scenario: str,
    file_values: Mapping[str, Any] | None = None,
    file_name: str | None = None,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> M:
    """Validate the merged config; the error names where the bad value came from."""
    doc: dict[str, Any] = copy.deepcopy({k: v for k, v in (file_values or {}).items() if k not in RESERVED})
    if isinstance(overrides, Mapping):
        items = [(k.split("."), v, f"{k}={v!r}") for k, v in overrides.items()]
    else:
        items = [(*parse_override(o), o) for o in (overrides or [])]
    applied: list[tuple[list[str], str]] = []
    for parts, value, text in items:
        _check_path(model, parts, f"--set {text}", scenario)
        set_path(doc, parts, value, model)
        applied.append((list(parts), f"--set {text}"))
    try:
        return model.model_validate(fill_defaults(model, doc))
    except ValidationError as err:
        field, problem = describe_validation_error(err)
        raise BadInput(_blame(field, applied, file_name), problem, field) from None


def _blame(field: str, applied: list[tuple[list[str], str]], file_name: str | None) -> str:
    """Where a bad value came from: the last ``--set`` on that path (above or below it), else the file."""
    loc = field.split(".")
    for parts, source in reversed(applied):
        n = min(len(parts), len(loc))
        if parts[:n] == loc[:n]:
            return source
    return file_name or "config"


def check_shares(value: str | dict[str, float], known: Sequence[str] | Any, what: str) -> str | dict[str, float]:
    """A config value naming one choice or shares of several (``{truthful: 0.5, profiler: 0.5}``):
    every name must be in ``known``, shares non-negative and not all zero. Raises ValueError."""
    names = [value] if isinstance(value, str) else list(value)
    for name in names:
        if name not in known:
            listed = ", ".join(known)
            raise ValueError(f"unknown {what} {name!r} (known: {listed})")
    if isinstance(value, dict) and (any(w < 0 for w in value.values()) or sum(value.values()) <= 0):
        raise ValueError(f"{what} shares must be non-negative and not all zero")
    return value
