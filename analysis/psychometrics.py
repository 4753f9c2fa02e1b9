"""Questionnaires: administer a personality instrument to persona agents and score it (PersonaLLM's protocol).

An instrument is a data file (YAML or JSON): its items, each with its text, the trait it measures and its
key (``+``, or ``-`` for a reverse-keyed item), the Likert scale with its labels, the instructions, and a
source note. Two public-domain IPIP instruments ship with simworld (``mini-ipip``: 20 items, Donnellan et
al. 2006; ``ipip-50``: Goldberg's 50 Big-Five markers); any other (BFI-44, your own) loads from a file in
the same format (:func:`load_instrument`).

Respondents are plain data (:class:`Respondent`: an id, the Big Five the persona is meant to have, and the
persona text a model is told), so this module needs nothing of the agents package; the ``simworld survey``
command builds them from a persona file or the population generator.

:func:`administer` asks every item of every respondent:

- ``brain: rule`` answers from the persona's intended traits by the response model below (seeded: the same
  seed gives the same answers, whatever the order or number of respondents);
- ``brain: llm`` (or ``local``) asks a model through the gateway, one item per call, the persona text as the
  system message; the answer is constrained to the scale (a JSON schema the gateway sends as structured
  output), validated, given one repair round, and recorded as a failure when still invalid (failures are
  counted and left out of the scores). Calls are cached like any other: a rerun is exact and free.

and scores the answers: per respondent and trait the mean keyed score (a reverse-keyed answer ``x`` counts
as ``min + max - x``), per trait Cronbach's alpha, the correlation (Pearson, with a Fisher-z 95% interval)
between the score and the intended trait, and Cohen's d between the respondents at the trait's two poles
(intended trait ``>= 0.5 + pole_margin`` against ``<= 0.5 - pole_margin``), PersonaLLM's measure (it reports
d of 4 to 6 for GPT-4).

Rule response model. For respondent ``r`` with intended trait ``theta`` in [0, 1] and an item keyed ``k`` on
a scale ``lo..hi``: the respondent means ``lo + (hi - lo) * theta`` (``1 - theta`` for a reverse-keyed item);
to that it adds its acquiescence ``a_r`` (a yea-saying bias drawn once per respondent, N(0, noise / 4),
the same sign for every item whatever its key) and a fresh error ``e ~ N(0, sigma_r)`` per item, and the sum
is rounded and clipped to the scale. ``sigma_r = noise * (1.5 - conscientiousness_r)``: less conscientious
respondents answer less consistently (``noise`` is the error of a respondent of middling conscientiousness,
in scale points, 0.6 by default). Each respondent draws from its own stream
``survey:<instrument>:<respondent>`` of the seed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simworld.errors import BadInput, from_validation
from simworld.files import load_yaml, read_text
from simworld.models.spec import ModelSpec
from simworld.models.types import ChatRequest, ModelError
from simworld.rng import Streams, stable_hash
from simworld.stats import bootstrap_ci, mean, sd

#: The Big Five as simworld's personas name them.
BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
#: The instruments that ship with simworld (name -> file next to this module).
INSTRUMENT_DIR = Path(__file__).parent / "instruments"
BUILTIN = {"mini-ipip": "mini-ipip.yaml", "ipip-50": "ipip-50.yaml"}
#: Files a survey folder holds.
SURVEY, ANSWERS, SCORES, ITEMS, RESPONDENTS = "survey.json", "answers.jsonl", "scores.json", "items.csv", "respondents.jsonl"
SURVEY_FILES = (SURVEY, ANSWERS, SCORES, ITEMS, RESPONDENTS)


# -- instruments ------------------------------------------------------------------------------------------
class Scale(BaseModel):
    """A Likert scale ``min..max`` with a label per point (labels may be left out)."""

    model_config = ConfigDict(extra="forbid")

    min: int = 1
    max: int = 5
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be above min ({self.min})")
        if self.max - self.min > 100:
            raise ValueError("a scale of more than 101 points")
        outside = sorted(k for k in self.labels if not self.min <= k <= self.max)
        if outside:
            raise ValueError(f"labels for points outside {self.min}..{self.max}: {outside}")
        return self

    @property
    def points(self) -> list[int]:
        return list(range(self.min, self.max + 1))


class Item(BaseModel):
    """One statement, the trait it measures, and its key (``-``: agreeing means less of the trait)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)
    trait: str = Field(min_length=1, max_length=64)
    key: Literal["+", "-"]

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, v: object) -> object:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class Instrument(BaseModel):
    """A questionnaire as data (see the module docstring and ``analysis/instruments/*.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    source: str = Field(default="", description="where the items come from")
    license: str = ""
    instructions: str = ""
    stem: str = Field(default="", description="put before every item's text ('I ' makes 'Am ...' read 'I am ...')")
    scale: Scale = Field(default_factory=Scale)
    items: list[Item] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _unique(cls, v: list[Item]) -> list[Item]:
        seen: set[str] = set()
        for i, item in enumerate(v):
            if item.id in seen:
                raise ValueError(f"item {i}: id {item.id!r} is used twice")
            seen.add(item.id)
        return v

    @property
    def traits(self) -> list[str]:
        """The traits measured, in the order of their first item."""
        return list(dict.fromkeys(i.trait for i in self.items))

    def statement(self, item: Item) -> str:
        """The item as a respondent reads it (``stem`` + text, the text's first letter lowered after a stem)."""
        if not self.stem:
            return item.text
        return self.stem + item.text[:1].lower() + item.text[1:]

    def keyed(self, item: Item, answer: float) -> float:
        """The answer scored towards the item's trait (reverse keys flipped)."""
        return float(answer) if item.key == "+" else float(self.scale.min + self.scale.max - answer)


def instruments() -> list[str]:
    """The names of the instruments that ship with simworld."""
    return sorted(BUILTIN)


def load_instrument(spec: str | os.PathLike[str]) -> Instrument:
    """A shipped instrument by name (``mini-ipip``, ``ipip-50``) or one from a YAML/JSON file; a malformed
    file is one :class:`BadInput` naming the file and the field."""
    text_spec = os.fspath(spec)
    path = INSTRUMENT_DIR / BUILTIN[text_spec] if text_spec in BUILTIN else Path(text_spec).expanduser()
    if text_spec not in BUILTIN and not path.exists():
        raise BadInput("--instrument", f"no instrument {text_spec!r}: name one of {', '.join(instruments())} "
                                       "or an instrument file (YAML or JSON)")
    source = str(path)
    doc = load_yaml(read_text(path, "instrument file"), source)  # YAML reads JSON too
    if not isinstance(doc, dict):
        raise BadInput(source, f"an instrument file holds a mapping (name, scale, items), not {type(doc).__name__}")
    try:
        return Instrument.model_validate(doc)
    except ValidationError as err:
        raise from_validation(source, err) from None


# -- respondents and answers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Respondent:
    """Who answers: an id, the traits the persona is meant to have (in [0, 1]), and what a model is told."""

    id: str
    traits: Mapping[str, float]
    persona_text: str = ""

    @classmethod
    def from_persona(cls, persona: Mapping[str, Any], persona_text: str = "") -> Respondent:
        """From a persona record (as a persona file or ``agent.joined`` holds it): its id and Big Five."""
        b5 = persona.get("big_five") or {}
        return cls(str(persona["id"]), {t: float(b5.get(t, 0.5)) for t in BIG_FIVE}, persona_text)


def as_respondent(who: Respondent | Mapping[str, Any] | BaseModel) -> Respondent:
    """A respondent from a :class:`Respondent`, a persona model (``Persona``) or a persona record."""
    if isinstance(who, Respondent):
        return who
    record = who.model_dump(mode="json") if isinstance(who, BaseModel) else who
    if not isinstance(record, Mapping) or "id" not in record:
        raise BadInput("respondents", f"not a respondent or a persona with an id: {str(who)[:80]!r}")
    text = record.get("persona_text")
    return Respondent.from_persona(record, text if isinstance(text, str) else "")


def poles(low: float = 0.1, high: float = 0.9) -> list[dict[str, float]]:
    """The 32 Big Five profiles with every trait at one of two poles (PersonaLLM's design), in a fixed order."""
    out = []
    for mask in range(32):
        out.append({t: (high if mask >> i & 1 else low) for i, t in enumerate(BIG_FIVE)})
    return out


class SurveyConfig(BaseModel):
    """Who answers (``--set`` keys of ``simworld survey``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    brain: Literal["rule", "llm", "local"] = Field(
        default="rule", description="rule: the response model from the persona's traits; llm, local: a model")
    model: ModelSpec = Field(default_factory=ModelSpec)
    noise: float = Field(default=0.6, ge=0.0, le=10.0,
                         description="rule brains: response error (scale points) at middling conscientiousness")
    pole_margin: float = Field(default=1 / 6, gt=0.0, le=0.5,
                               description="poles for Cohen's d: intended trait >= 0.5 + margin vs <= 0.5 - margin")

    def spec(self) -> ModelSpec:
        """The model spec the gateway gets (``local``: the bundled model, one call at a time)."""
        if self.brain == "local":
            from simworld.models.local import GGUF_FILE

            name = self.model.model if self.model.provider == "local" else GGUF_FILE.split(".")[0]
            return self.model.model_copy(update={"provider": "local", "model": name, "max_concurrency": 1})
        return self.model


class ItemAnswer(BaseModel):
    """One respondent's answer to one item: the Likert point (None when it failed), the keyed score, and
    every model call behind it (prompt and response)."""

    model_config = ConfigDict(extra="forbid")

    respondent: str
    item: str
    trait: str
    key: Literal["+", "-"]
    brain: str
    answer: int | None = None
    score: float | None = Field(default=None, description="the answer keyed towards the trait")
    failure: str | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)


# -- statistics -------------------------------------------------------------------------------------------
def cronbach_alpha(matrix: Sequence[Sequence[float]] | np.ndarray) -> float | None:
    """Cronbach's alpha of a respondents x items matrix (complete rows); None with fewer than two items or
    respondents, or when the total score does not vary."""
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2 or m.shape[1] < 2:
        return None
    k = m.shape[1]
    total_var = float(m.sum(axis=1).var(ddof=1))
    if total_var == 0.0:
        return None
    return float(k / (k - 1) * (1.0 - float(m.var(axis=0, ddof=1).sum()) / total_var))


def cohens_d(high: Sequence[float], low: Sequence[float]) -> float | None:
    """(mean(high) - mean(low)) / pooled sd; None with fewer than two in a group or no spread at all."""
    a, b = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return None
    pooled = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    if pooled == 0.0:
        return None
    return float((a.mean() - b.mean()) / pooled)


def d_ci(d: float, n1: int, n2: int) -> tuple[float, float]:
    """Normal-approximation 95% interval of Cohen's d (Hedges and Olkin's standard error)."""
    se_ = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
    return (d - 1.96 * se_, d + 1.96 * se_)


def pearson(x: Sequence[float], y: Sequence[float]) -> tuple[float | None, tuple[float, float] | None]:
    """Pearson's r and its Fisher-z 95% interval (None when either side does not vary; no interval below 4)."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) < 2 or a.std() == 0.0 or b.std() == 0.0:
        return None, None
    r = float(np.corrcoef(a, b)[0, 1])
    if len(a) < 4 or abs(r) >= 1.0:
        return r, None
    z, half = math.atanh(r), 1.96 / math.sqrt(len(a) - 3)
    return r, (math.tanh(z - half), math.tanh(z + half))


# -- answering --------------------------------------------------------------------------------------------
def rule_answers(instrument: Instrument, respondent: Respondent, seed: int, noise: float) -> list[ItemAnswer]:
    """The rule brain's answers (the response model of the module docstring)."""
    missing = [t for t in instrument.traits if t not in respondent.traits]
    if missing:
        raise BadInput(instrument.name, f"rule brains answer from the respondent's traits, and {respondent.id!r} "
                                        f"has no {', '.join(missing)} (use a model brain for this instrument)")
    rng = Streams(seed).fresh(f"survey:{instrument.name}:{respondent.id}")
    lo, hi = instrument.scale.min, instrument.scale.max
    c = float(respondent.traits.get("conscientiousness", 0.5))
    sigma = noise * (1.5 - min(max(c, 0.0), 1.0))
    acquiescence = float(rng.normal(0.0, noise / 4)) if noise > 0 else 0.0
    out = []
    for item in instrument.items:
        theta = min(max(float(respondent.traits[item.trait]), 0.0), 1.0)
        meant = lo + (hi - lo) * (theta if item.key == "+" else 1.0 - theta)
        e = float(rng.normal(0.0, sigma)) if sigma > 0 else 0.0
        x = int(min(max(round(meant + acquiescence + e), lo), hi))
        out.append(ItemAnswer(respondent=respondent.id, item=item.id, trait=item.trait, key=item.key, brain="rule",
                              answer=x, score=instrument.keyed(item, x)))
    return out


def answer_format(scale: Scale) -> str:
    return f'Answer with only a JSON object: {{"answer": <a whole number from {scale.min} to {scale.max}>}}'


def answer_schema(scale: Scale) -> dict[str, Any]:
    """The JSON schema a model's answer must follow: one whole number on the scale."""
    return {"type": "object", "properties": {"answer": {"type": "integer", "enum": scale.points}},
            "required": ["answer"], "additionalProperties": False}


def item_messages(instrument: Instrument, item: Item, persona_text: str) -> list[dict[str, str]]:
    """What a model is asked for one item: the persona (system) and the item with the scale (user)."""
    who = persona_text.strip()
    system = (f"{who}\n\nAnswer every question as this person, in character." if who
              else "Answer every question about yourself.")
    scale = instrument.scale
    points = "\n".join(f"{p} = {scale.labels[p]}" if p in scale.labels else str(p) for p in scale.points)
    parts = [instrument.instructions.strip()] if instrument.instructions.strip() else []
    parts.append(f'Statement: "{instrument.statement(item)}"\nHow accurately does this statement describe you?\n'
                 f"{points}\n{answer_format(scale)}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_answer(text: str, scale: Scale) -> tuple[int | None, str | None]:
    """(the Likert point, None) for a valid answer, else (None, what is wrong)."""
    stripped = text.strip()
    value: Any
    try:
        value = json.loads(stripped)
    except ValueError:
        match = _JSON_OBJECT.search(stripped)
        if match is None:
            return None, "not a JSON object with an answer"
        try:
            value = json.loads(match.group(0))
        except ValueError:
            return None, "not a JSON object with an answer"
    if isinstance(value, dict):
        value = value.get("answer")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None, f"{value!r} is not a whole number"
    if not scale.min <= value <= scale.max:
        return None, f"{value} is outside {scale.min}..{scale.max}"
    return value, None


class _ModelAsker:
    """Asks the items of every respondent through one gateway (concurrently; the gateway caps it)."""

    def __init__(self, instrument: Instrument, config: SurveyConfig, seed: int) -> None:
        from simworld.models.gateway import Gateway

        self.instrument = instrument
        self.config = config
        self.seed = seed
        self.gateway = Gateway(config.spec(), world=None)

    async def ask(self, respondent: Respondent, item: Item) -> ItemAnswer:
        inst = self.instrument
        messages = item_messages(inst, item, respondent.persona_text)
        schema = answer_schema(inst.scale)
        base = stable_hash(f"survey:{inst.name}:{respondent.id}:{item.id}:{self.seed}") & 0x7FFFFFFF
        calls: list[dict[str, Any]] = []
        problem = "no answer"
        for attempt in range(2):
            node = "survey" if attempt == 0 else "repair"
            record: dict[str, Any] = {"node": node, "messages": messages, "response": None, "error": None}
            calls.append(record)
            try:
                response = await self.gateway.call(ChatRequest(messages, schema, base + attempt), respondent.id, node)
            except ModelError as err:
                record["error"] = str(err)
                return self._answer(respondent, item, None, f"model error: {err}", calls)
            record.update(response=response.text, input_tokens=response.input_tokens,
                          output_tokens=response.output_tokens)
            said, wrong = parse_answer(response.text, inst.scale)
            if said is not None:
                return self._answer(respondent, item, said, None, calls)
            problem = wrong or problem
            messages = [*messages, {"role": "assistant", "content": response.text},
                        {"role": "user", "content": f"That answer is not valid: {problem}. {answer_format(inst.scale)}"}]
        return self._answer(respondent, item, None, f"invalid answer after repair: {problem}", calls)

    def _answer(self, respondent: Respondent, item: Item, said: int | None, failure: str | None,
                calls: list[dict[str, Any]]) -> ItemAnswer:
        return ItemAnswer(respondent=respondent.id, item=item.id, trait=item.trait, key=item.key,
                          brain=self.config.brain, answer=said,
                          score=None if said is None else self.instrument.keyed(item, said),
                          failure=failure, calls=calls)

    def run(self, respondents: Sequence[Respondent]) -> tuple[list[ItemAnswer], dict[str, Any]]:
        async def ask_all() -> list[ItemAnswer]:
            return list(await asyncio.gather(*(self.ask(r, i) for r in respondents for i in self.instrument.items)))

        try:
            answers = self.gateway.run(ask_all())
            return answers, self.gateway.summary()
        finally:
            self.gateway.close()


# -- scoring ----------------------------------------------------------------------------------------------
def trait_scores(instrument: Instrument, answers: Sequence[ItemAnswer]) -> dict[str, dict[str, float | None]]:
    """respondent -> trait -> the mean keyed score of the items it answered (None: it answered none)."""
    sums: dict[str, dict[str, list[float]]] = {}
    traits = instrument.traits
    for a in answers:
        row = sums.get(a.respondent)
        if row is None:
            row = sums[a.respondent] = {t: [] for t in traits}
        if a.score is not None:
            row.setdefault(a.trait, []).append(a.score)
    return {r: {t: mean(v) for t, v in row.items()} for r, row in sums.items()}


def score(instrument: Instrument, respondents: Sequence[Respondent], answers: Sequence[ItemAnswer],
          pole_margin: float = 1 / 6, seed: int = 0) -> dict[str, Any]:
    """Per-trait scores, alpha, correlation with the intended trait and Cohen's d between the poles, per-item
    statistics, and failures (what ``scores.json`` holds; see the module docstring)."""
    per = trait_scores(instrument, answers)
    by_item: dict[tuple[str, str], float] = {(a.respondent, a.item): a.score for a in answers if a.score is not None}
    intended = {r.id: r.traits for r in respondents}
    ids = [r.id for r in respondents]
    traits: dict[str, Any] = {}
    for t in instrument.traits:
        items = [i for i in instrument.items if i.trait == t]
        scores = [(rid, per.get(rid, {}).get(t)) for rid in ids]
        valid = [(rid, s) for rid, s in scores if s is not None]
        values = [s for _, s in valid]
        complete = [[by_item[(rid, i.id)] for i in items] for rid in ids if all((rid, i.id) in by_item for i in items)]
        ci = bootstrap_ci(values, seed=seed) if len(values) > 1 else None
        known = [(s, float(intended[rid][t])) for rid, s in valid if t in intended[rid]]
        r, r_ci = pearson([k[0] for k in known], [k[1] for k in known]) if known else (None, None)
        high = [s for s, theta in known if theta >= 0.5 + pole_margin]
        low = [s for s, theta in known if theta <= 0.5 - pole_margin]
        d = cohens_d(high, low)
        traits[t] = {
            "items": len(items), "n": len(values), "mean": mean(values), "sd": sd(values),
            "ci95": list(ci) if ci else None,
            "alpha": cronbach_alpha(complete), "alpha_n": len(complete),
            "r_intended": r, "r_ci95": list(r_ci) if r_ci else None,
            "d_poles": d, "d_ci95": list(d_ci(d, len(high), len(low))) if d is not None else None,
            "n_high": len(high), "n_low": len(low), "mean_high": mean(high), "mean_low": mean(low),
            "failures": sum(1 for a in answers if a.trait == t and a.answer is None),
        }
    failures = [a for a in answers if a.answer is None]
    return {
        "instrument": instrument.name, "title": instrument.title,
        "scale": {"min": instrument.scale.min, "max": instrument.scale.max},
        "n_respondents": len(respondents), "n_items": len(instrument.items), "n_answers": len(answers),
        "failures": len(failures), "pole_margin": pole_margin,
        "traits": traits,
        "respondents": {rid: per.get(rid, {t: None for t in instrument.traits}) for rid in ids},
    }


def item_rows(instrument: Instrument, answers: Sequence[ItemAnswer]) -> list[dict[str, Any]]:
    """Per item: n, mean and sd of the raw answers, mean keyed score, corrected item-total correlation (the
    item against the mean of the trait's other items), failures (what ``items.csv`` holds)."""
    by_resp: dict[str, dict[str, float]] = {}
    for a in answers:
        if a.score is not None:
            by_resp.setdefault(a.respondent, {})[a.item] = a.score
    answered: dict[str, list[ItemAnswer]] = {}
    for a in answers:
        answered.setdefault(a.item, []).append(a)
    rows = []
    for item in instrument.items:
        mine = answered.get(item.id, [])
        raw = [float(a.answer) for a in mine if a.answer is not None]
        others = [i.id for i in instrument.items if i.trait == item.trait and i.id != item.id]
        pairs = [(got[item.id], float(np.mean([got[o] for o in others]))) for got in by_resp.values()
                 if item.id in got and others and all(o in got for o in others)]
        r, _ = pearson([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else (None, None)
        keyed = [instrument.keyed(item, x) for x in raw]
        rows.append({"item": item.id, "trait": item.trait, "key": item.key, "text": instrument.statement(item),
                     "n": len(raw), "mean": mean(raw), "sd": sd(raw), "mean_keyed": mean(keyed),
                     "item_total_r": r,
                     "failures": sum(1 for a in mine if a.answer is None)})
    return rows


# -- the survey as a whole --------------------------------------------------------------------------------
@dataclass
class Survey:
    """What :func:`administer` returns; :meth:`write` puts it in a survey folder."""

    instrument: Instrument
    respondents: list[Respondent]
    config: SurveyConfig
    seed: int
    answers: list[ItemAnswer]
    scores: dict[str, Any]
    items: list[dict[str, Any]]
    model: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)

    def write(self, out: str | os.PathLike[str]) -> Path:
        """Write ``survey.json``, ``respondents.jsonl``, ``answers.jsonl``, ``scores.json``, ``items.csv``."""
        from simworld import __version__
        from simworld.runlog import now_iso

        folder = check_out_dir(out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            meta = {"kind": "survey", "instrument": self.instrument.model_dump(mode="json"),
                    "brain": self.config.brain, "seed": self.seed,
                    "config": self.config.model_dump(mode="json"), "n_respondents": len(self.respondents),
                    "failures": self.scores["failures"], "model": self.model, "simworld_version": __version__,
                    "created_at": now_iso()}
            (folder / SURVEY).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            (folder / RESPONDENTS).write_bytes(b"".join(
                orjson.dumps({"id": r.id, "traits": dict(r.traits), "persona_text": r.persona_text}) + b"\n"
                for r in self.respondents))
            (folder / ANSWERS).write_bytes(b"".join(
                orjson.dumps(a.model_dump(mode="json")) + b"\n" for a in self.answers))
            (folder / SCORES).write_bytes(orjson.dumps(self.scores, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(self.items[0]) if self.items else ["item"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.items)
            (folder / ITEMS).write_text(buf.getvalue(), encoding="utf-8")
        except OSError as err:
            raise BadInput(str(folder), f"cannot write the survey ({err.strerror or err})") from None
        self.files = {name: folder / name for name in SURVEY_FILES}
        return folder


def check_out_dir(out: str | os.PathLike[str]) -> Path:
    """The survey folder, refused when it is a file or already holds files (nothing is overwritten)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise BadInput(str(folder), "is a file; name a new folder for the survey")
    if folder.is_dir() and any(folder.iterdir()):
        raise BadInput(str(folder), "already holds files; name a new folder for the survey (nothing was overwritten)")
    return folder


def administer(
    instrument: Instrument | str | os.PathLike[str],
    respondents: Sequence[Respondent | Mapping[str, Any] | BaseModel],
    brain: SurveyConfig | Mapping[str, Any] | str = "rule",
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
) -> Survey:
    """Ask every item of ``instrument`` of every respondent and score the answers (module docstring).

    ``respondents`` are :class:`Respondent` objects, or personas (a ``Persona``, or its record as a persona file
    or ``agent.joined`` holds it; its ``persona_text`` field, when present, is what a model is told). ``brain``
    is ``"rule"``, ``"llm"``, ``"local"``, a :class:`SurveyConfig` or its mapping. With ``out`` the survey
    folder is written (refused before anything is asked when it already holds files)."""
    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    if isinstance(brain, SurveyConfig):
        config = brain
    else:
        try:
            config = SurveyConfig.model_validate({"brain": brain} if isinstance(brain, str) else dict(brain))
        except ValidationError as err:
            raise from_validation("brain", err) from None
    people = [as_respondent(r) for r in respondents]
    if not people:
        raise BadInput("respondents", "nobody to ask")
    seen: set[str] = set()
    for r in people:
        if r.id in seen:
            raise BadInput("respondents", f"id {r.id!r} is used twice")
        seen.add(r.id)
    if out is not None:
        check_out_dir(out)
    model: dict[str, Any] | None = None
    if config.brain == "rule":
        answers = [a for r in people for a in rule_answers(inst, r, seed, config.noise)]
    else:
        answers, model = _ModelAsker(inst, config, seed).run(people)
    survey = Survey(inst, people, config, seed, answers, score(inst, people, answers, config.pole_margin, seed),
                    item_rows(inst, answers), model)
    if out is not None:
        survey.write(out)
    return survey


def read_survey(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """A survey folder's ``survey.json``, ``scores.json``, ``items.csv`` rows and respondents (for reports)."""
    path = Path(folder)
    out: dict[str, Any] = {}
    try:
        out["survey"] = orjson.loads((path / SURVEY).read_bytes())
        out["scores"] = orjson.loads((path / SCORES).read_bytes())
        with (path / ITEMS).open(encoding="utf-8", newline="") as fh:
            out["items"] = list(csv.DictReader(fh))
        out["respondents"] = [orjson.loads(line) for line in (path / RESPONDENTS).read_bytes().splitlines()
                              if line.strip()]
    except FileNotFoundError as err:
        raise BadInput(str(path), f"not a survey folder (no {Path(err.filename or '').name})") from None
    except (OSError, orjson.JSONDecodeError, csv.Error, UnicodeDecodeError) as err:
        raise BadInput(str(path), f"a survey file cannot be read ({str(err).splitlines()[0][:160]})") from None
    return out
