"""Reading lists of records (personas, items, ...) from YAML, JSON or JSONL, with located errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from simworld.errors import BadInput, describe_validation_error


def yaml_error(source: str, err: yaml.YAMLError, columns: bool = False) -> BadInput:
    """A one-line BadInput for a YAML syntax error, naming the line (and what was left open, when the
    error only shows at the end of the file)."""
    mark = getattr(err, "problem_mark", None)
    where = None
    if mark is not None:
        where = f"line {mark.line + 1}" + (f", column {mark.column + 1}" if columns else "")
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context, cmark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and cmark is not None and (mark is None or cmark.line != mark.line):
        problem += f" ({context} at line {cmark.line + 1})"
    return BadInput(source, f"malformed YAML: {problem}", where)


def read_records(path: Path, list_key: str) -> list[tuple[str, Any]]:
    """(label, record) pairs; ``label`` says where each record sits (``line 3``, ``personas[2]``).

    A YAML/JSON file may hold a list, a mapping with a ``list_key`` list, or a single mapping.
    """
    if not path.exists():
        raise BadInput(str(path), "no such file")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        out = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append((f"line {i}", json.loads(line)))
            except json.JSONDecodeError as err:
                raise BadInput(str(path), f"not valid JSON ({err.msg})", f"line {i}") from None
        return out
    try:
        if suffix == ".json":
            doc = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            doc = yaml.safe_load(text)
        else:
            raise BadInput(str(path), "unknown file type (use .yaml, .yml, .json or .jsonl)")
    except json.JSONDecodeError as err:
        raise BadInput(str(path), f"not valid JSON ({err.msg})", f"line {err.lineno}") from None
    except yaml.YAMLError as err:
        raise yaml_error(str(path), err) from None
    if isinstance(doc, dict) and list_key in doc:
        doc = doc[list_key]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise BadInput(str(path), f"expected a list of {list_key} (or a mapping with a '{list_key}' list)")
    return [(f"{list_key}[{i}]", rec) for i, rec in enumerate(doc)]


M = TypeVar("M", bound=BaseModel)


def load_models(
    path: Path, list_key: str, model: type[M], noun: str,
    check: Callable[[M, str], None] | None = None,
) -> list[M]:
    """Records validated as ``model``, ids unique. Errors name the file, the record (with its id) and the
    field. ``check(instance, where)`` may validate more (raising BadInput) for each record."""
    out: list[M] = []
    seen: set[str] = set()
    for label, rec in read_records(path, list_key):
        if not isinstance(rec, dict):
            raise BadInput(str(path), f"{'an' if noun[0] in 'aeiou' else 'a'} {noun} must be a mapping", label)
        who = f"{label} (id {rec['id']!r})" if isinstance(rec.get("id"), str) else label
        try:
            item = model.model_validate(rec)
        except ValidationError as err:
            field, problem = describe_validation_error(err)
            raise BadInput(str(path), problem, f"{who}.{field}") from None
        if check is not None:
            check(item, who)
        item_id = getattr(item, "id", None)
        if item_id is not None:
            if item_id in seen:
                raise BadInput(str(path), f"duplicate {noun} id {item_id!r}", label)
            seen.add(item_id)
        out.append(item)
    if not out:
        raise BadInput(str(path), f"the file holds no {list_key}")
    return out
