"""Persona variants: one change applied to every persona a run builds (a config's ``persona`` block).

A persona study varies who the agents are while the scenario stays the same (Principled Personas, "Helpful
assistant or fruitful facilitator"): an occupation (``set: {occupation: mathematician}``), an irrelevant
attribute (``set: {favourite_colour: blue}``), a control paraphrase (``set: {role: "a helpful
assistant"}``), or no persona at all (``empty: true``). ``simworld sweep`` fills this block from its grid
and its ``personas`` variants; any config can set it by hand::

    persona:
      empty: false                      # true: only id, name and roles stay (the no-persona baseline)
      set:
        occupation: math teacher        # a Demographics field by its name, or demographics.occupation
        big_five.openness: 0.9          # a trait (or just openness)
        favourite_colour: blue          # a name Persona does not know: an extra attribute
        description: null               # null resets a field to its default (an extra attribute is removed)

What a variant changes: the persona each agent plays, hence ``agent.joined`` (the full persona) and what a
model brain is told (extra attributes included, see :mod:`simworld.agents.persona_text`). Rule brains do
not read text: for them only fields their policy reads matter (the Big Five and roles for the built-in
scenarios; an occupation, an extra attribute or an empty persona change nothing but the log, except that
an empty persona resets the Big Five to the middle). A scenario reads its role data (budgets, ...) from the
persona file before the agents are built, so roles are never varied here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from simworld.agents.persona import BigFive, Demographics, Persona

from simworld.errors import describe_errors

#: Persona fields a variant may set by their own name (``id`` and ``roles`` stay as the file has them).
_TOP = ("name", "values", "interests", "speaking_style", "goals", "description", "attention")
_NESTED: dict[str, type[BaseModel]] = {"demographics": Demographics, "big_five": BigFive}


def field_path(key: str) -> tuple[str, ...]:
    """Where ``key`` lands in a persona: ``occupation`` -> (demographics, occupation), ``openness`` ->
    (big_five, openness), a known field -> itself, any other plain name -> an extra attribute (one part).
    Raises ValueError for ``id``, ``roles`` and dotted paths that name no field."""
    parts = tuple(key.split("."))
    if parts[0] in ("id", "roles"):
        raise ValueError(f"{key!r}: a variant cannot change {parts[0]} (they come from the persona file)")
    if len(parts) == 1:
        for group, model in _NESTED.items():
            if key in model.model_fields:
                return (group, key)
        if key in _NESTED:
            raise ValueError(f"{key!r}: set its fields one by one ({key}.FIELD)")
        if not key.isidentifier():
            raise ValueError(f"{key!r} is not a field name (letters, digits and _)")
        return parts
    if len(parts) == 2 and parts[0] in _NESTED and parts[1] in _NESTED[parts[0]].model_fields:
        return parts
    raise ValueError(f"{key!r} names no persona field (a Demographics or Big Five field, {', '.join(_TOP)}, "
                     "or a plain name for an extra attribute)")


class PersonaVariant(BaseModel):
    """A change applied to every persona of a run; the default changes nothing."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    empty: bool = Field(default=False, description="the no-persona baseline: only id, name and roles stay")
    set: dict[str, Any] = Field(
        default_factory=dict,
        description="persona field -> value (occupation, big_five.openness, description, ...; a name Persona "
                    "does not know adds an extra attribute; null resets the field)",
    )

    @field_validator("set")
    @classmethod
    def _fields_fit(cls, v: dict[str, Any]) -> dict[str, Any]:
        paths = {key: field_path(key) for key in v}
        if len(set(paths.values())) != len(paths):
            raise ValueError("the same persona field twice (e.g. occupation and demographics.occupation)")
        try:  # the values must fit their fields: try them on a stand-in persona
            _apply(Persona(id="check", name="check"), False, paths, v)
        except ValidationError as err:
            field, problem = describe_errors(err)[0]
            raise ValueError(f"{field}: {problem}") from None
        return v

    @property
    def active(self) -> bool:
        return self.empty or bool(self.set)

    def apply(self, persona: Persona) -> Persona:
        """``persona`` with the variant applied (the same object when the variant changes nothing)."""
        if not self.active:
            return persona
        return _apply(persona, self.empty, {key: field_path(key) for key in self.set}, self.set)


def _apply(persona: Persona, empty: bool, paths: dict[str, tuple[str, ...]], values: dict[str, Any]) -> Persona:
    if empty:
        doc: dict[str, Any] = {"id": persona.id, "name": persona.name, "roles": persona.roles}
    else:
        doc = persona.model_dump(mode="python")
    for key, path in paths.items():
        value = values[key]
        if len(path) == 2:
            group = dict(doc.get(path[0]) or {})
            if value is None:
                group.pop(path[1], None)
            else:
                group[path[1]] = value
            doc[path[0]] = group
        elif value is None:
            if path[0] == "name":
                raise ValueError("'name' cannot be cleared (every persona has one)")
            doc.pop(path[0], None)
        else:
            doc[path[0]] = value
    return Persona.model_validate(doc)
