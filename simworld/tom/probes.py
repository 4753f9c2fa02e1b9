"""Theory-of-mind questions derived from a run log, labelled by the knowledge engine (right by construction).

Kinds (``order`` in brackets):

- ``reality`` (0): where is the apple really, at the time asked;
- ``memory`` (0): where was it at the beginning (the first value the log states);
- ``belief`` (1-4): what chain[0] believes (chain[0] believes chain[1] believes, ...);
- ``answerability`` (1): who knows where the apple is (every agent whose belief is the true value);
- ``accessibility`` (1): who saw the apple end up in the basket (the witnesses of that event, misses removed).

A probe is ``tom_required`` when its answer differs from what a reader who assumes everyone saw
everything would give: a belief unlike reality, someone who does not know, someone who did not see.
Facts with fewer than two values (nothing to choose between) are not asked about; a chain that does not
know the fact (belief None) is not asked either.
"""

from __future__ import annotations

import fnmatch
import os
import random
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.tom.knowledge import MAX_ORDER, Knowledge, RawEvent

Kind = Literal["reality", "memory", "belief", "answerability", "accessibility"]
KINDS: tuple[Kind, ...] = ("reality", "memory", "belief", "answerability", "accessibility")
#: Kinds whose answers can differ from reality, balanced by :func:`balance`.
TOM_KINDS = ("belief", "answerability", "accessibility")
#: Attributes asked about with "where" (the others with "what").
PLACES = ("container", "location", "room", "place", "position")


class Probe(BaseModel):
    """One question with its label and the events behind the label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="unique within the log: kind, chain, fact and time")
    t: float = Field(description="the simulated time the question is about")
    kind: Kind
    order: int = Field(ge=0, le=MAX_ORDER)
    chain: tuple[str, ...] = Field(default=(), description="agent ids: what chain[0] believes chain[1] believes ...")
    fact: str = Field(description="'entity.attribute'")
    question: str
    choices: list[Any]
    answer: Any = Field(description="the label: a value, or a sorted list of agent ids (answerability, accessibility)")
    reality: Any = Field(description="the true value of the fact at t")
    tom_required: bool = Field(description="the answer differs from what an all-seeing reader would say")
    seqs: tuple[int, ...] = Field(description="the events the label rests on")

    @property
    def respondent(self) -> str | None:
        """Whom an interview asks: chain[0] of a belief probe."""
        return self.chain[0] if self.kind == "belief" and self.chain else None


# -- words ------------------------------------------------------------------------------------------
def _split(fact: str) -> tuple[str, str]:
    entity, _, attribute = fact.rpartition(".")
    return (entity or fact), attribute


def _thing(entity: str, k: Knowledge) -> str:
    return k.name(entity) if entity in k.names else "the " + entity.replace("_", " ")


def _value(v: Any) -> str:
    return "nowhere" if v is None else "the " + str(v).replace("_", " ")


def _about(fact: str, k: Knowledge) -> tuple[bool, str]:
    """(asked with "where", the noun phrase): ``(True, "the apple")`` or ``(False, "the colour of the apple")``."""
    entity, attribute = _split(fact)
    thing = _thing(entity, k)
    return (True, thing) if attribute in PLACES else (False, f"the {attribute.replace('_', ' ')} of {thing}")


def belief_question(chain: Sequence[str], fact: str, k: Knowledge, you: bool = False) -> str:
    """"Where does Anne think Sally thinks the apple is?" (``you``: "Where do you think ...", to chain[0])."""
    where, thing = _about(fact, k)
    names = [k.name(a) for a in chain]
    head = "Where" if where else "What"
    opening = f"{head} do you think" if you else f"{head} does {names[0]} think"
    return " ".join([opening, *(f"{n} thinks" for n in names[1:]), thing, "is?"])


def _question(kind: Kind, fact: str, k: Knowledge, value: Any = None) -> str:
    where, thing = _about(fact, k)
    if kind == "reality":
        return f"Where is {thing} really?" if where else f"What is {thing} really?"
    if kind == "memory":
        return f"Where was {thing} at the beginning?" if where else f"What was {thing} at the beginning?"
    if kind == "answerability":
        return f"Who knows where {thing} is?" if where else f"Who knows what {thing} is?"
    if where:
        return f"Who saw {thing} end up in {_value(value)}?"
    return f"Who saw {thing} become {value}?"


# -- generating ----------------------------------------------------------------------------------------
def _matches(fact: str, patterns: Sequence[str] | None) -> bool:
    return patterns is None or any(fnmatch.fnmatchcase(fact, p) for p in patterns)


def _stamp(t: float | None, k: Knowledge) -> float:
    return k.end if t is None else float(t)


def probes(
    log: Knowledge | RunLog | str | os.PathLike[str] | Iterable[RawEvent],
    orders: Sequence[int] = (0, 1, 2),
    kinds: Sequence[str] = KINDS,
    seed: int = 0,
    facts: Sequence[str] | None = None,
    at: Sequence[float | None] = (None,),
    per_fact: int | None = 64,
    balanced: bool = True,
) -> list[Probe]:
    """Questions about ``log`` at the times ``at`` (None: the end), labelled by :class:`Knowledge`.

    ``orders`` picks belief orders (1-4) and, with 0, the reality and memory questions; answerability
    and accessibility questions are order 1. ``facts`` are glob patterns (``"*.container"``);
    ``per_fact`` caps the belief chains asked per fact and order (a seeded sample when there are more);
    ``balanced`` keeps as many ToM-required as other questions of each kind and order (:func:`balance`).
    """
    k = log if isinstance(log, Knowledge) else Knowledge(log)
    for o in orders:
        if not 0 <= o <= MAX_ORDER:
            raise BadInput("orders", f"order {o} is outside 0..{MAX_ORDER}")
    for kind in kinds:
        if kind not in KINDS:
            raise BadInput("kinds", f"unknown probe kind {kind!r} (known: {', '.join(KINDS)})")
    rng = random.Random(seed)
    out: list[Probe] = []
    for fact in k.facts:
        if not _matches(fact, facts):
            continue
        choices = k.values(fact)
        if len(choices) < 2:
            continue
        for t in at:
            out.extend(_for_fact(k, fact, t, choices, orders, kinds, per_fact, rng))
    return balance(out, seed) if balanced else out


def _for_fact(k: Knowledge, fact: str, t: float | None, choices: list[Any], orders: Sequence[int],
              kinds: Sequence[str], per_fact: int | None, rng: random.Random) -> Iterable[Probe]:
    real = k.reality(fact, t)
    if real is None:
        return  # not yet stated at t
    stamp = _stamp(t, k)
    real_seq = k.reality_seq(fact, t)
    base = (real_seq,) if real_seq is not None else ()
    suffix = f"{fact}@{stamp:g}"
    if 0 in orders and "reality" in kinds:
        yield Probe(id=f"reality:{suffix}", t=stamp, kind="reality", order=0, fact=fact,
                    question=_question("reality", fact, k), choices=choices, answer=real, reality=real,
                    tom_required=False, seqs=base)
    if 0 in orders and "memory" in kinds:
        first = k.occurrences(fact, t)[0]
        yield Probe(id=f"memory:{suffix}", t=stamp, kind="memory", order=0, fact=fact,
                    question=_question("memory", fact, k), choices=choices, answer=first.value, reality=real,
                    tom_required=False, seqs=(first.seq,))
    if "belief" in kinds:
        for order in sorted(o for o in orders if o >= 1):
            for b in k.beliefs(fact, order, t, limit=per_fact, rng=rng):
                yield Probe(id=f"belief:{'>'.join(b.chain)}:{suffix}", t=stamp, kind="belief", order=order,
                            chain=b.chain, fact=fact, question=belief_question(b.chain, fact, k), choices=choices,
                            answer=b.value, reality=real, tom_required=b.value != real, seqs=(b.seq, *base))
    if 1 not in orders:
        return
    everyone = list(k.agents)
    if "answerability" in kinds:
        knowing = []
        seqs = list(base)
        for a in everyone:
            held = k.belief_of((a,), fact, t)
            if held is not None and held.value == real:
                knowing.append(a)
                seqs.append(held.seq)
        yield Probe(id=f"answerability:{suffix}", t=stamp, kind="answerability", order=1, fact=fact,
                    question=_question("answerability", fact, k), choices=everyone, answer=knowing, reality=real,
                    tom_required=len(knowing) < len(everyone), seqs=tuple(dict.fromkeys(seqs)))
    if "accessibility" in kinds:
        last: dict[str, Any] = {}
        for occ in k.occurrences(fact, t):
            last[repr(occ.value)] = occ  # the latest event that put the fact at each value
        for occ in last.values():
            saw = sorted(occ.witnesses)
            yield Probe(id=f"accessibility:{fact}#{occ.seq}@{stamp:g}", t=stamp, kind="accessibility", order=1,
                        fact=fact, question=_question("accessibility", fact, k, occ.value), choices=everyone,
                        answer=saw, reality=real, tom_required=len(saw) < len(everyone), seqs=(occ.seq,))


def balance(items: Iterable[Probe], seed: int = 0) -> list[Probe]:
    """As many ToM-required as other probes in each (kind, order) of :data:`TOM_KINDS` (a seeded sample of
    the larger side); reality and memory probes are all kept. The result keeps the input's order."""
    items = list(items)
    groups: dict[tuple[str, int, bool], list[int]] = {}
    for i, p in enumerate(items):
        groups.setdefault((p.kind, p.order, p.tom_required), []).append(i)
    rng = random.Random(seed)
    keep: set[int] = set()
    for (kind, order, required), idx in sorted(groups.items()):
        if kind not in TOM_KINDS:
            keep.update(idx)
            continue
        if required:
            continue
        other = groups.get((kind, order, True), [])
        n = min(len(idx), len(other))
        keep.update(rng.sample(idx, n))
        keep.update(rng.sample(other, n))
    return [p for i, p in enumerate(items) if i in keep]


def counts(items: Iterable[Probe]) -> dict[str, dict[str, int]]:
    """``{"belief:2": {"n": 12, "tom_required": 6}, ...}``: probes per kind and order."""
    out: dict[str, dict[str, int]] = {}
    for p in items:
        row = out.setdefault(f"{p.kind}:{p.order}", {"n": 0, "tom_required": 0})
        row["n"] += 1
        row["tom_required"] += int(p.tom_required)
    return dict(sorted(out.items()))
