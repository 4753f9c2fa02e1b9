"""Debate metrics, computed from the run log alone (no rounding: displays round)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from simworld.scenarios.debate.dynamics import bimodality

from simworld.runlog import RunLog
from simworld.stats import mean

#: One logged opinion change: (time, whose, new value, who moved it by how much).
Update = tuple[float, str, float, dict[str, float]]


@dataclass(frozen=True)
class _Network:
    """What the metrics need of ``debate.network`` (read from the raw payload: its weight matrix can be large)."""

    nodes: list[str]
    parts: dict[str, str]
    initial: dict[str, list[float]]
    rule: str
    graph: str

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> _Network:
        return cls(d["nodes"], d["parts"], d["initial"], d["rule"], d["graph"])


def _var(x: np.ndarray) -> float:
    return float(x.var())


def _proposition_metrics(net: _Network, pid: str, updates: list[Update], tol: float) -> dict[str, Any]:
    nodes = net.nodes
    index = {a: i for i, a in enumerate(nodes)}
    x0 = np.asarray(net.initial[pid], dtype=float)
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
    groups = {"debaters": [i for i, a in enumerate(nodes) if net.parts[a] == "debater"],
              "audience": [i for i, a in enumerate(nodes) if net.parts[a] == "audience"]}
    shift = x - x0
    return {
        "opinion_shift": {a: float(shift[i]) for i, a in enumerate(nodes)},
        "final_opinion": {a: float(x[i]) for i, a in enumerate(nodes)},
        "group_shift": {g: {"mean": mean(shift[ix].tolist()), "mean_abs": mean(np.abs(shift[ix]).tolist())}
                        for g, ix in groups.items()},
        "polarisation": {
            "variance_initial": _var(x0), "variance_final": _var(x),
            "bimodality_initial": bimodality(x0), "bimodality_final": bimodality(x),
            "audience_variance_final": _var(x[groups["audience"]]) if groups["audience"] else None,
        },
        "consensus_time": consensus_t,
        "persuasion": {m: dict(sorted(row.items())) for m, row in sorted(persuasion.items())},
    }


def debate_metrics(log: RunLog, consensus_tol: float = 0.1) -> dict[str, Any]:
    """Per proposition: opinion shifts, polarisation, consensus time, who persuaded whom, the moves and
    the verdict; over the run: talk share (by extraversion too), move strength, and event counts."""
    net: _Network | None = None
    extraversion: dict[str, float] = {}
    updates: dict[str, list[Update]] = defaultdict(list)
    talk: dict[str, float] = defaultdict(float)
    moves: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    strength: dict[str, list[float]] = defaultdict(list)
    counts = {"messages": 0, "private_messages": 0, "interruptions": 0, "cut_off": 0, "applause": 0, "boos": 0,
              "left": 0, "rejoined": 0}
    verdicts: dict[str, dict[str, Any]] = {}
    for e in log.iter_raw():
        kind, d = e["kind"], e["data"]
        if kind == "agent.joined":
            extraversion[e["agent"]] = d["persona"].get("big_five", {}).get("extraversion", 0.5)
        elif kind == "debate.network":
            net = _Network.from_data(d)
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
    share = {a: talk[a] / total_talk if total_talk else None for a in sorted(talk)}
    by_trait: dict[str, float] = defaultdict(float)
    for a, v in talk.items():
        by_trait["extravert" if extraversion.get(a, 0.5) >= 0.5 else "introvert"] += v / total_talk if total_talk else 0.0
    props = {}
    for pid in net.initial:
        m = _proposition_metrics(net, pid, updates[pid], consensus_tol)
        m["moves"] = dict(sorted(moves[pid].items()))
        m["verdict"] = verdicts.get(pid)
        props[pid] = m
    return {
        "rule": net.rule,
        "network": net.graph,
        "participants": len(net.nodes),
        "propositions": props,
        "talk_share": share,
        "talk_share_by_extraversion": dict(sorted(by_trait.items())),
        "mean_strength_by_move": {k: mean(v) for k, v in sorted(strength.items())},
        **counts,
    }
