"""Errors that the CLI turns into one line and an exit code."""

from __future__ import annotations

from pydantic import ValidationError


class BadInput(Exception):
    """Input the user can fix: a config, persona file, flag, log. The CLI exits 2 with one line.

    ``source`` names the file (or flag), ``field`` the place inside it, ``problem`` what is wrong.
    """

    def __init__(self, source: str, problem: str, field: str | None = None) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.problem}"


class RunFailed(Exception):
    """The run itself failed; the manifest says ``failed`` and the log is kept (exit 1)."""


def describe_validation_error(err: ValidationError) -> tuple[str, str]:
    """(field path, problem) for the first error of a pydantic ValidationError, in plain words."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
    msg = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        msg = "unknown field"
    elif "input" in first and first.get("type") != "missing":
        shown = repr(first["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg} (got {shown})"
    extra = len(err.errors()) - 1
    if extra:
        msg += f" (and {extra} more error{'s' if extra > 1 else ''})"
    return loc, msg


def from_validation(source: str, err: ValidationError, prefix: str = "") -> BadInput:
    field, problem = describe_validation_error(err)
    if prefix:
        field = f"{prefix}.{field}" if field != "(top level)" else prefix
    return BadInput(source, problem, field)
