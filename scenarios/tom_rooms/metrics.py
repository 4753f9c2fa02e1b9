"""tom_rooms metrics, computed from the run log alone (through the knowledge engine)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pydantic import ValidationError
from simworld.agents.persona import Persona
from simworld.scenarios.tom_rooms.roles import honesty

from simworld.runlog import RunLog
from simworld.stats import mean, share
from simworld.tom import Knowledge, band


def tom_rooms_metrics(log: RunLog) -> dict[str, Any]:
    """What happened (moves, looks, tells in public and private), how often a tell was a lie (a claim
    unlike the teller's own belief) or a mistake (the teller's belief, but false), lies by honesty band,
    the false beliefs at the end by order, the share of agents who know where each object is, and how
    right the beliefs the agents logged were (order 1: against reality; order 2: against what the other
    agent believed), all at the time they were held."""
    k = Knowledge(log)
    counts: Counter[str] = Counter()
    tells: list[tuple[str, str, Any, float]] = []  # teller, fact, claim, t
    honest: dict[str, float] = {}
    logged: dict[int, list[float]] = defaultdict(list)
    steps = 0
    for e in log.iter_raw():
        kind, d = e["kind"], e["data"]
        if kind.startswith("tom."):
            counts[kind] += 1
        if kind == "tom.ended":
            steps = int(d["steps"])
        elif kind == "agent.joined":
            try:
                honest[e["agent"]] = honesty(Persona.model_validate(d["persona"]))
            except ValidationError:
                continue
        elif kind == "message.sent" and d.get("claims"):
            counts["tells_private" if d.get("private") else "tells_public"] += 1
            for fact, claim in d["claims"].items():
                tells.append((d["sender"], fact, claim, float(e["t"])))
        elif kind == "belief.updated" and e["agent"] in honest:
            about, key, t = d["about"], d["key"], float(e["t"])
            if about in k.names and key in k.facts:
                logged[2].append(float(d["value"] == k.belief((about,), key, t)))
            elif f"{about}.{key}" in k.facts:
                logged[1].append(float(d["value"] == k.reality(f"{about}.{key}", t)))
    lies: dict[str, list[float]] = defaultdict(list)
    mistaken = uninformed = 0
    for teller, fact, claim, t in tells:
        own = k.belief((teller,), fact, t)
        if own is None:
            uninformed += 1
            continue
        lies[band(honest.get(teller, 0.75))].append(float(claim != own))
        mistaken += int(claim == own and claim != k.reality(fact, t))
    objects = [f for f in k.facts if f.endswith(".container")]
    false = Counter(len(fb.chain) for fb in k.false_beliefs(max_order=2) if fb.fact.endswith(".container"))
    agents = [a for a in k.agents if a in honest]
    knowing = [share(sum(k.knows(a, f) for a in agents), len(agents)) for f in objects]
    all_lies = [x for v in lies.values() for x in v]
    return {
        "agents": len(agents),
        "objects": len(objects),
        "steps": steps,
        "moves": counts["tom.moved"],
        "looks": counts["tom.looked"],
        "entries": counts["tom.entered"],
        "exits": counts["tom.left"],
        "watches": counts["tom.watching"],
        "tells_public": counts["tells_public"],
        "tells_private": counts["tells_private"],
        "lie_rate": mean(all_lies),
        "lie_rate_by_honesty": {b: mean(v) for b, v in sorted(lies.items())},
        "mistaken_tells": mistaken,
        "uninformed_tells": uninformed,
        "false_beliefs": {str(o): false.get(o, 0) for o in (1, 2)},
        "knowing_share": mean(knowing),
        "logged_belief_accuracy": {str(o): mean(v) for o, v in sorted(logged.items())},
    }
