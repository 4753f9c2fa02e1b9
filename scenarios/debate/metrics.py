"""Debate metrics, computed from the run log alone."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from simworld.scenarios.debate.dynamics import bimodality

from simworld.runlog import RunLog


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _proposition_metrics(net: dict[str, Any], pid: str, updates: list[tuple[float, str, float, dict[str, float]]],
                         tol: float) -> dict[str, Any]:
    nodes = net["nodes"]
    index = {a: i for i, a in enumerate(nodes)}
    x0 = np.asarray(net["initial"][pid], dtype=float)
    x = x0.copy()
    consensus_t = 0.0 if x.max() - x.min() <= tol else None
    persuasion: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for t, who, value, by in updates:
        x[index[who]] = value
        for mover, amount in by.items():
            if mover != who:
                persuasion[mover][who] += abs(amount)
        if consensus_t is None and x.max() - x.min() <= tol:
            consensus_t = t
    parts = net["parts"]
    groups = {"debaters": [i for i, a in enumerate(nodes) if parts[a] == "debater"],
              "audience": [i for i, a in enumerate(nodes) if parts[a] == "audience"]}
    shift = x - x0
    return {
        "opinion_shift": {a: _r(shift[i]) for i, a in enumerate(nodes)},
        "final_opinion": {a: _r(x[i]) for i, a in enumerate(nodes)},
        "group_shift": {g: {"mean": _r(shift[ix].mean()) if ix else None,
                            "mean_abs": _r(np.abs(shift[ix]).mean()) if ix else None} for g, ix in groups.items()},
        "polarisation": {
            "variance_initial": _r(x0.var()), "variance_final": _r(x.var()),
            "bimodality_initial": _r(bimodality(x0)), "bimodality_final": _r(bimodality(x)),
            "audience_variance_final": _r(x[groups["audience"]].var()) if groups["audience"] else None,
        },
        "consensus_time": consensus_t,
        "persuasion": {m: {w: _r(v) for w, v in sorted(row.items())} for m, row in sorted(persuasion.items())},
    }


def debate_metrics(log: RunLog, consensus_tol: float = 0.1) -> dict[str, Any]:
    net: dict[str, Any] | None = None
    personas: dict[str, dict[str, Any]] = {}
    updates: dict[str, list[tuple[float, str, float, dict[str, float]]]] = defaultdict(list)
    talk: dict[str, float] = defaultdict(float)
    moves: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    strength: dict[str, list[float]] = defaultdict(list)
    counts = {"messages": 0, "private_messages": 0, "interruptions": 0, "cut_off": 0, "applause": 0, "boos": 0,
              "left": 0, "rejoined": 0}
    verdicts: dict[str, Any] = {}
    for e in log.iter_raw():
        kind, d = e["kind"], e["data"]
        if kind == "agent.joined":
            personas[e["agent"]] = d["persona"]
        elif kind == "debate.network":
            net = d
        elif kind == "belief.updated" and d.get("key") == "opinion" and d.get("rule") != "initial":
            updates[d["about"]].append((e["t"], e["agent"], float(d["value"]), d.get("by") or {}))
        elif kind == "debate.move":
            if not d.get("private"):
                talk[d["speaker"]] += float(d["duration"])
            moves[d["proposition"]][d["move"]] += 1
            strength[d["move"]].append(float(d["strength"]))
            counts["cut_off"] += int(bool(d.get("cut")))
        elif kind == "message.sent":
            counts["messages"] += 1
            counts["private_messages"] += int(bool(d.get("private")))
        elif kind == "debate.interrupted":
            counts["interruptions"] += 1
        elif kind == "debate.reaction":
            counts["applause"] += len(d["applause"])
            counts["boos"] += len(d["boo"])
        elif kind == "debate.left":
            counts["left"] += 1
        elif kind == "debate.rejoined":
            counts["rejoined"] += 1
        elif kind == "debate.verdict":
            verdicts[d["proposition"]] = {k: d[k] for k in ("tally", "audience_winner", "moderator_winner", "strength")}
    if net is None:
        return {"propositions": {}, **counts}
    total_talk = sum(talk.values())
    share = {a: _r(talk[a] / total_talk) if total_talk else None for a in sorted(talk)}
    by_trait: dict[str, float] = defaultdict(float)
    for a, v in talk.items():
        b5 = personas.get(a, {}).get("big_five", {})
        by_trait["extravert" if b5.get("extraversion", 0.5) >= 0.5 else "introvert"] += v / total_talk if total_talk else 0.0
    props = {}
    for pid in net["initial"]:
        m = _proposition_metrics(net, pid, updates[pid], consensus_tol)
        m["moves"] = dict(sorted(moves[pid].items()))
        m["verdict"] = verdicts.get(pid)
        props[pid] = m
    return {
        "rule": net["rule"],
        "network": net["graph"],
        "participants": len(net["nodes"]),
        "propositions": props,
        "talk_share": share,
        "talk_share_by_extraversion": {k: _r(v) for k, v in sorted(by_trait.items())},
        "mean_strength_by_move": {k: _r(np.mean(v)) for k, v in sorted(strength.items())},
        **counts,
    }
