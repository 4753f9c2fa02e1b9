"""Rebuilding memory from the run log alone: it equals the live memory at the end of a real auction."""

from __future__ import annotations

import pytest
from simworld.memory import MemoryStream, rebuild_memory
from simworld.scenarios.auction.policies import policies, truthful

import simworld as sw
from simworld.runner import execute, prepare


def recalling_truthful(persona, obs, memories, beliefs, rng):
    """Truthful bidding that first recalls what it knows about the lot (so retrievals are logged)."""
    memories.retrieve(f"bids on {obs.context['item']['id']}", k=3, causes=obs.causes)
    return truthful(persona, obs, memories, beliefs, rng)


if "recalling_truthful" not in policies:
    policies.register("recalling_truthful", recalling_truthful)


def run_auction(tmp_path, seed: int = 3, **overrides):
    settings = {
        "n_bidders": 12, "n_items": 3, "strategy": {"truthful": 0.5, "recalling_truthful": 0.5},
        "memory.reflection.threshold": 20, "population.attention": 3, **overrides,
    }
    prepared = prepare("auction", seed=seed, overrides=settings)
    result = execute(prepared, out=tmp_path)
    return prepared.scenario, sw.load_run(result.path)


def keys(stream: MemoryStream) -> list[tuple]:
    return [r.key() for r in stream.records(include_forgotten=True)]


@pytest.mark.parametrize("fmt", ["english", "first_price", "dutch"])
def test_rebuilt_memory_equals_the_live_memory_at_the_end_of_an_auction(tmp_path, fmt):
    scenario, log = run_auction(tmp_path, format=fmt)
    counts = log.manifest["event_counts"]
    assert counts["memory.retrieved"] > 0 and counts["memory.written"] > 0
    assert fmt != "english" or counts["agent.perceived"] > 0  # missed observations are left out too
    for bidder in scenario.bidders:
        live = bidder.memory
        rebuilt = rebuild_memory(log, bidder.id)
        assert keys(rebuilt) == keys(live)  # ids, kinds, times, importance, last access, evidence, text
        assert [r.metadata for r in rebuilt.records() if r.kind == "reflection"] == \
            [r.metadata for r in live.records() if r.kind == "reflection"]


def test_only_reflections_are_logged_as_written_memories(tmp_path):
    scenario, log = run_auction(tmp_path)
    reflections = sum(r.kind == "reflection" for b in scenario.bidders for r in b.memory.records())
    observations = sum(r.kind == "observation" for b in scenario.bidders for r in b.memory.records())
    assert log.manifest["event_counts"]["memory.written"] == reflections
    assert observations > 10 * reflections
    written = next(log.events(kind="memory.written"))
    assert written.data["kind"] == "reflection" and written.data["evidence"]
    assert all(e.startswith("e") for e in written.data["evidence"])


def test_rebuilding_at_an_earlier_time_gives_the_memory_formed_by_then(tmp_path):
    scenario, log = run_auction(tmp_path)
    bidder = scenario.bidders[0]
    final = bidder.memory.records(include_forgotten=True)
    times = sorted({r.t for r in final})
    t = times[len(times) // 2]
    earlier = rebuild_memory(log, bidder.id, t=t).records(include_forgotten=True)
    assert [r.id for r in earlier] == [r.id for r in final if r.t <= t]
    assert all(r.last_access <= t for r in earlier)
    assert [r.importance for r in earlier] == [r.importance for r in final if r.t <= t]


def test_capacity_and_forgetting_are_rebuilt_too(tmp_path):
    scenario, log = run_auction(tmp_path, **{"memory.capacity.short_term": 5, "memory.capacity.promote_importance": 3})
    forgotten = 0
    for bidder in scenario.bidders:
        assert keys(rebuild_memory(log, bidder.id)) == keys(bidder.memory)
        forgotten += sum(r.forgotten for r in bidder.memory.records(include_forgotten=True))
    assert forgotten > 0


def test_the_same_seed_gives_a_byte_identical_log_with_memory_events(tmp_path):
    _, a = run_auction(tmp_path / "a", seed=9)
    _, b = run_auction(tmp_path / "b", seed=9)
    assert (a.path / "events.jsonl").read_bytes() == (b.path / "events.jsonl").read_bytes()


def test_rebuilding_an_agent_that_never_joined_is_an_error(tmp_path):
    _, log = run_auction(tmp_path)
    with pytest.raises(KeyError, match="nobody"):
        rebuild_memory(log, "nobody")
