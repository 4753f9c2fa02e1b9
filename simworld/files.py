"""Reading lists of records (personas, items, ...) from YAML, JSON or JSONL, with located errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from simworld.errors import BadInput, describe_errors


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


#: Input files (configs, personas, items, networks, conversations) larger than this are refused.
MAX_INPUT_BYTES = 256 << 20
#: Deepest nesting of lists and mappings accepted in an input file.
MAX_DEPTH = 100


def read_text(path: str | Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A text input file as a string, or one BadInput: missing, a folder, unreadable, too large, or not
    UTF-8 (with the line of the first bad byte)."""
    path = Path(path)
    try:
        if not path.exists():
            raise BadInput(str(path), "no such file")
        if path.is_dir():
            raise BadInput(str(path), f"is a folder, not a {what}")
        size = path.stat().st_size
        if size > max_bytes:
            raise BadInput(str(path), f"too large for a {what} ({size:,} bytes; at most {max_bytes:,})")
        raw = path.read_bytes()
    except OSError as err:
        raise BadInput(str(path), f"cannot be read ({err.strerror or err})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise BadInput(str(path), f"not UTF-8 text (byte 0x{raw[err.start]:02x})", f"line {line}") from None


#: Most nodes that aliases (``*name``) may add to a YAML document beyond those written out.
MAX_ALIAS_NODES = 100_000


class _BoundedLoader(yaml.SafeLoader):
    """YAML with bounded alias expansion and nesting: a 600-byte file of nested aliases expands to
    gigabytes (an "alias bomb"), and 5,000 nested brackets exhaust the stack. Ordinary reuse of an
    anchor (what ``yaml.dump`` writes for shared objects) stays allowed."""

    _depth = 0
    _nodes = 0  # nodes the document expands to, aliases counted at the size of what they repeat
    _aliased = 0  # nodes added through aliases
    _sizes: dict[str, int]

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            size = self._anchor_sizes().get(event.anchor, 1)
            self._aliased += size
            self._nodes += size
            if self._aliased > max(MAX_ALIAS_NODES, self._nodes - self._aliased):
                raise yaml.composer.ComposerError(
                    None, None, f"aliases (*{event.anchor}) expand the document beyond {MAX_ALIAS_NODES:,} "
                    "extra nodes (an alias bomb?)", event.start_mark)
            return super().compose_node(parent, index)
        before = self._nodes
        node = super().compose_node(parent, index)
        self._nodes += 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._anchor_sizes()[anchor] = self._nodes - before
        return node

    def _anchor_sizes(self) -> dict[str, int]:
        if not hasattr(self, "_sizes"):
            self._sizes = {}
        return self._sizes

    def _deeper(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep",
                self.peek_event().start_mark)  # type: ignore[no-untyped-call]

    def compose_sequence_node(self, anchor: Any) -> Any:
        self._deeper()
        try:
            return super().compose_sequence_node(anchor)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        self._deeper()
        try:
            return super().compose_mapping_node(anchor)
        finally:
            self._depth -= 1


def load_yaml(text: str, source: str, columns: bool = False) -> Any:
    """Parse YAML safely (bounded alias expansion and nesting, integers of sane length); one BadInput on error."""
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader subclass
    except yaml.YAMLError as err:
        raise yaml_error(source, err, columns=columns) from None
    except (ValueError, RecursionError) as err:  # e.g. an integer of 5,000 digits
        raise BadInput(source, f"malformed YAML: {str(err).splitlines()[0].split(';')[0][:120]}") from None


def load_json(text: str, source: str, where: str | None = None) -> Any:
    """Parse JSON; one BadInput on error (naming the line), also for absurd nesting or number sizes."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        line = where or f"line {err.lineno}"
        raise BadInput(source, f"not valid JSON ({err.msg})", line) from None
    except (ValueError, RecursionError) as err:
        raise BadInput(source, f"not valid JSON ({str(err).splitlines()[0][:120]})", where) from None


def read_records(path: Path, list_key: str) -> list[tuple[str, Any]]:
    """(label, record) pairs; ``label`` says where each record sits (``line 3``, ``personas[2]``).

    A YAML/JSON file may hold a list, a mapping with a ``list_key`` list, or a single mapping.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".yaml", ".yml"):
        raise BadInput(str(path), "unknown file type (use .yaml, .yml, .json or .jsonl)")
    text = read_text(path, f"{list_key} file")
    if suffix == ".jsonl":
        out = []
        for i, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                out.append((f"line {i}", load_json(line, str(path), f"line {i}")))
        return out
    doc = load_json(text, str(path)) if suffix == ".json" else load_yaml(text, str(path))
    if isinstance(doc, dict) and list_key in doc:
        doc = doc[list_key]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise BadInput(str(path), f"expected a list of {list_key} (or a mapping with a '{list_key}' list)")
    return [(f"{list_key}[{i}]", rec) for i, rec in enumerate(doc)]


M = TypeVar("M", bound=BaseModel)


#: Problems of one input file reported at once (the rest are counted).
MAX_REPORTED = 20

#: ``{"roles.bidder.budget": "budget"}``: where each field of a record comes from in another tool's format.
FieldMap = Mapping[str, str]


def _get_path(record: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = record
    for part in dotted.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return _ABSENT
        cur = cur[part]
    return cur


_ABSENT = object()


class DataFile(BaseModel):
    """An input file named in a config: a path, or ``{file: PATH, map: {field: their_field}}`` to read
    another tool's field names (see :func:`remap`). Written back as the plain path when there is no map."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    path: Path = Field(alias="file", description="the file (YAML, JSON or JSONL), relative to the config file")
    map: dict[str, str] = Field(default_factory=dict, description="simworld field (dotted) -> the file's field")

    @model_validator(mode="before")
    @classmethod
    def _bare_path(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, (str, Path)) else value

    @model_serializer(mode="wrap")
    def _as_path_when_plain(self, handler: Any) -> Any:
        return str(self.path) if not self.map else {"file": str(self.path), "map": dict(self.map)}

    def __str__(self) -> str:
        return str(self.path)

    def __fspath__(self) -> str:
        return str(self.path)

    def under(self, base_dir: Path) -> DataFile:
        """The same file with a relative path resolved against ``base_dir``."""
        path = self.path.expanduser()
        return self if path.is_absolute() else self.model_copy(update={"path": base_dir / path})


def remap(record: dict[str, Any], field_map: FieldMap) -> dict[str, Any]:
    """``record`` with each mapped field moved to where simworld expects it (dotted paths both sides);
    unmapped fields stay as they are (a model that allows extra fields keeps them)."""
    out = dict(record)
    for source in set(field_map.values()):
        if "." not in source:
            out.pop(source, None)
    for target, source in field_map.items():
        value = _get_path(record, source)
        if value is _ABSENT:
            continue
        cur = out
        parts = target.split(".")
        for part in parts[:-1]:
            nxt = cur.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
            else:
                nxt = dict(nxt)
            cur[part] = nxt
            cur = nxt
        cur[parts[-1]] = value
    return out


def load_models(
    path: Path, list_key: str, model: type[M], noun: str,
    check: Callable[[M, str], None] | None = None,
    field_map: FieldMap | None = None,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> list[M]:
    """Records validated as ``model``, ids unique. Every problem (up to :data:`MAX_REPORTED`) names the
    file, the record (with its id) and the field; they come back together in one :class:`BadInput`.
    ``check(instance, where)`` may validate more (raising BadInput) for each record; ``field_map`` reads
    another tool's field names (:func:`remap`); ``prepare(record)`` then turns a record of another shape
    into this one (a preset's conventions), before the record is named and validated."""
    path = Path(path)
    out: list[M] = []
    seen: set[str] = set()
    problems: list[BadInput] = []
    found = 0

    def problem(bad: BadInput) -> None:
        nonlocal found
        found += 1
        if len(problems) < MAX_REPORTED:
            problems.append(bad)

    for label, rec in read_records(path, list_key):
        if not isinstance(rec, dict):
            problem(BadInput(str(path), f"{'an' if noun[0] in 'aeiou' else 'a'} {noun} must be a mapping", label))
            continue
        if field_map:
            rec = remap(rec, field_map)
        if prepare is not None:
            rec = prepare(rec)
        who = f"{label} (id {rec['id']!r})" if isinstance(rec.get("id"), str) else label
        try:
            item = model.model_validate(rec)
        except ValidationError as err:
            for field, message in describe_errors(err):
                problem(BadInput(str(path), message, f"{who}.{field}"))
            continue
        if check is not None:
            try:
                check(item, who)
            except BadInput as bad:
                for each in (bad, *bad.more):
                    problem(each)
                continue
        item_id = getattr(item, "id", None)
        if item_id is not None:
            if item_id in seen:
                problem(BadInput(str(path), f"duplicate {noun} id {item_id!r}", label))
                continue
            seen.add(item_id)
        out.append(item)
    if problems:
        raise BadInput.collected(problems, found - len(problems))
    if not out:
        raise BadInput(str(path), f"the file holds no {list_key}")
    return out
