"""Support metrics, computed from the run log alone (simulated and replayed conversations alike; no
rounding: displays round)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from simworld.scenarios.support.esconv import STRATEGIES

from simworld.belief_accuracy import BeliefRecord, latest, score_beliefs
from simworld.runlog import RunLog
from simworld.stats import mean, share

#: The supporter beliefs about a seeker that are scored against the session's truth.
BELIEF_KEYS = ("problem_type", "emotion_type", "intensity", "situation")
#: What is true of a seeker: belief key -> value (None: unknown).
Truth = dict[str, str | float | None]


@dataclass(frozen=True)
class Session:
    """One finished session as the metrics see it."""

    arm: str
    reason: str
    turns: int
    resolved_turn: int | None
    reduction: float | None
    feedback: float | None
    compatibility: float | None
    problem_type: str


def _by_arm(sessions: list[Session], value: Callable[[Session], float | None]) -> dict[str, float | None]:
    arms = sorted({s.arm for s in sessions})
    return {a: mean(value(s) for s in sessions if s.arm == a) for a in arms}


def _belief_accuracy(records: Iterable[BeliefRecord], truth: dict[tuple[str, str], Truth]
                     ) -> dict[str, float | None] | None:
    """How right supporters ended up about their seekers, over the sessions in which the supporter formed
    any belief about the seeker: the share in which it knew the problem and the emotion (no belief counts
    as wrong), and the mean error of its intensity belief against the intensity at the end."""
    last = [r for r in latest(records) if (r.owner, r.about) in truth]
    believed = len({(r.owner, r.about) for r in last})
    if not believed:
        return None
    scores = score_beliefs(last, lambda r: truth[(r.owner, r.about)].get(r.key))

    def known(key: str) -> float:
        s = scores.get(key)
        return 0.0 if s is None or s["accuracy"] is None else s["accuracy"] * s["n"] / believed

    intensity = scores.get("intensity")
    return {"problem_type": known("problem_type"), "emotion_type": known("emotion_type"),
            "intensity_mae": None if intensity is None else intensity["mae"]}


def support_metrics(log: RunLog) -> dict[str, Any]:
    """Intensity reduction (overall, by problem, by arm), resolution, strategies and their transitions and
    effects, feedback, supporters' belief accuracy, and the matching gain over random assignment."""
    started: dict[str, dict[str, Any]] = {}
    sessions: list[Session] = []
    strategies: dict[str, list[str]] = defaultdict(list)
    feedback: dict[str, list[int]] = defaultdict(list)
    beliefs: list[BeliefRecord] = []
    truth: dict[tuple[str, str], Truth] = {}  # (supporter, seeker) -> what is true of the seeker
    effect: dict[str, list[float]] = defaultdict(list)
    warnings = 0
    for e in log.iter_raw():
        kind, d = e["kind"], e["data"]
        if kind == "support.session_started":
            started[d["session"]] = d
        elif kind == "support.strategy":
            strategies[d["session"]].append(d["strategy"])
        elif kind == "support.feedback":
            feedback[d["session"]].append(int(d["score"]))
        elif kind == "support.intensity":
            effect[d["strategy"]].append(float(d["intensity"]) - float(d["previous"]))
        elif kind == "support.warning":
            warnings += 1
        elif kind == "belief.updated" and d["key"] in BELIEF_KEYS:
            beliefs.append(BeliefRecord.from_event(e))
        elif kind == "support.session_ended":
            s0 = started[d["session"]]
            init, final = d["initial_intensity"], d["final_intensity"]
            truth[(d["supporter"], d["seeker"])] = {"problem_type": s0["problem_type"],
                                                     "emotion_type": s0["emotion_type"], "intensity": final}
            sessions.append(Session(
                arm=d["arm"], reason=d["reason"], turns=d["turns"], resolved_turn=d["resolved_turn"],
                reduction=None if init is None or final is None else float(init) - float(final),
                feedback=mean(feedback[d["session"]]), compatibility=s0.get("compatibility"),
                problem_type=s0["problem_type"],
            ))
    counts: dict[str, int] = {s: 0 for s in STRATEGIES}
    transitions: dict[str, dict[str, int]] = {}
    for seq in strategies.values():
        for name in seq:
            counts[name] = counts.get(name, 0) + 1
        for a, b in pairwise(seq):
            transitions.setdefault(a, {}).setdefault(b, 0)
            transitions[a][b] += 1
    total = sum(counts.values())
    resolved = [s for s in sessions if s.resolved_turn is not None]
    by_arm = {"intensity_reduction": _by_arm(sessions, lambda s: s.reduction),
              "feedback": _by_arm(sessions, lambda s: s.feedback),
              "turns_to_resolution": _by_arm(sessions, lambda s: s.resolved_turn),
              "compatibility": _by_arm(sessions, lambda s: s.compatibility)}
    gain = None
    if {"matched", "random"} <= set(by_arm["intensity_reduction"]):
        gain = {k: _difference(v.get("matched"), v.get("random")) for k, v in by_arm.items()}
    reasons: dict[str, int] = defaultdict(int)
    for s in sessions:
        reasons[s.reason] += 1
    problems = sorted({s.problem_type for s in sessions})
    return {
        "sessions": len(sessions),
        "intensity_reduction": mean(s.reduction for s in sessions),
        "intensity_reduction_by_problem": {p: mean(s.reduction for s in sessions if s.problem_type == p)
                                           for p in problems},
        "resolved_share": share(len(resolved), len(sessions)),
        "turns_to_resolution": mean(s.resolved_turn for s in resolved),
        "mean_turns": mean(s.turns for s in sessions),
        "end_reasons": dict(sorted(reasons.items())),
        "strategy_distribution": {s: (c / total if total else 0.0) for s, c in counts.items()},
        "strategy_transitions": {a: dict(sorted(row.items())) for a, row in sorted(transitions.items())},
        "intensity_change_by_strategy": {s: mean(v) for s, v in sorted(effect.items())},
        "feedback": mean(s.feedback for s in sessions),
        "belief_accuracy": _belief_accuracy(beliefs, truth),
        "by_arm": by_arm,
        "matching_gain": gain,
        "warnings": warnings,
    }


def _difference(matched: float | None, random: float | None) -> float | None:
    return None if matched is None or random is None else matched - random
