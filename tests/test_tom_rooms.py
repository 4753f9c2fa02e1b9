"""The tom_rooms scenario: typed events with witnesses and facts, personas that lie as they lean,
model brains, and the same log for the same seed."""

from __future__ import annotations

import json
import re

from openai_server import ScriptedServer
from simworld.analysis.tom import Knowledge
from simworld.scenarios.tom_rooms import EVENTS, HALLWAY, TomRoomsScenario

import simworld as sw

SMALL = {"steps": 40, "n_agents": 4, "rooms": 2, "objects": 2}


def run(tmp_path, seed=0, name=None, **overrides):
    return sw.run(TomRoomsScenario, seed=seed, out=tmp_path, run_id=name, overrides={**SMALL, **overrides})


def test_the_same_seed_gives_the_same_log_and_every_kind_is_declared(tmp_path):
    a = run(tmp_path, seed=4, name="a")
    b = run(tmp_path, seed=4, name="b")
    c = run(tmp_path, seed=5, name="c")
    assert (a.path / "events.jsonl").read_bytes() == (b.path / "events.jsonl").read_bytes()
    assert (a.path / "events.jsonl").read_bytes() != (c.path / "events.jsonl").read_bytes()
    kinds = {e.kind for e in sw.load_run(a.path).events() if e.kind.startswith("tom.")}
    assert kinds <= {m.kind for m in EVENTS}
    assert {"tom.scene", "tom.placed", "tom.entered", "tom.ended"} <= kinds


def test_witnesses_are_everyone_at_the_place_and_watchers_are_covert(tmp_path):
    """Replaying the comings and goings gives who is where; every move is witnessed by exactly those
    in its room, plus the room's watchers listed as covert."""
    result = run(tmp_path, seed=1, steps=80, strategy="random")
    place: dict[str, str] = {}
    watching: dict[str, str | None] = {}
    covert_moves = 0
    for e in sw.load_run(result.path).events():
        d = e.data
        if e.kind == "tom.scene":
            place = dict.fromkeys(d["present"], HALLWAY)
            watching = dict.fromkeys(d["present"])
        elif e.kind == "tom.entered":
            place[d["who"]] = d["room"]
            watching[d["who"]] = None
            assert sorted(d["present"]) == sorted(a for a, p in place.items() if p == d["room"])
        elif e.kind == "tom.left":
            place[d["who"]] = HALLWAY
        elif e.kind == "tom.watching":
            watching[d["who"]] = d["room"]
            assert e.witnesses == [d["who"]]
        elif e.kind == "tom.stopped_watching":
            watching[d["who"]] = None
        elif e.kind == "tom.moved":
            here = {a for a, p in place.items() if p == d["room"]}
            spies = {a for a, w in watching.items() if w == d["room"]}
            assert set(e.witnesses) == here | spies
            assert set(d.get("covert") or ()) == spies
            assert d["facts"] == {f"{d['object']}.container": d["to"]}
            covert_moves += bool(spies)
    assert covert_moves > 0


def test_tells_carry_claims_and_reach_only_their_audience(tmp_path):
    log = sw.load_run(run(tmp_path, seed=2).path)
    tells = [e for e in log.events(kind="message.sent") if e.data.get("claims")]
    assert tells
    for e in tells:
        d = e.data
        assert set(e.witnesses) == {d["sender"], *d["audience"]}
        if d["private"]:
            assert len(d["audience"]) == 1
        (fact, claim), = d["claims"].items()
        assert fact.endswith(".container") and claim in d["text"]


def test_less_agreeable_less_conscientious_personas_lie_more(tmp_path):
    """Lie rate (a claim unlike the teller's own belief) of a population low on agreeableness and
    conscientiousness (means 0.2) against one high on both (0.8), over 6 seeds each. Expected rates from
    the honesty rule are about 0.6 and 0.05; the test asks for a gap of at least 0.3."""
    def rate(mean: float) -> float:
        lies = tells = 0.0
        for seed in range(6):
            m = run(tmp_path, seed=seed, steps=60, **{"population.big_five.agreeableness.mean": mean,
                                                      "population.big_five.conscientiousness.mean": mean}).metrics
            n = m["tells_public"] + m["tells_private"] - m["uninformed_tells"]
            lies += (m["lie_rate"] or 0.0) * n
            tells += n
        return lies / tells

    low, high = rate(0.2), rate(0.8)
    assert low - high >= 0.3, (low, high)


def test_honest_agents_never_lie_and_deceivers_always_do(tmp_path):
    honest = run(tmp_path, seed=3, strategy="honest").metrics
    liars = run(tmp_path, seed=3, strategy="deceiver").metrics
    assert honest["lie_rate"] == 0.0
    assert liars["lie_rate"] == 1.0


def test_metrics_count_false_beliefs_and_score_logged_beliefs(tmp_path):
    result = run(tmp_path, seed=6, steps=60)
    m = result.metrics
    k = Knowledge(result.path)
    assert m["agents"] == 4 and m["objects"] == 4 and m["steps"] == 60
    false_first = [fb for fb in k.false_beliefs(max_order=1) if fb.fact.endswith(".container")]
    assert m["false_beliefs"]["1"] == len(false_first)
    assert 0.0 <= m["knowing_share"] <= 1.0
    assert set(m["logged_belief_accuracy"]) <= {"1", "2"}


def test_a_bad_strategy_is_refused_before_anything_is_written(tmp_path):
    import pytest

    from simworld.errors import BadInput

    with pytest.raises(BadInput, match="unknown strategy 'gossip'"):
        run(tmp_path, strategy="gossip")
    assert not any(tmp_path.iterdir())


def responder(messages):
    """Acts from the context in the prompt: moves the first object of its room to the last container, or
    enters the first room; agent000 asks for the impossible (an object that is not there), which the room
    refuses."""
    full = "\n".join(str(m.get("content", "")) for m in messages)
    seen = re.search(r"What you see now: (\{.*\})", full)
    ctx = json.loads(seen.group(1)) if seen else {}
    if ctx.get("you") == "agent000":
        return json.dumps({"act": "move", "object": "nothing", "to": "nowhere"})
    if "move" in ctx.get("allowed", []) and ctx.get("objects"):
        return json.dumps({"act": "move", "object": ctx["objects"][0], "to": ctx["containers"][-1]})
    return json.dumps({"act": "enter", "to": (ctx.get("rooms") or ["kitchen"])[0]})


def test_model_brains_act_through_the_same_rooms_and_the_labels_still_hold(tmp_path):
    with ScriptedServer(responder) as srv:
        result = run(tmp_path, seed=1, steps=20, brain="llm", model={
            "base_url": srv.base_url, "model": "scripted", "api_key_env": None,
            "cache_path": str(tmp_path / "cache.sqlite")})
        assert srv.requests > 0
    log = sw.load_run(result.path)
    moves = list(log.events(kind="tom.moved"))
    refused = [e for e in log.events(kind="tom.waited") if e.data.get("reason")]
    assert moves and refused
    assert all(e.data["reason"].startswith("move:") for e in refused)
    k = Knowledge(log)
    for e in moves:  # a model's move is a fact like any other: its mover believes it
        assert k.belief((e.data["who"],), f"{e.data['object']}.container", e.t) == e.data["to"]


def test_a_persona_file_sets_honesty_and_is_checked_before_the_run(tmp_path, write):
    import pytest

    from simworld.errors import BadInput

    people = "".join(f"  - {{id: p{i}, name: P{i}, roles: {{tom: {{honesty: 0.0}}}}}}\n" for i in range(3))
    liars = write("liars.yaml", "personas:\n" + people)
    m = run(tmp_path, seed=2, steps=60, n_agents=3, personas=str(liars)).metrics
    assert m["lie_rate"] == 1.0 and m["agents"] == 3
    bad = write("bad.yaml", "personas:\n  - {id: p0, name: P0, roles: {tom: {honesty: 2}}}\n"
                            "  - {id: p1, name: P1}\n")
    with pytest.raises(BadInput, match=r"roles\.tom\.honesty"):
        run(tmp_path, personas=str(bad), n_agents=2)
