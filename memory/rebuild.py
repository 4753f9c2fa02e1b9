"""Rebuild an agent's memory stream at any simulated time from the run log alone (the viewer uses this).

Observations are the events whose ``witnesses`` hold the agent, minus those its ``agent.perceived``
lines list as missed; their importance is recomputed by the same deterministic scorer (from the
persona in ``agent.joined`` and the memory config in the manifest or ``run.started``). Written memories
(reflections, plans, notes) come from ``memory.written``, and ``memory.retrieved`` replays last-access
times. Nothing is re-reflected: a rebuilt stream holds exactly the reflections the live one logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from simworld.memory.config import MemoryConfig
from simworld.memory.stream import MemoryStream
from simworld.memory.system import MemorySystem

from simworld.runlog import RunLog, load_run
from simworld.world import WorldEvent

_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


@dataclass
class _Traits:
    openness: float = 0.5
    conscientiousness: float = 0.5
    extraversion: float = 0.5
    agreeableness: float = 0.5
    neuroticism: float = 0.5


@dataclass
class PersonaView:
    """The parts of a logged persona that memory reads (memory does not import the agents package)."""

    id: str
    big_five: _Traits = field(default_factory=_Traits)
    roles: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_log(cls, data: dict[str, Any]) -> PersonaView:
        b5 = data.get("big_five") or {}
        return cls(data["id"], _Traits(**{t: float(b5[t]) for t in _TRAITS if t in b5}), dict(data.get("roles") or {}))


def run_memory_config(log: RunLog, run_config: dict[str, Any] | None = None) -> MemoryConfig:
    """The memory config a run used: the manifest's ``memory.config``, else the scenario config's
    ``memory`` block, else the defaults."""
    for raw in ((log.manifest.get("memory") or {}).get("config"), (run_config or {}).get("memory")):
        if isinstance(raw, dict):
            try:
                return MemoryConfig.model_validate(raw)
            except ValidationError:
                continue
    return MemoryConfig()


def perceived_event(e: dict[str, Any]) -> WorldEvent:
    """The event as witnesses perceived it: keys listed under ``hidden`` were withheld, and the analysis
    annotations (``hidden``, ``facts``, ``covert``) are never perceived."""
    data = e.get("data") or {}
    if "hidden" in data or "facts" in data or "covert" in data:
        hidden = set(data.get("hidden") or ())
        data = {k: v for k, v in data.items() if k not in ("hidden", "facts", "covert") and k not in hidden}
    return WorldEvent(e["seq"], float(e["t"]), e["kind"], e.get("agent"), data, tuple(e.get("causes") or ()))


def rebuild_memory(
    log: RunLog | str | os.PathLike[str],
    agent_id: str,
    t: float | None = None,
    config: MemoryConfig | None = None,
    system: MemorySystem | None = None,
) -> MemoryStream:
    """``agent_id``'s memory stream as it stood at simulated time ``t`` (default: the end of the run).

    The result is not bound to a world: retrieving from it logs nothing.
    """
    if not isinstance(log, RunLog):
        log = load_run(log)
    relevant: list[dict[str, Any]] = []
    missed: set[int] = set()
    persona: dict[str, Any] | None = None
    run_config: dict[str, Any] | None = None
    for e in log.iter_raw():
        if t is not None and e["t"] > t:
            break
        kind = e["kind"]
        if kind == "run.started":
            run_config = (e.get("data") or {}).get("config")
        elif e.get("agent") == agent_id and kind.startswith(("agent.joined", "agent.perceived", "memory.")):
            if kind == "agent.joined":
                persona = e["data"]["persona"]
            elif kind == "agent.perceived":
                missed.update(e["data"].get("missed", ()))
            elif kind in ("memory.written", "memory.retrieved"):
                relevant.append(e)
            continue
        if agent_id in (e.get("witnesses") or ()):
            relevant.append(e)
    if persona is None:
        raise KeyError(f"agent {agent_id!r} never joined this run")
    cfg = config or run_memory_config(log, run_config)
    cfg = cfg.model_copy(update={"reflection": cfg.reflection.model_copy(update={"enabled": False})})
    stream = MemoryStream(cfg, persona=PersonaView.from_log(persona), owner=agent_id,
                          system=system or MemorySystem(cfg))
    for e in relevant:
        kind = e["kind"]
        if kind == "memory.written" and e.get("agent") == agent_id:
            d = e["data"]
            stream.restore(d["id"], d["kind"], d["text"], d["importance"], e["t"], d.get("evidence", ()),
                           d.get("metadata"))
        elif kind == "memory.retrieved" and e.get("agent") == agent_id:
            stream.touch(e["data"]["ids"], float(e["t"]))
        elif e["seq"] not in missed:
            stream.observe(perceived_event(e))
    return stream
