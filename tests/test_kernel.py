"""The World: emission and perception, decisions (immediate and batched), streams, beliefs."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel
from simworld.agents import Agent, Persona, RuleBrain
from simworld.agents.brains import BaseBrain

import simworld as sw
from simworld.decisions import DecisionRequest, InvalidAction
from simworld.rng import Streams
from simworld.runlog import RunWriter, load_run
from simworld.world import World


class Pick(BaseModel):
    n: int


def const_policy(value: int):
    def policy(persona, obs, memories, beliefs, rng):
        return Pick(n=value)

    return policy


class RecordingBatchBrain(BaseBrain):
    """A batched brain (as model brains are): records every batch it is asked to resolve."""

    name = "batch"
    batched = True

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def decide(self, agent, request):  # pragma: no cover - batched brains are never asked one by one
        raise AssertionError("a batched brain must be resolved through decide_batch")

    def decide_batch(self, items):
        self.batches.append([agent.id for agent, _ in items])
        return [{"n": int(req.context["n"])} for _, req in items]


def make_world(tmp_path, seed: int = 0) -> World:
    return World(seed, RunWriter(tmp_path / "run", {"run_id": "t", "scenario": "t"}))


def agent(world: World, aid: str, brain=None, **persona) -> Agent:
    a = Agent(Persona(id=aid, name=aid.title(), **persona), brain or RuleBrain(const_policy(1), "one"))
    world.add_agent(a)
    return a


def finish(world: World):
    world.writer.close("completed")
    return load_run(world.writer.path)


def test_emit_reaches_only_witnesses_in_order_and_hides_hidden_keys(tmp_path):
    world = make_world(tmp_path)
    a, b, c = (agent(world, x) for x in ("a", "b", "c"))
    s1 = world.emit("x.secret", {"v": 1, "truth": 9}, witnesses=["a", "b"], hidden=("truth",))
    s2 = world.emit("x.public", {"v": 2}, witnesses=["c", "a"])
    assert [e.seq for e in a.memory] == [s1, s2]
    assert [e.seq for e in b.memory] == [s1]
    assert [e.seq for e in c.memory] == [s2]
    assert a.memory.recent(2)[0].data == {"v": 1}  # witnesses do not perceive hidden keys
    log = finish(world)
    secret = next(log.events(kind="x.secret"))
    assert secret.data == {"v": 1, "truth": 9, "hidden": ["truth"]}  # ... but the log keeps the truth
    assert secret.witnesses == ["a", "b"]


def test_attention_limit_drops_and_logs_what_was_missed(tmp_path):
    world = make_world(tmp_path)
    busy = agent(world, "busy", attention=2)
    seqs = [world.emit("x.tick", {"i": i}, witnesses=["busy"]) for i in range(4)]
    assert [e.seq for e in busy.memory] == seqs[:2]
    log = finish(world)
    missed = [e.data["missed"][0] for e in log.events(kind="agent.perceived", agent="busy")]
    assert missed == seqs[2:]


def test_rule_decisions_resolve_immediately_and_processes_resume_in_request_order(tmp_path):
    world = make_world(tmp_path)
    order: list[tuple[str, float, int]] = []
    agents = [agent(world, f"r{i}", RuleBrain(const_policy(i), "const")) for i in range(3)]

    def proc(a: Agent):
        action = yield a.decide(DecisionRequest("t.pick", Pick))
        order.append((a.id, world.now, action.n))

    for a in agents:
        world.process(proc(a))
    world.run()
    assert order == [("r0", 0, 0), ("r1", 0, 1), ("r2", 0, 2)]
    assert world.stats["decisions"] == 3 and world.stats["batches"] == 0


def test_batched_decisions_pending_at_one_instant_resolve_together(tmp_path):
    world = make_world(tmp_path)
    brain = RecordingBatchBrain()
    models = [agent(world, f"m{i}", brain) for i in range(4)]
    rule = agent(world, "rule", RuleBrain(const_policy(7), "seven"))
    resumed: list[tuple[str, float, int]] = []

    def proc(a: Agent, delay: float, n: int):
        yield world.timeout(delay)
        action = yield a.decide(DecisionRequest("t.pick", Pick, {"n": n}))
        resumed.append((a.id, world.now, action.n))

    # m0, m1, m2 and the rule agent ask at t=1; m3 asks at t=2.
    for i, a in enumerate(models):
        world.process(proc(a, 1.0 if i < 3 else 2.0, 10 + i))
    world.process(proc(rule, 1.0, 0))
    world.run()
    assert brain.batches == [["m0", "m1", "m2"], ["m3"]]
    # the rule brain answered at once, so its process resumed first; simulated time did not move
    assert resumed == [("rule", 1, 7), ("m0", 1, 10), ("m1", 1, 11), ("m2", 1, 12), ("m3", 2, 13)]
    log = finish(world)
    kinds = [e.kind for e in log.events() if e.kind in ("decision.requested", "agent.acted")]
    assert kinds.count("decision.requested") == 4  # logged for deferred (batched) decisions only
    assert kinds.count("agent.acted") == 5


def test_decide_many_returns_actions_in_order_across_brains(tmp_path):
    world = make_world(tmp_path)
    brain = RecordingBatchBrain()
    pairs = []
    for i in range(5):
        a = agent(world, f"a{i}", brain if i % 2 else RuleBrain(const_policy(100 + i), "c"))
        pairs.append((a, DecisionRequest("t.pick", Pick, {"n": 200 + i})))
    got = []

    def proc():
        actions = yield world.decide_many(pairs)
        got.extend(x.n for x in actions)

    world.process(proc())
    world.run()
    assert got == [100, 201, 102, 203, 104]
    assert brain.batches == [["a1", "a3"]]


def test_acted_event_records_decision_action_and_causes(tmp_path):
    world = make_world(tmp_path)
    a = agent(world, "a", RuleBrain(const_policy(3), "three"))
    cause = world.emit("t.prompt", {}, witnesses=["a"])

    def proc():
        yield a.decide(DecisionRequest("t.pick", Pick, causes=[cause]))

    world.process(proc())
    world.run()
    acted = next(finish(world).events(kind="agent.acted"))
    assert acted.agent == "a" and acted.causes == [cause]
    assert acted.data == {"decision": "t.pick", "action": {"n": 3}, "brain": "rule"}


def test_invalid_action_is_an_error_naming_the_decision(tmp_path):
    world = make_world(tmp_path)
    a = agent(world, "a", RuleBrain(lambda *args: {"n": "many"}, "broken"))

    def proc():
        yield a.decide(DecisionRequest("t.pick", Pick))

    world.process(proc())
    with pytest.raises(InvalidAction, match="t.pick"):
        world.run()


def test_named_streams_are_independent_of_creation_order():
    s1, s2 = Streams(5), Streams(5)
    a1 = s1("agent:alice").random(3)
    b1 = s1("agent:bob").random(3)
    b2 = s2("agent:bob").random(3)
    a2 = s2("agent:alice").random(3)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)
    assert not np.array_equal(a1, b1)
    assert not np.array_equal(Streams(6)("agent:alice").random(3), a1)


def test_beliefs_are_logged_with_about_key_value_confidence(tmp_path):
    world = make_world(tmp_path)
    a = agent(world, "a")
    a.beliefs.update("b", "budget", 1200.0, confidence=0.4, causes=(0,))
    a.beliefs.update("b", "budget", 1500.0, confidence=1.7)
    assert a.beliefs.get("b", "budget") == 1500.0
    assert a.beliefs.belief("b", "budget").confidence == 1.0  # clipped to [0, 1]
    events = list(finish(world).events(kind="belief.updated", agent="a"))
    assert [(e.data["about"], e.data["value"], e.data["confidence"]) for e in events] == [
        ("b", 1200.0, 0.4), ("b", 1500.0, 1.0)
    ]
    assert events[0].causes == [0]


def test_failing_scenario_keeps_its_log_and_says_failed(tmp_path):
    class Boom(sw.Scenario):
        name = "boom"

        def processes(self, world):
            def proc():
                world.emit("boom.tick", {"i": 1})
                yield world.timeout(1)
                raise RuntimeError("kaput")

            return [proc()]

    with pytest.raises(sw.RunFailed, match="kaput"):
        sw.run(Boom, out=tmp_path, run_id="boom")
    log = load_run(tmp_path / "boom")
    assert log.status == "failed"
    assert "kaput" in log.manifest["reason"]
    kinds = [e.kind for e in log.events()]
    assert kinds == ["run.started", "boom.tick", "run.finished"]
