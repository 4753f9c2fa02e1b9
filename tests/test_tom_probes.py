"""Probes: theory-of-mind questions derived from a log, labelled by the knowledge engine, sampled with a seed."""

from __future__ import annotations

import json

import pytest
from simworld.analysis.tom import Knowledge, balance, counts, probes
from simworld.scenarios.tom_rooms import TomRoomsScenario, render
from test_tom_knowledge import MARBLE, Story, sally_anne

import simworld as sw
from simworld.errors import BadInput


def by_id(items):
    return {p.id: p for p in items}


def test_sally_anne_probes_carry_question_choices_label_and_the_events_behind_it():
    s = sally_anne()
    found = by_id(probes(s.events, orders=(0, 1, 2), balanced=False, facts=["marble.*"]))
    sally = found[f"belief:sally:{MARBLE}@{s.events[-1]['t']:g}"]
    assert sally.question == "Where does Sally think the marble is?"
    assert sally.choices == ["basket", "box"]
    assert sally.answer == "basket" and sally.reality == "box" and sally.tom_required
    put = next(e["seq"] for e in s.events if (e["data"].get("facts") or {}).get(MARBLE) == "basket")
    assert sally.seqs[0] == put
    second = next(p for p in found.values() if p.chain == ("anne", "sally"))
    assert second.question == "Where does Anne think Sally thinks the marble is?" and second.answer == "basket"
    real = next(p for p in found.values() if p.kind == "reality")
    memory = next(p for p in found.values() if p.kind == "memory")
    assert (real.question, real.answer, real.tom_required) == ("Where is the marble really?", "box", False)
    assert (memory.question, memory.answer) == ("Where was the marble at the beginning?", "basket")


def test_answerability_and_accessibility_name_who_knows_and_who_saw():
    s = Story("sally", "anne", "bob")
    s.see(["sally", "anne", "bob"], marble__container="basket")
    moved = s.see(["anne", "bob"], agent="anne", marble__container="box")
    s.miss("bob", moved)
    found = probes(s.events, orders=(1,), kinds=("answerability", "accessibility"), balanced=False)
    who_knows = next(p for p in found if p.kind == "answerability")
    assert who_knows.question == "Who knows where the marble is?"
    assert who_knows.answer == ["anne"] and who_knows.tom_required
    saw_box = next(p for p in found if p.kind == "accessibility" and p.seqs == (moved,))
    assert saw_box.question == "Who saw the marble end up in the box?"
    assert saw_box.answer == ["anne"]  # bob was there but missed it


def test_orders_kinds_and_fact_patterns_pick_the_questions():
    s = sally_anne()
    found = probes(s.events, orders=(2,), kinds=("belief",), balanced=False)
    assert {p.order for p in found} == {2} and {p.kind for p in found} == {"belief"}
    assert all(p.fact == MARBLE for p in probes(s.events, facts=["*.container"], balanced=False))
    with pytest.raises(BadInput, match="order 5"):
        probes(s.events, orders=(1, 5))
    with pytest.raises(BadInput, match="unknown probe kind"):
        probes(s.events, kinds=("belief", "gossip"))


def test_balanced_sampling_keeps_as_many_tom_required_questions_as_others_and_is_seeded(tmp_path):
    results = [sw.run(TomRoomsScenario, seed=s, out=tmp_path, overrides={"steps": 30, "n_agents": 4})
               for s in range(3)]
    pool = [p for r in results for p in probes(r.path, orders=(0, 1, 2, 3), balanced=False)]
    kept = balance(pool, seed=5)
    for key, row in counts(kept).items():
        if key.startswith(("belief", "answerability", "accessibility")):
            assert row["n"] == 2 * row["tom_required"], key
        else:
            assert row["n"] == counts(pool)[key]["n"]  # reality and memory are all kept
    assert [p.id for p in balance(pool, seed=5)] == [p.id for p in kept]
    assert sum(row["tom_required"] for row in counts(kept).values()) > 0


def test_tom_rooms_labels_agree_with_every_rule_agents_own_tracking(tmp_path):
    """Labels right by construction: each rule agent tracks, from what it perceived alone, where objects
    are and where each co-present agent thinks they are; whenever it logs such a belief, the engine's
    label for that chain at that moment is the same. Over 6 seeds with watchers, tells, lies, attention
    limits and two rooms; no disagreement is tolerated."""
    checked = 0
    for seed in range(6):
        result = sw.run(TomRoomsScenario, seed=seed, out=tmp_path, overrides={
            "steps": 40, "n_agents": 4, "rooms": 2, "objects": 2, "population.attention": 2 if seed % 2 else None,
            "strategy": {"persona": 0.5, "random": 0.5}})
        log = sw.load_run(result.path)
        events = list(log.iter_raw())
        full = Knowledge(events)
        for e in events:
            if e["kind"] != "belief.updated":
                continue
            d, owner = e["data"], e["agent"]
            chain, fact = ((owner, d["about"]), d["key"]) if d["about"] in full.names else ((owner,), f"{d['about']}.{d['key']}")
            upto = Knowledge(events[: e["causes"][0] + 1])
            assert upto.belief(chain, fact) == d["value"], (seed, e["seq"], chain, fact)
            checked += 1
    assert checked > 300


def test_the_story_tells_every_witnessed_event_covert_watches_and_misses(tmp_path):
    result = sw.run(TomRoomsScenario, seed=1, out=tmp_path,
                    overrides={"steps": 60, "n_agents": 4, "population.attention": 1, "strategy": "random"})
    log = sw.load_run(result.path)
    lines = render(log.iter_raw())
    said = {ln.seq for ln in lines}
    for e in log.events():
        if e.kind in ("tom.entered", "tom.left", "tom.moved", "tom.looked", "tom.noticed", "tom.watching"):
            assert e.seq in said, e.kind
    text = "\n".join(ln.text for ln in lines)
    assert "through its window" in text and "did not notice that." in text


def test_a_benchmark_file_is_self_contained_and_the_same_for_the_same_seed(tmp_path):
    from simworld.scenarios.tom_rooms.bench import generate

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    summary = generate(a, 4, orders=(0, 1, 2), seed=3)
    generate(b, 4, orders=(0, 1, 2), seed=3)
    assert a.read_bytes() == b.read_bytes()
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    assert len(rows) == summary["questions"] > 0
    for row in rows:
        assert row["story"].startswith("1 ") and row["question"].endswith("?")
        answers = row["answer"] if isinstance(row["answer"], list) else [row["answer"]]
        assert all(x in row["choices"] for x in answers)
        assert row["source"]["scenario"] == "tom_rooms"
    assert len({row["id"] for row in rows}) == len(rows)
