"""The memory stream: intake, importance, retrieval scoring, reflection, capacity, persona overrides."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from simworld.agents import Agent, Persona, RuleBrain
from simworld.memory import (
    HashingEmbedder,
    ListMemory,
    MemoryConfig,
    MemoryStream,
    MemorySystem,
    ScoringWeights,
    scoring,
)
from simworld.memory.config import CapacityConfig, ImportanceConfig, ReflectionConfig
from simworld.scenarios.auction.config import auction_memory

import simworld as sw
from simworld.runlog import RunWriter, load_run
from simworld.world import World, WorldEvent


class CountingEmbedder(HashingEmbedder):
    """The real hashing embedder, counting how often and how much it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(64)
        self.calls: list[int] = []

    def embed(self, texts):
        self.calls.append(len(texts))
        return super().embed(texts)


def make_world(tmp_path) -> World:
    return World(0, RunWriter(tmp_path / "run", {"run_id": "t", "scenario": "t"}))


def finish(world: World):
    world.writer.close("completed")
    return load_run(world.writer.path)


def event(seq: int, kind: str, data: dict | None = None, t: float = 0.0, agent: str | None = None) -> WorldEvent:
    return WorldEvent(seq, t, kind, agent, data or {})


def no_reflection(cfg: MemoryConfig | None = None) -> MemoryConfig:
    cfg = cfg or MemoryConfig()
    return cfg.model_copy(update={"reflection": ReflectionConfig(enabled=False)})


def test_observing_embeds_and_logs_nothing_until_the_first_retrieval(tmp_path):
    world = make_world(tmp_path)
    emb = CountingEmbedder()
    system = MemorySystem(no_reflection(), embedder=emb).bind(world)
    alice = Agent(Persona(id="alice", name="Alice"), RuleBrain(lambda *a: {}, "none"), memory=system.stream(None))
    world.add_agent(alice)
    seqs = [world.emit("x.tick", {"i": i}, witnesses=["alice"]) for i in range(50)]
    assert emb.calls == []
    assert not any(k.startswith("memory.") for k in world.writer.counts)
    assert len(alice.memory) == 50
    assert [e.seq for e in alice.memory.recent(2)] == seqs[-2:]

    alice.memory.retrieve("tick 3", k=3)
    assert emb.calls == [50, 1]  # every pending memory in one batch, then the query
    world.emit("x.tick", {"i": 50}, witnesses=["alice"])
    alice.memory.retrieve("tick 4", k=3)
    assert emb.calls == [50, 1, 1, 1]  # only the new memory, then the query: earlier vectors are kept
    assert world.writer.counts["memory.retrieved"] == 2


def test_a_broadcast_is_rendered_and_embedded_once_for_all_witnesses(tmp_path):
    world = make_world(tmp_path)
    emb = CountingEmbedder()
    system = MemorySystem(no_reflection(), embedder=emb).bind(world)
    agents = [Agent(Persona(id=f"a{i}", name="A"), RuleBrain(lambda *a: {}, "none"),
                    memory=system.stream(Persona(id=f"a{i}", name="A"))) for i in range(20)]
    for a in agents:
        world.add_agent(a)
    for i in range(10):
        world.emit("x.news", {"i": i}, witnesses=[a.id for a in agents])
    system.retrieve_many([(a.memory, "news 3") for a in agents], k=2)
    assert emb.calls == [10, 1]


def test_importance_follows_kind_actor_and_persona():
    cfg = auction_memory()
    calm = MemoryStream(no_reflection(cfg), persona=Persona(id="calm", name="C", big_five={"neuroticism": 0.1}))
    nervy = MemoryStream(no_reflection(cfg), persona=Persona(id="nervy", name="N", big_five={"neuroticism": 0.9}))
    for s in (calm, nervy):
        s.observe(event(0, "auction.ask", {"ask": 10.0}))
        s.observe(event(1, "auction.sold", {"price": 10.0}, agent="someone"))
        s.observe(event(2, "auction.sold", {"price": 10.0}, agent=s.owner))
        s.observe(event(3, "auction.rejected", {"amount": 10.0}, agent=None))
    ask, sold_other, sold_mine, rejected = (r.importance for r in calm.records())
    assert ask == 1.0 and sold_other == 6.0 and sold_mine == 8.0  # table, + self bonus 2
    assert rejected == pytest.approx(7.0 * 0.6)  # negative kinds scale with 0.5 + neuroticism
    assert nervy.records()[3].importance == pytest.approx(7.0 * 1.4)
    assert nervy.records()[0].importance == 1.0  # neutral kinds do not


def test_unknown_kinds_score_by_keywords_and_prefix_rules():
    cfg = MemoryConfig(importance=ImportanceConfig(kinds={"market.*": 5.0}))
    s = MemoryStream(no_reflection(cfg), persona=Persona(id="p", name="P"))
    s.observe(event(0, "market.tick"))
    s.observe(event(1, "shop.order_failed"))
    s.observe(event(2, "shop.item_seen"))
    assert [r.importance for r in s.records()] == [5.0, 2.0 + 3.0, 2.0]


def test_surprise_raises_the_importance_of_an_unusual_value():
    s = MemoryStream(no_reflection(auction_memory()), persona=Persona(id="p", name="P"))
    for i, price in enumerate([100.0, 110.0, 105.0, 160.0]):
        s.observe(event(i, "auction.sold", {"price": price}, agent="x"))
    imps = [r.importance for r in s.records()]
    assert imps[:2] == [6.0, 6.0]  # no expectation yet from fewer than two earlier values
    assert imps[2] == 6.0  # exactly the running mean: no surprise
    assert imps[3] == pytest.approx(6.0 + 3.0)  # 11 standard deviations away, capped at 3 (openness 0.5)


def test_recency_decays_by_the_configured_factor_per_simulated_hour():
    last = np.array([0.0, 3600.0, 7200.0])
    got = scoring.recency(last, now=7200.0, decay=0.99, unit=3600.0)
    assert got == pytest.approx([0.99**2, 0.99, 1.0])


def test_retrieval_combines_normalised_parts_with_the_weights():
    cfg = MemoryConfig(importance=ImportanceConfig(kinds={"x.a": 2.0, "x.b": 9.0, "x.c": 1.0, "x.d": 4.0}))
    s = MemoryStream(no_reflection(cfg), persona=Persona(id="p", name="P"))
    texts = ["the red house sold for a high price", "lunch was a sandwich", "a blue car drove past",
             "the red house opened for bidding"]
    for i, (kind, text) in enumerate(zip(["x.a", "x.b", "x.c", "x.d"], texts)):
        s.observe(event(i, kind, {"what": text}, t=600.0 * i))
    out = s.retrieve("red house", k=4, now=3600.0)
    assert [r.total for r in out] == sorted((r.total for r in out), reverse=True)
    for r in out:
        assert 0.0 <= min(r.recency, r.importance, r.relevance) and max(r.recency, r.importance, r.relevance) <= 1.0
        assert r.total == pytest.approx(0.5 * r.recency + 3.0 * r.importance + 2.0 * r.relevance, abs=1e-5)
    by_id = {r.id: r for r in out}
    assert by_id["e1"].importance == 1.0 and by_id["e2"].importance == 0.0  # min-max over the candidates
    assert by_id["e3"].recency == 1.0 and by_id["e0"].recency == 0.0
    assert by_id["e0"].relevance > by_id["e1"].relevance and by_id["e3"].relevance > by_id["e2"].relevance

    w = ScoringWeights(recency=0, importance=0, relevance=1)
    assert s.retrieve("red house sold price", k=1, weights=w)[0].id == "e0"
    w = ScoringWeights(recency=0, importance=1, relevance=0)
    assert s.retrieve("red house", k=1, weights=w)[0].id == "e1"


def test_retrieval_marks_memories_accessed_and_logs_the_score_parts(tmp_path):
    world = make_world(tmp_path)
    system = MemorySystem(no_reflection()).bind(world)
    bob = Agent(Persona(id="bob", name="Bob"), RuleBrain(lambda *a: {}, "none"), memory=system.stream(None))
    world.add_agent(bob)

    offers: list[int] = []

    def proc():
        for i in range(5):
            offers.append(world.emit("x.offer", {"item": f"lamp{i}", "price": 10.0 + i}, witnesses=["bob"]))
            yield world.timeout(100.0)
        got = bob.memory.retrieve("offer lamp3", k=2, causes=[3])
        assert got[0].record.last_access == 500.0
        assert bob.memory.get(got[0].id).last_access == 500.0

    world.process(proc())
    world.run()
    log = finish(world)
    (line,) = list(log.events(kind="memory.retrieved"))
    assert line.agent == "bob" and line.t == 500.0 and line.causes == [3]
    assert line.data["query"] == "offer lamp3" and len(line.data["ids"]) == 2
    assert set(line.data["parts"]) == {"recency", "importance", "relevance", "total"}
    assert line.data["weights"] == {"recency": 0.5, "importance": 3.0, "relevance": 2.0}
    assert line.data["ids"][0] == f"e{offers[3]}"  # the lamp3 offer: most relevant, recent enough


def test_retrieval_without_a_query_ranks_by_recency_and_importance_only():
    s = MemoryStream(no_reflection(auction_memory()), persona=Persona(id="p", name="P"))
    s.observe(event(0, "auction.sold", {"price": 1.0}, t=0.0, agent="x"))
    s.observe(event(1, "auction.ask", {"ask": 1.0}, t=10.0))
    out = s.retrieve(None, k=2)
    assert [r.id for r in out] == ["e0", "e1"] and all(r.relevance == 0.0 for r in out)


def test_retrieval_can_be_restricted_to_memory_kinds():
    s = MemoryStream(no_reflection(), persona=Persona(id="p", name="P"))
    s.observe(event(0, "x.seen", {"what": "a plan to bid"}))
    s.write("plan", "bid on the red house", importance=5.0)
    assert [r.record.kind for r in s.retrieve("bid", k=5, kinds=["plan"])] == ["plan"]
    assert [r.record.kind for r in s.retrieve("bid", k=5, kinds=["observation"])] == ["observation"]


def test_reflection_triggers_at_the_threshold_with_evidence_links(tmp_path):
    world = make_world(tmp_path)
    cfg = MemoryConfig(importance=ImportanceConfig(kinds={"x.big": 9.0, "x.small": 1.0}),
                       reflection=ReflectionConfig(threshold=20.0, evidence=2))
    system = MemorySystem(cfg).bind(world)
    carol = Agent(Persona(id="carol", name="Carol"), RuleBrain(lambda *a: {}, "none"), memory=system.stream(None))
    world.add_agent(carol)
    seqs = [world.emit(kind, {"n": i}, witnesses=["carol"])
            for i, kind in enumerate(["x.small", "x.big", "x.small", "x.big", "x.small"])]
    records = carol.memory.records()
    refl = [r for r in records if r.kind == "reflection"]
    assert [r.id for r in refl] == ["r0"]  # 1 + 9 + 1 + 9 reached 20 at the fourth observation
    assert [r.id for r in records].index("r0") == 4  # right after the observation that crossed it
    assert refl[0].evidence == (f"e{seqs[1]}", f"e{seqs[3]}")  # the two most important
    assert refl[0].importance == 9.0 and "x.big (2)" in refl[0].text and "x.small (2)" in refl[0].text
    log = finish(world)
    (written,) = list(log.events(kind="memory.written"))
    assert written.agent == "carol" and written.causes == [seqs[3]]
    assert written.data["id"] == "r0" and written.data["evidence"] == list(refl[0].evidence)


def test_capacity_forgets_unimportant_memories_and_promotes_important_ones():
    cfg = MemoryConfig(importance=ImportanceConfig(kinds={"x.big": 8.0, "x.small": 1.0}),
                       reflection=ReflectionConfig(enabled=False),
                       capacity=CapacityConfig(short_term=2, promote_importance=5.0))
    s = MemoryStream(cfg, persona=Persona(id="p", name="P"))
    for i, kind in enumerate(["x.small", "x.big", "x.small", "x.small", "x.small"]):
        s.observe(event(i, kind, t=float(i)))
    forgotten = [r.id for r in s.records(include_forgotten=True) if r.forgotten]
    assert forgotten == ["e0", "e2"]  # left short-term memory unimportant; e1 was promoted
    assert [r.id for r in s.records()] == ["e1", "e3", "e4"]
    assert {r.id for r in s.retrieve("x", k=10)} == {"e1", "e3", "e4"}


def test_capacity_is_off_by_default():
    s = MemoryStream(no_reflection(), persona=Persona(id="p", name="P"))
    for i in range(300):
        s.observe(event(i, "x.small"))
    assert len(s.records()) == 300


def test_persona_memory_role_overrides_weights_threshold_and_sensitivity():
    persona = Persona(id="p", name="P", roles={"memory": {"weights": {"relevance": 7.0}, "decay": 0.5,
                                                           "reflection_threshold": 12.0, "sensitivity": 2.0}})
    s = MemorySystem(auction_memory()).stream(persona)
    assert s.config.weights == ScoringWeights(recency=0.5, importance=3.0, relevance=7.0)
    assert s.config.decay == 0.5 and s.config.reflection.threshold == 12.0
    s.observe(event(0, "auction.ask"))
    assert s.records()[0].importance == 2.0


def test_a_bad_persona_memory_role_is_reported_with_its_field():
    persona = Persona(id="p", name="P", roles={"memory": {"weights": {"relevance": -1}}})
    with pytest.raises(sw.BadInput, match="roles.memory"):
        MemorySystem().stream(persona)


def test_written_memories_get_stable_ids_and_are_logged(tmp_path):
    world = make_world(tmp_path)
    system = MemorySystem(no_reflection()).bind(world)
    dan = Agent(Persona(id="dan", name="Dan"), RuleBrain(lambda *a: {}, "none"), memory=system.stream(None))
    world.add_agent(dan)
    plan = dan.memory.write("plan", "bid up to 400k on house02", evidence=["e1"])
    note = dan.memory.write("note", "the auctioneer is fast")
    plan2 = dan.memory.write("plan", "wait for the Dutch clock")
    assert (plan.id, note.id, plan2.id) == ("p0", "n0", "p1")
    assert plan.importance == 5.0 and note.importance == 4.0  # the config's defaults for written kinds
    log = finish(world)
    assert [e.data["id"] for e in log.events(kind="memory.written", agent="dan")] == ["p0", "n0", "p1"]


def test_batched_retrieval_returns_what_one_by_one_retrieval_returns(tmp_path):
    def build(tmp):
        world = make_world(tmp)
        system = MemorySystem(no_reflection(auction_memory())).bind(world)
        streams = []
        for i in range(30):
            p = Persona(id=f"b{i}", name="B")
            a = Agent(p, RuleBrain(lambda *a: {}, "none"), memory=system.stream(p))
            world.add_agent(a)
            streams.append(a.memory)
        for j in range(40):
            world.emit("auction.bid", {"bidder": f"b{j % 30}", "amount": 1000.0 + j}, agent=f"b{j % 30}",
                       witnesses=[s.owner for s in streams if (j + int(s.owner[1:])) % 3])
        return world, system, streams

    w1, _, s1 = build(tmp_path / "one")
    w2, sys2, s2 = build(tmp_path / "batch")
    queries = [f"bid by b{i % 7}" if i % 11 else None for i in range(30)]  # some ask without a query
    s1.append(MemoryStream(no_reflection(), owner="new"))  # and one has no memories yet
    s2.append(MemoryStream(no_reflection(), owner="new"))
    queries.append("anything")
    one = [s.retrieve(q, k=3) for s, q in zip(s1, queries)]
    many = sys2.retrieve_many(list(zip(s2, queries)), k=3)
    assert [[(r.id, r.total) for r in rs] for rs in one] == [[(r.id, r.total) for r in rs] for rs in many]
    w1.writer.close("completed")
    w2.writer.close("completed")
    lines1 = (w1.writer.path / "events.jsonl").read_bytes()
    lines2 = (w2.writer.path / "events.jsonl").read_bytes()
    assert lines1 == lines2


def test_config_kind_list_gives_agents_the_plain_list_memory():
    assert isinstance(MemorySystem(MemoryConfig(kind="list")).stream(None), ListMemory)


def test_an_agent_without_a_memory_gets_a_stream_that_logs_to_its_world(tmp_path):
    world = make_world(tmp_path)
    eve = Agent(Persona(id="eve", name="Eve"), RuleBrain(lambda *a: {}, "none"))
    world.add_agent(eve)
    assert isinstance(eve.memory, MemoryStream)
    world.emit("x.ping", {}, witnesses=["eve"])
    eve.memory.retrieve("ping", k=1)
    assert world.writer.counts["memory.retrieved"] == 1
    assert world.manifest_extra["memory"]["embedder"]["name"] == "hashing"


def test_the_auction_records_its_memory_system_in_the_manifest(tmp_path):
    res = sw.run("auction", seed=1, out=tmp_path, overrides={"n_bidders": 4, "n_items": 1})
    mem = sw.load_run(res.path).manifest["memory"]
    assert mem["embedder"]["name"] == "hashing" and mem["store"]["name"] == "numpy"
    assert mem["config"]["weights"] == {"recency": 0.5, "importance": 3.0, "relevance": 2.0}
    assert mem["config"]["importance"]["kinds"]["auction.sold"] == 6.0


def test_scoring_top_k_breaks_ties_by_position():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    assert scoring.top_k(scores, 2).tolist() == [1, 2]
    assert scoring.top_k(scores, 2, prefer_late=True).tolist() == [4, 2]
    assert scoring.top_k(scores, 10).tolist() == [1, 2, 4, 3, 0]


def test_minmax_of_equal_values_is_one_half():
    assert scoring.minmax(np.array([2.0, 2.0])).tolist() == [0.5, 0.5]
    assert math.isclose(scoring.fixed("relevance", np.array([0.0]))[0], 0.5)


def test_importing_simworld_memory_loads_no_heavy_library():
    code = ("import sys, simworld, simworld.memory, simworld.agents; "
            "print(sorted(m for m in ('torch', 'chromadb', 'sentence_transformers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_in_model_mode_the_stream_asks_for_a_reflection_and_stores_the_model_s(tmp_path):
    world = make_world(tmp_path)
    cfg = MemoryConfig(importance=ImportanceConfig(kinds={"x.big": 9.0}),
                       reflection=ReflectionConfig(threshold=18.0, mode="model"))
    system = MemorySystem(cfg).bind(world)
    fay = Agent(Persona(id="fay", name="Fay"), RuleBrain(lambda *a: {}, "none"), memory=system.stream(None))
    world.add_agent(fay)
    first = world.emit("x.big", {"n": 1}, witnesses=["fay"])
    assert not fay.memory.wants_reflection()
    world.emit("x.big", {"n": 2}, witnesses=["fay"])
    assert fay.memory.wants_reflection()
    assert not any(r.kind == "reflection" for r in fay.memory.records())  # no rule reflection in this mode
    rec = fay.memory.add_reflection("Big things keep happening.", fay.memory.recent(1) + [fay.memory.get(f"e{first}")])
    assert rec.id == "r0" and rec.importance == 9.0 and rec.evidence == (f"e{first + 1}", f"e{first}")
    assert not fay.memory.wants_reflection()
    assert world.writer.counts["memory.written"] == 1


def test_fixed_normalisation_scales_each_part_by_its_known_range():
    cfg = MemoryConfig(normalize="fixed", importance=ImportanceConfig(kinds={"x.a": 4.0}))
    s = MemoryStream(no_reflection(cfg), persona=Persona(id="p", name="P"))
    s.observe(event(0, "x.a", {"what": "red house"}, t=0.0))
    (only,) = s.retrieve("red house", k=1, now=3600.0)
    assert only.importance == 0.4 and only.recency == pytest.approx(0.99)
    assert 0.5 < only.relevance <= 1.0  # (cosine + 1) / 2


def test_cached_importance_equals_what_the_scorer_computes():
    persona = Persona(id="me", name="Me", big_five={"neuroticism": 0.8, "extraversion": 0.3},
                      roles={"memory": {"sensitivity": 1.3}})
    stream = MemoryStream(no_reflection(auction_memory()), persona=persona)
    scorer = type(stream.scorer)(stream.config.importance, persona)  # a fresh scorer, nothing cached
    kinds = ["auction.ask", "auction.rejected", "message.sent", "auction.sold", "x.other", "agent.acted"]
    events = [event(i, kinds[i % 6], {"price": 100.0 + (i % 5)}, agent=["me", "you", None][i % 3]) for i in range(60)]
    for e in events:
        stream.observe(e)
    assert [r.importance for r in stream.records()] == [scorer.score(e) for e in events]
