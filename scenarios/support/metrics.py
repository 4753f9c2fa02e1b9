"""Support metrics, computed from the run log alone (simulated and replayed conversations alike)."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

import numpy as np
from simworld.scenarios.support.strategies import STRATEGIES

from simworld.runlog import RunLog


def _mean(xs: list[float]) -> float | None:
    return round(float(np.mean(xs)), 6) if xs else None


def _by_arm(sessions: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    arms = sorted({s["arm"] for s in sessions})
    return {a: _mean([s[key] for s in sessions if s["arm"] == a and s[key] is not None]) for a in arms}


def support_metrics(log: RunLog) -> dict[str, Any]:
    started: dict[str, dict[str, Any]] = {}
    sessions: list[dict[str, Any]] = []
    strategies: dict[str, list[str]] = defaultdict(list)
    feedback: dict[str, list[int]] = defaultdict(list)
    beliefs: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)  # (supporter, seeker) -> key -> value
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
        elif kind == "belief.updated" and d["key"] in ("problem_type", "emotion_type", "intensity", "situation"):
            beliefs[(e["agent"], d["about"])][d["key"]] = d["value"]
        elif kind == "support.session_ended":
            s0 = started[d["session"]]
            init, final = d["initial_intensity"], d["final_intensity"]
            b = beliefs.get((d["supporter"], d["seeker"]), {})
            fb = feedback[d["session"]]
            sessions.append({
                "arm": d["arm"], "reason": d["reason"], "turns": d["turns"], "resolved_turn": d["resolved_turn"],
                "reduction": None if init is None or final is None else float(init) - float(final),
                "feedback": _mean(fb) if fb else None, "compatibility": s0.get("compatibility"),
                "problem_correct": b.get("problem_type") == s0["problem_type"],
                "emotion_correct": b.get("emotion_type") == s0["emotion_type"],
                "intensity_error": None if "intensity" not in b or final is None else abs(float(b["intensity"]) - float(final)),
                "has_beliefs": bool(b), "problem_type": s0["problem_type"],
            })
    counts = {s: 0 for s in STRATEGIES}
    transitions: dict[str, dict[str, int]] = {}
    for seq in strategies.values():
        for s in seq:
            counts[s] = counts.get(s, 0) + 1
        for a, b in pairwise(seq):
            transitions.setdefault(a, {}).setdefault(b, 0)
            transitions[a][b] += 1
    total = sum(counts.values())
    resolved = [s for s in sessions if s["resolved_turn"] is not None]
    believed = [s for s in sessions if s["has_beliefs"]]
    by_arm = {"intensity_reduction": _by_arm(sessions, "reduction"), "feedback": _by_arm(sessions, "feedback"),
              "turns_to_resolution": _by_arm(sessions, "resolved_turn"), "compatibility": _by_arm(sessions, "compatibility")}
    gain = None
    if {"matched", "random"} <= set(by_arm["intensity_reduction"]):
        gain = {k: (None if v.get("matched") is None or v.get("random") is None else round(v["matched"] - v["random"], 6))
                for k, v in by_arm.items()}
    reasons: dict[str, int] = defaultdict(int)
    for s in sessions:
        reasons[s["reason"]] += 1
    problems = sorted({s["problem_type"] for s in sessions})
    return {
        "sessions": len(sessions),
        "intensity_reduction": _mean([s["reduction"] for s in sessions if s["reduction"] is not None]),
        "intensity_reduction_by_problem": {p: _mean([s["reduction"] for s in sessions if s["problem_type"] == p
                                                     and s["reduction"] is not None]) for p in problems},
        "resolved_share": round(len(resolved) / len(sessions), 6) if sessions else None,
        "turns_to_resolution": _mean([s["resolved_turn"] for s in resolved]),
        "mean_turns": _mean([s["turns"] for s in sessions]),
        "end_reasons": dict(sorted(reasons.items())),
        "strategy_distribution": {s: (round(c / total, 6) if total else 0.0) for s, c in counts.items()},
        "strategy_transitions": {a: dict(sorted(row.items())) for a, row in sorted(transitions.items())},
        "intensity_change_by_strategy": {s: _mean(v) for s, v in sorted(effect.items())},
        "feedback": _mean([s["feedback"] for s in sessions if s["feedback"] is not None]),
        "belief_accuracy": {
            "problem_type": _mean([float(s["problem_correct"]) for s in believed]),
            "emotion_type": _mean([float(s["emotion_correct"]) for s in believed]),
            "intensity_mae": _mean([s["intensity_error"] for s in believed if s["intensity_error"] is not None]),
        } if believed else None,
        "by_arm": by_arm,
        "matching_gain": gain,
        "warnings": warnings,
    }
