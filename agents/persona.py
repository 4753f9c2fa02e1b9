"""Personas: who an agent is. Loaded from YAML, JSON or JSONL with errors that name the file and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simworld.errors import BadInput, describe_errors
from simworld.files import DataFile, FieldMap, load_models

R = TypeVar("R", bound=BaseModel)

_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class Demographics(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    age: int | None = Field(default=None, ge=0, le=130)
    gender: str | None = None
    occupation: str | None = None
    education: str | None = None
    location: str | None = None
    income: float | None = Field(default=None, ge=0, description="yearly income, any currency")


class BigFive(BaseModel):
    """OCEAN traits, each in [0, 1]; 0.5 is the population middle."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    openness: float = Field(default=0.5, ge=0.0, le=1.0)
    conscientiousness: float = Field(default=0.5, ge=0.0, le=1.0)
    extraversion: float = Field(default=0.5, ge=0.0, le=1.0)
    agreeableness: float = Field(default=0.5, ge=0.0, le=1.0)
    neuroticism: float = Field(default=0.5, ge=0.0, le=1.0)


class Persona(BaseModel):
    """A person an agent plays. ``roles`` holds typed, scenario-specific parts (``roles.bidder``).

    Fields beyond the known ones (a favourite colour, a hobby, a role phrased by a study) are kept
    (``persona.model_extra``), rendered into what model brains are told, and available to policies."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    id: str = Field(pattern=_ID_PATTERN, max_length=128)
    name: str = Field(min_length=1)
    demographics: Demographics = Field(default_factory=Demographics)
    big_five: BigFive = Field(default_factory=BigFive)
    values: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)
    speaking_style: str = ""
    goals: list[str] = Field(default_factory=list)
    description: str = Field(default="", description="free text, PersonaHub style")
    attention: int | None = Field(
        default=None, ge=1, description="most observations taken in at one simulated instant (None: all)"
    )
    roles: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def role(self, name: str, model: type[R]) -> R:
        """The typed role ``name`` (validated against ``model``; missing role -> the model's defaults)."""
        return model.model_validate(self.roles.get(name, {}))

    def card(self) -> str:
        """A short human-readable description (the viewer and prompts use it)."""
        d = self.demographics
        bits = [b for b in (f"{d.age}" if d.age is not None else None, d.gender, d.occupation, d.location) if b]
        head = f"{self.name} ({', '.join(bits)})" if bits else self.name
        b5 = self.big_five
        traits = (
            f"O{b5.openness:.2f} C{b5.conscientiousness:.2f} E{b5.extraversion:.2f} "
            f"A{b5.agreeableness:.2f} N{b5.neuroticism:.2f}"
        )
        return f"{head}; Big Five {traits}" + (f". {self.description}" if self.description else "")


def load_personas(
    path: str | Path | DataFile, roles: dict[str, type[BaseModel]] | None = None,
    field_map: FieldMap | None = None,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> list[Persona]:
    """Read personas, validating each and, for every name in ``roles``, its typed role.

    Every problem (up to a limit) names the file, the record and the field; they come back together in
    one :class:`BadInput`. ``field_map`` reads another tool's format: ``{"id": "name",
    "roles.bidder.budget": "budget"}`` takes ``id`` from the record's ``name`` and the bidder budget from
    its ``budget``. Fields simworld does not know are kept as extra persona fields. ``path`` may be a
    :class:`~simworld.files.DataFile` (a path and its field map, as a config gives them). ``prepare``
    turns each (mapped) record of another tool's shape into simworld's (a preset's conventions).
    """
    if isinstance(path, DataFile):
        field_map = {**path.map, **(field_map or {})}
        path = path.path
    path = Path(path)

    def check_roles(persona: Persona, who: str) -> None:
        problems = []
        for role_name, model in (roles or {}).items():
            try:
                persona.role(role_name, model)
            except ValidationError as err:
                problems += [BadInput(str(path), problem, f"{who}.roles.{role_name}.{field}")
                             for field, problem in describe_errors(err)]
        if problems:
            raise BadInput.collected(problems)

    return load_models(path, "personas", Persona, "persona", check_roles, field_map, prepare)


def save_personas(personas: list[Persona], path: str | Path) -> None:
    """Write personas as YAML, JSON or JSONL (by suffix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".yaml", ".yml"):
        raise BadInput(str(path), "unknown file type (use .yaml, .yml, .json or .jsonl)")
    records = [p.model_dump(mode="json", exclude_defaults=False) for p in personas]
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump({"personas": records}, sort_keys=False, allow_unicode=True), encoding="utf-8")
