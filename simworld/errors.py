"""Errors that the CLI turns into one line and an exit code."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class BadInput(Exception):
    """Input the user can fix: a config, persona file, flag, log. The CLI exits 2 with one line per
    problem.

    ``source`` names the file (or flag), ``field`` the place inside it, ``problem`` what is wrong. A file
    with several problems (a persona file, say) raises one BadInput for the first with the others in
    ``more`` (up to a limit; ``omitted`` counts the rest), so the user can fix them all at once.
    """

    def __init__(self, source: str, problem: str, field: str | None = None,
                 more: list[BadInput] | None = None, omitted: int = 0) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        self.more = list(more or [])
        self.omitted = omitted
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.problem}"

    def lines(self) -> list[str]:
        """Every problem, one line each (the first is :meth:`line`)."""
        out = [self.line(), *(m.line() for m in self.more)]
        if self.omitted:
            out.append(f"{self.source}: ... and {self.omitted} more problem{'s' if self.omitted > 1 else ''}")
        return out

    @classmethod
    def collected(cls, problems: list[BadInput], omitted: int = 0) -> BadInput:
        """One BadInput carrying ``problems`` (at least one)."""
        first = problems[0]
        return cls(first.source, first.problem, first.field, problems[1:], omitted)


class RunFailed(Exception):
    """The run itself failed; the manifest says ``failed`` and the log is kept (exit 1)."""

    def __init__(self, message: str, path: object = None) -> None:
        super().__init__(message)
        self.path = path


_BUILTIN_TAGS = {"str", "int", "float", "bool", "bytes", "list", "dict", "tuple", "set", "frozenset", "none"}


def _plain_tag(part: object) -> bool:
    """A location part that can only be a union member's type (``str``, ``dict[str,float]``)."""
    return isinstance(part, str) and (part in _BUILTIN_TAGS or "[" in part or part.startswith("function-"))


def _maybe_tag(part: object) -> bool:
    """A part that may be a union member's type: also a model's class name (``Normal``)."""
    return _plain_tag(part) or (isinstance(part, str) and part[:1].isupper())


def _describe_first(errors: list[dict[str, Any]]) -> tuple[str, str, list[dict[str, Any]]]:
    """(field path, problem, the errors it stands for) for the first error of ``errors``.

    When the value fits none of a union's types, pydantic reports one error per type, with the type in
    the location (``strategy.str``, ``strategy.dict[str,float].truthful``). Those are folded into one:
    the most specific (deepest), or "a valid string or a valid dictionary" when every type rejects the
    value as a whole; the type names are left out of the field path.
    """
    first = errors[0]
    raw = tuple(first.get("loc", ()))
    used = [first]
    tag_at = next((i for i, p in enumerate(raw) if _maybe_tag(p)), None)
    if tag_at is not None:
        base = raw[:tag_at]
        alts = [e for e in errors
                if tuple(e["loc"])[:tag_at] == base and len(e["loc"]) > tag_at and _maybe_tag(e["loc"][tag_at])]
        if len(alts) < 2 and not _plain_tag(raw[tag_at]):
            tag_at = None  # a capitalised key (a dict key, a name), not a union
        else:
            used = alts
            if len(alts) > 1 and all(len(e["loc"]) == tag_at + 1 for e in alts):
                words = [alts[0]["msg"].split(",")[0]]
                words += [e["msg"].split(",")[0].removeprefix("Input should be ") for e in alts[1:]]
                first = {**alts[0], "msg": " or ".join(dict.fromkeys(words))}
            else:
                first = max(alts, key=lambda e: len(e["loc"]))
    loc_parts = list(first.get("loc", ()))
    if tag_at is not None:
        del loc_parts[tag_at]
    loc = ".".join(str(p) for p in loc_parts if not _plain_tag(p)) or "(top level)"
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        msg = "unknown field"
    elif "input" in first and first.get("type") != "missing":
        shown = repr(first["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg} (got {shown})"
    return loc, msg, used


def describe_errors(err: ValidationError) -> list[tuple[str, str]]:
    """(field path, problem) for every error of a ValidationError, union alternatives folded."""
    rest: list[dict[str, Any]] = [dict(e) for e in err.errors()]
    out = []
    while rest:
        loc, msg, used = _describe_first(rest)
        out.append((loc, msg))
        ids = {id(e) for e in used}
        rest = [e for e in rest if id(e) not in ids]
    return out


def describe_validation_error(err: ValidationError) -> tuple[str, str]:
    """(field path, problem) for the first error of a pydantic ValidationError, in plain words; a count
    of the others is appended ("(and 2 more errors)")."""
    described = describe_errors(err)
    loc, msg = described[0]
    extra = len(described) - 1
    if extra:
        msg += f" (and {extra} more error{'s' if extra > 1 else ''})"
    return loc, msg


def from_validation(source: str, err: ValidationError, prefix: str = "") -> BadInput:
    field, problem = describe_validation_error(err)
    if prefix:
        field = f"{prefix}.{field}" if field != "(top level)" else prefix
    return BadInput(source, problem, field)
