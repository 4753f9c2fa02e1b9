"""Typed beliefs: a scenario names what its agents may believe about each other (a TypedBelief subclass),
and a model brain's theory-of-mind node answers exactly that, schema-constrained like a decision."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import pytest
from openai_server import ScriptedServer
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents import Cast, Persona, TypedBelief
from simworld.agents.brain_config import BrainSettings

import simworld as sw
from simworld.decisions import DecisionRequest
from simworld.events import Payload


class Read(TypedBelief):
    """What a player believes about another player."""

    bankroll: float | None = Field(default=None, ge=0, description="their money in chips")
    style: Literal["tight", "loose"] | None = Field(default=None, description="tight or loose")


class Raise(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chips: float = Field(ge=0)


class Raised(Payload):
    """A player raises in front of the table."""

    kind = "table.raise"
    chips: float


class TableConfig(BrainSettings):
    rounds: int = 2


class Table(sw.Scenario):
    name = "table"
    Config = TableConfig
    events = (Raised,)
    config: TableConfig

    def setup(self, world: sw.World) -> None:
        cast = Cast(world, self.config, belief_model=Read)
        personas = [Persona(id=f"p{i}", name=f"P{i}") for i in range(3)]
        self.players = cast.add_all(personas, policy=lambda p: (lambda *a: Raise(chips=1.0), "one"))

    def processes(self, world: sw.World) -> list[Any]:
        def dealer() -> Any:
            room = [p.id for p in self.players]
            for _ in range(self.config.rounds):
                asks = [(p, DecisionRequest("table.raise", Raise, {"pot": 10})) for p in self.players]
                raises = yield world.decide_many(asks)
                for p, r in zip(self.players, raises):
                    world.emit("table.raise", {"chips": r.chips}, witnesses=room, agent=p.id)
                yield world.timeout(1)
        return [dealer()]


def responder(messages: list[dict[str, Any]]) -> str:
    user = messages[-1]["content"]
    if '"beliefs"' in user:
        others = re.search(r"Other people here: (.*?)\.\n", user)
        ids = others.group(1).split(", ") if others else []
        return json.dumps({"beliefs": [{"about": i, "bankroll": 40 + n, "style": "loose", "confidence": 0.8}
                                       for n, i in enumerate(ids)]
                           + [{"about": "ghost", "bankroll": 1, "style": None, "confidence": 0.5}]})
    return json.dumps({"chips": 5})


def test_the_theory_of_mind_node_forms_the_scenarios_typed_beliefs(tmp_path):
    with ScriptedServer(responder=responder) as srv:
        res = sw.run(Table, seed=1, out=tmp_path, overrides={
            "brain": "llm", "theory_of_mind": True, "memory": {"kind": "list"},
            "model": {"base_url": srv.base_url, "model": "m", "api_key_env": None, "cache": "off"}})
        tom = [b for b in srv.bodies if '"beliefs"' in b["messages"][-1]["content"]]
    assert tom, "the second round asks about the players seen raising in the first"
    schema = tom[0]["response_format"]["json_schema"]["schema"]
    item = schema["$defs"]["Read"] if "$defs" in schema else schema["properties"]["beliefs"]["items"]
    assert set(item["properties"]) == {"about", "confidence", "bankroll", "style"}
    assert '"style": tight or loose' in tom[0]["messages"][-1]["content"]
    log = sw.load_run(res.path)
    beliefs = [e for e in log.events(kind="belief.updated")]
    keys = {(e.agent, e.data["about"], e.data["key"]): e.data["value"] for e in beliefs}
    assert keys[("p0", "p1", "style")] == "loose" and keys[("p0", "p2", "bankroll")] == 41.0
    assert {k for _, _, k in keys} == {"bankroll", "style"}  # typed keys only, never free ones
    assert not any(about == "ghost" for _, about, _ in keys)  # a stranger is ignored, and said so
    failed = [e.data["reason"] for e in log.events(kind="model.failed")]
    assert failed and all("ghost" in r for r in failed)


def test_typed_belief_lists_its_keys_and_the_values_it_states():
    r = Read(about="p1", style="tight")
    assert Read.keys() == ["bankroll", "style"] and r.values() == {"style": "tight"}
    with pytest.raises(ValueError):
        Read(about="p1", style="reckless")
