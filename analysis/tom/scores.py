"""Scoring theory of mind: answers to probes, and the beliefs agents logged themselves.

Answers (from an interview or any model run on a benchmark file) are scored per kind and order, for
ToM-required questions and the others, by FANToM's All* (a fact counts only when every question about it
was answered right), and by the respondent's persona (Big Five bands, strategy), each with a seeded
bootstrap interval. A failed answer (no valid choice) counts as wrong.

Explicit beliefs (``belief.updated``) are scored against the truth the log holds (:mod:`.truth`): the
absolute error of numeric beliefs, the accuracy and Brier score (confidence against being right) of the
others, over simulated time, by key, by persona and by strategy; one function serves every scenario.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from simworld.analysis.tom.truth import Truth, default_truths

from simworld.belief_accuracy import BeliefRecord, is_number
from simworld.runlog import RunLog, load_run
from simworld.stats import bootstrap_ci, mean
from simworld.tom.answers import TRAITS, Answer, band
from simworld.tom.knowledge import Knowledge


def _cell(values: Sequence[float], seed: int) -> dict[str, Any]:
    ci = bootstrap_ci(values, seed=seed) if len(values) > 1 else None
    return {"n": len(values), "accuracy": mean(values), "ci95": list(ci) if ci else None}


def score_answers(
    answers: Iterable[Answer],
    personas: Mapping[str, Mapping[str, Any]] | None = None,
    policies: Mapping[str, str | None] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy overall, per kind and order, ToM-required or not, All*, and by the respondent's persona
    (``personas``: id -> logged persona) and strategy (``policies``: id -> policy name)."""
    rows = list(answers)
    hits = [float(a.correct) for a in rows]
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_tom: dict[str, list[float]] = defaultdict(list)
    facts: dict[tuple[str | None, str, float], list[bool]] = defaultdict(list)
    by_trait: dict[str, dict[str, list[float]]] = {t: defaultdict(list) for t in TRAITS}
    by_strategy: dict[str, list[float]] = defaultdict(list)
    for a in rows:
        x = float(a.correct)
        p = a.probe
        by_kind[f"{p.kind}:{p.order}"].append(x)
        by_tom["tom_required" if p.tom_required else "no_tom"].append(x)
        facts[(a.story, p.fact, p.t)].append(a.correct)
        who = a.respondent
        if who is None:
            continue
        persona = (personas or {}).get(who)
        if persona:
            b5 = persona.get("big_five") or {}
            for trait in TRAITS:
                by_trait[trait][band(float(b5.get(trait, 0.5)))].append(x)
        if policies is not None:
            by_strategy[str(policies.get(who) or "unknown")].append(x)
    all_star = [float(all(v)) for v in facts.values()]
    return {
        "n": len(rows),
        "failed": sum(1 for a in rows if a.failure),
        "accuracy": _cell(hits, seed),
        "by_kind": {k: _cell(v, seed) for k, v in sorted(by_kind.items())},
        "tom_required": {k: _cell(v, seed) for k, v in sorted(by_tom.items())},
        "all_star": {"facts": len(all_star), **_cell(all_star, seed)},
        "by_trait": {t: {b: _cell(v, seed) for b, v in sorted(cells.items())} for t, cells in by_trait.items() if cells},
        "by_strategy": {s: _cell(v, seed) for s, v in sorted(by_strategy.items())},
    }


# -- explicit beliefs -----------------------------------------------------------------------------------
class _Errors:
    """Running errors of one group of scored beliefs."""

    __slots__ = ("abs", "brier", "hits", "n")

    def __init__(self) -> None:
        self.n = 0
        self.abs: list[float] = []
        self.hits: list[float] = []
        self.brier: list[float] = []

    def add(self, record: BeliefRecord, true: Any) -> None:
        self.n += 1
        if is_number(true) and is_number(record.value):
            self.abs.append(abs(float(record.value) - float(true)))
        else:
            hit = float(record.value == true)
            self.hits.append(hit)
            self.brier.append((record.confidence - hit) ** 2)

    def summary(self, seed: int) -> dict[str, Any]:
        mae_ci = bootstrap_ci(self.abs, seed=seed) if len(self.abs) > 1 else None
        acc_ci = bootstrap_ci(self.hits, seed=seed) if len(self.hits) > 1 else None
        return {"n": self.n, "mae": mean(self.abs), "mae_ci95": list(mae_ci) if mae_ci else None,
                "accuracy": mean(self.hits), "accuracy_ci95": list(acc_ci) if acc_ci else None,
                "brier": mean(self.brier)}


def belief_scores(
    log: RunLog | str | os.PathLike[str],
    truth: Callable[[BeliefRecord], Any] | None = None,
    bins: int = 10,
    seed: int = 0,
    truths: Sequence[Truth] | None = None,
    knowledge: Knowledge | None = None,
) -> dict[str, Any]:
    """How right the agents' logged beliefs were when they held them: MAE (numeric), accuracy and Brier
    (the others), overall, per agent, per key, over ``bins`` equal spans of simulated time, by Big Five band and by
    strategy. The truth of a belief comes from ``truth(record)`` when given, else from the first of
    ``truths`` (default :func:`default_truths`: facts, the built-in scenarios' ground truth, other agents'
    own beliefs; ``knowledge`` saves reading the log twice) that knows it; beliefs without a known truth are counted as unscored."""
    if not isinstance(log, RunLog):
        log = load_run(log)
    sources = list(truths) if truths is not None else default_truths(log, knowledge)
    personas: dict[str, dict[str, Any]] = {}
    policies: dict[str, str] = {}
    scored: list[tuple[BeliefRecord, Any]] = []
    later: list[BeliefRecord] = []  # no truth yet when formed: asked again of the fixed truths at the end
    end = 0.0
    for e in log.iter_raw():
        end = e["t"]
        kind = e["kind"]
        for s in sources:
            s.see(e)
        if kind == "agent.joined":
            personas[e["agent"]] = e["data"].get("persona") or {}
            policies[e["agent"]] = str(e["data"].get("policy") or e["data"].get("brain") or "unknown")
        elif kind == "belief.updated":
            r = BeliefRecord.from_event(e)
            true = truth(r) if truth is not None else next(
                (v for v in (s.truth(r) for s in sources) if v is not None), None)
            if true is None:
                later.append(r)
            else:
                scored.append((r, true))
    unscored = 0
    fixed = [s for s in sources if s.fixed] if truth is None else []
    for r in later:
        true = next((v for v in (s.truth(r) for s in fixed) if v is not None), None)
        if true is None:
            unscored += 1
        else:
            scored.append((r, true))
    overall = _Errors()
    by_agent: dict[str, _Errors] = defaultdict(_Errors)
    by_key: dict[str, _Errors] = defaultdict(_Errors)
    by_strategy: dict[str, _Errors] = defaultdict(_Errors)
    by_trait: dict[str, dict[str, _Errors]] = {t: defaultdict(_Errors) for t in TRAITS}
    width = (float(end) or 1.0) / max(1, bins)
    spans: dict[int, _Errors] = defaultdict(_Errors)
    for r, true in scored:
        overall.add(r, true)
        by_agent[r.owner].add(r, true)
        by_key[r.key].add(r, true)
        by_strategy[policies.get(r.owner, "unknown")].add(r, true)
        b5 = personas.get(r.owner, {}).get("big_five") or {}
        for trait in TRAITS:
            by_trait[trait][band(float(b5.get(trait, 0.5)))].add(r, true)
        spans[min(bins - 1, int(r.t / width))].add(r, true)
    return {
        **overall.summary(seed),
        "unscored": unscored,
        "by_agent": {k: {"strategy": policies.get(k, "unknown"), **v.summary(seed)} for k, v in sorted(by_agent.items())},
        "by_key": {k: v.summary(seed) for k, v in sorted(by_key.items())},
        "by_strategy": {k: v.summary(seed) for k, v in sorted(by_strategy.items())},
        "by_trait": {t: {b: e.summary(seed) for b, e in sorted(cells.items())} for t, cells in by_trait.items()
                     if cells},
        "over_time": [{"from": i * width, "to": (i + 1) * width, **spans[i].summary(seed)} for i in sorted(spans)],
    }
