"""What a model is told about the persona it plays: a :class:`PersonaRenderer` turns a persona into text.

The default (``descriptive``) describes the Big Five in words at graded levels, after PersonaLLM's
bipolar adjective markers (``extremely``, ``very``, ``a bit``, neither-nor, and the same towards the other
pole), never as numbers: an agent asked a personality questionnaire should answer from a described
character, not read scores back from its prompt. ``numeric`` gives the scores (for comparison), ``none``
only the name, and a template file (Python ``str.format`` fields such as ``{name}``,
``{demographics.age}``, ``{traits}``, ``{extra.favourite_colour}``) gives the study full control.

Extra persona fields (anything a persona file carries beyond the known fields: a favourite colour, a
hobby, a paraphrased role) are rendered too, so an experiment on irrelevant attributes or paraphrases only
has to vary persona fields.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from simworld.agents.persona import Persona

from simworld.errors import BadInput
from simworld.files import read_text

#: Bipolar adjective pairs per trait (low pole, high pole), our own wording of the marker idea.
TRAIT_MARKERS: dict[str, tuple[tuple[str, str], ...]] = {
    "openness": (("conventional", "imaginative"), ("incurious", "curious"), ("practical", "artistic")),
    "conscientiousness": (("disorganised", "organised"), ("careless", "thorough"), ("impulsive", "self-disciplined")),
    "extraversion": (("reserved", "outgoing"), ("quiet", "talkative"), ("timid", "assertive")),
    "agreeableness": (("critical", "warm"), ("suspicious", "trusting"), ("stubborn", "cooperative")),
    "neuroticism": (("calm", "anxious"), ("even-tempered", "moody"), ("self-assured", "easily worried")),
}

#: Score thresholds of the graded levels (below each, the phrase beside it).
LEVELS: tuple[tuple[float, str], ...] = (
    (0.15, "extremely {low}"), (0.30, "very {low}"), (0.45, "a bit {low}"), (0.55, "neither {low} nor {high}"),
    (0.70, "a bit {high}"), (0.85, "very {high}"),
)
TOP = "extremely {high}"

PERSONA_PROMPTS = ("descriptive", "numeric", "none")


def graded(score: float, low: str, high: str) -> str:
    """``score`` in [0, 1] as a graded phrase between the two poles."""
    for bound, phrase in LEVELS:
        if score < bound:
            return phrase.format(low=low, high=high)
    return TOP.format(low=low, high=high)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_traits(persona: Persona) -> str:
    """The Big Five in words, one clause per trait, no numbers."""
    clauses = []
    for trait, pairs in TRAIT_MARKERS.items():
        score = float(getattr(persona.big_five, trait))
        clauses.append(_join([graded(score, low, high) for low, high in pairs]))
    return "; ".join(clauses)


def _demographics(persona: Persona) -> str:
    d = persona.demographics
    bits = []
    if d.age is not None:
        bits.append(f"{d.age} years old")
    if d.gender:
        bits.append(d.gender)
    if d.occupation:
        bits.append(f"working as {'an' if d.occupation[:1].lower() in 'aeiou' else 'a'} {d.occupation}")
    if d.education:
        bits.append(f"with {d.education} education")
    if d.location:
        bits.append(f"living in {d.location}")
    if d.income is not None:
        bits.append(f"earning about {d.income:,.0f} a year")
    return ", ".join(bits)


def _extra_lines(persona: Persona, omit: frozenset[str] = frozenset()) -> list[str]:
    extra = persona.model_extra or {}
    return [f"{key.replace('_', ' ')}: {value}" for key, value in sorted(extra.items()) if key not in omit]


class PersonaRenderer(Protocol):
    """Turns a persona into the text a model brain is told."""

    name: str

    def render(self, persona: Persona) -> str: ...


class DescriptiveRenderer:
    """Name, demographics, the Big Five in graded words, values, interests, style, goals, description,
    extra fields."""

    name = "descriptive"

    def __init__(self, omit: Iterable[str] = ()) -> None:
        self.omit = frozenset(omit)  # extra fields never shown (a source file's run settings, say)

    def render(self, persona: Persona) -> str:
        lines = [f"You are {persona.name}."]
        demo = _demographics(persona)
        if demo:
            lines.append(f"You are {demo}.")
        lines.append(f"In character you are {describe_traits(persona)}.")
        if persona.values:
            lines.append("You value " + _join(list(persona.values)) + ".")
        if persona.interests:
            lines.append("You are interested in " + _join(list(persona.interests)) + ".")
        if persona.speaking_style:
            lines.append(f"You speak in this way: {persona.speaking_style}")
        if persona.goals:
            lines.append("Your goals: " + "; ".join(persona.goals) + ".")
        if persona.description:
            lines.append(persona.description)
        extra = _extra_lines(persona, self.omit)
        if extra:
            lines.append("About you: " + "; ".join(extra) + ".")
        return "\n".join(lines)


class NumericRenderer:
    """The persona card with Big Five scores as numbers (what earlier releases sent; for comparisons)."""

    name = "numeric"

    def __init__(self, omit: Iterable[str] = ()) -> None:
        self.omit = frozenset(omit)

    def render(self, persona: Persona) -> str:
        lines = [persona.card()]
        if persona.values:
            lines.append("Values: " + ", ".join(persona.values))
        if persona.goals:
            lines.append("Goals: " + "; ".join(persona.goals))
        if persona.speaking_style:
            lines.append("Speaking style: " + persona.speaking_style)
        lines.extend(_extra_lines(persona, self.omit))
        return "\n".join(lines)


class NameOnlyRenderer:
    """Only the name: the 'no persona' arm of a study."""

    name = "none"

    def render(self, persona: Persona) -> str:
        return f"You are {persona.name}."


class _Namespace(SimpleNamespace):
    """Attribute access for template fields; a missing attribute is a clear error."""


def _fields(persona: Persona) -> dict[str, Any]:
    dump = persona.model_dump(mode="json", exclude={"roles"})
    extra = dump.pop("model_extra", None) or dict(persona.model_extra or {})
    for key in extra:
        dump.pop(key, None)
    values: dict[str, Any] = {
        k: (_join(list(v)) if isinstance(v, list) and v and all(isinstance(x, str) for x in v) else v)
        for k, v in dump.items()
    }
    values["demographics"] = _Namespace(**dump["demographics"])
    values["big_five"] = _Namespace(**dump["big_five"])
    values["traits"] = describe_traits(persona)
    values["extra"] = _Namespace(**extra)
    return values


class TemplateRenderer:
    """A study's own wording: a ``str.format`` template over the persona's fields (see the module doc)."""

    name = "template"

    def __init__(self, template: str, source: str = "template") -> None:
        self.template = template
        self.source = source
        try:
            self.fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as err:
            raise BadInput(source, f"not a valid template ({err})") from None
        for field in self.fields:
            if not field or field.split(".")[0].split("[")[0] not in _fields(Persona(id="x", name="X")):
                raise BadInput(source, f"unknown field {{{field}}} (use name, demographics.age, big_five.openness, "
                                       "traits, values, interests, goals, speaking_style, description, extra.NAME)")

    def render(self, persona: Persona) -> str:
        try:
            return self.template.format_map(_fields(persona))
        except (AttributeError, KeyError, IndexError, ValueError) as err:
            raise BadInput(self.source, f"cannot render persona {persona.id!r}: {err}") from None


def make_renderer(spec: str, base_dir: Path | None = None, source: str = "persona_prompt",
                  omit: Iterable[str] = ()) -> PersonaRenderer:
    """``descriptive`` | ``numeric`` | ``none`` | a template file (relative to ``base_dir``). ``omit``: extra
    persona fields the built-in renderings leave out (a template shows exactly the fields it names)."""
    if spec == "descriptive":
        return DescriptiveRenderer(omit)
    if spec == "numeric":
        return NumericRenderer(omit)
    if spec == "none":
        return NameOnlyRenderer()
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return TemplateRenderer(read_text(path, "persona prompt template"), str(path))


def render_all(renderer: PersonaRenderer, personas: Mapping[str, Persona]) -> dict[str, str]:
    return {pid: renderer.render(p) for pid, p in personas.items()}
