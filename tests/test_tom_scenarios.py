"""The built-in scenarios state their facts, so the knowledge engine, probes and belief scores work on
every scenario: auction (private values, standing bids, sales), support (the seeker's state, what it
discloses) and debate (the opinion each move expresses, heard only by those in the room)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simworld.analysis.tom import Knowledge, belief_scores, probes
from simworld.memory.rebuild import rebuild_memory
from simworld.scenarios.auction.events import value_fact
from simworld.scenarios.debate.events import opinion_fact
from simworld.scenarios.support.events import seeker_fact

import simworld as sw
from simworld.runlog import RunLog

#: A moment just before an event at t (nothing in these scenarios happens less than this apart).
BEFORE = 1e-6


def _run(tmp_path_factory: pytest.TempPathFactory, scenario: str, seed: int, **overrides: Any) -> Path:
    return sw.run(scenario, seed=seed, out=tmp_path_factory.mktemp(scenario), overrides=overrides).path


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "auction", 3)  # a seed where a lot draws more than one bid


@pytest.fixture(scope="module")
def sealed_profilers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "auction", 1, format="first_price", strategy={"profiler": 0.5, "persona": 0.5},
                n_bidders=8)


@pytest.fixture(scope="module")
def support(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "support", 1)


@pytest.fixture(scope="module")
def debate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "debate", 1, leave_rate=0.02)


# -- auction ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["english", "sealed_profilers"])
def test_every_bidder_knows_its_own_value_of_each_lot_and_no_rivals(which: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(which)
    log = sw.load_run(path)
    k = Knowledge(log)
    lots = 0
    for e in log.events(kind="auction.valuations"):
        lots += 1
        item, values = e.data["item"], e.data["values"]
        for bidder, value in values.items():
            fact = value_fact(bidder, item)
            assert k.reality(fact) == value
            assert k.belief(bidder, fact) == value
            assert all(k.belief(rival, fact) is None for rival in values if rival != bidder)
    announced = list(log.events(kind="auction.value"))
    assert lots and len(announced) == lots * len(values)
    assert all(e.witnesses == [e.data["bidder"]] for e in announced)


def test_a_bidder_remembers_its_own_value_of_each_lot_and_no_rivals(english: Path) -> None:
    log = sw.load_run(english)
    values = list(log.events(kind="auction.value"))
    bidders = sorted({e.data["bidder"] for e in values})
    remembered = {b: {r.id for r in rebuild_memory(log, b).records()} for b in bidders}
    for e in values:
        for b in bidders:
            assert (f"e{e.seq}" in remembered[b]) == (b == e.data["bidder"])


def test_after_a_sale_everyone_in_the_room_knows_price_and_winner_and_that_the_others_know(english: Path) -> None:
    log = sw.load_run(english)
    k = Knowledge(log)
    opened = {e.data["item"]["id"]: e.t for e in log.events(kind="auction.opened")}
    sales = list(log.events(kind="auction.sold"))
    assert sales
    for e in sales:
        item, room = e.data["item"], e.witnesses
        price, winner = f"{item}.price", f"{item}.winner"
        assert k.belief(room[0], price, opened[item]) is None  # not before the hammer falls
        for bidder in room:
            assert k.belief(bidder, price, e.t) == e.data["price"]
            assert k.belief(bidder, winner, e.t) == e.data["winner"]
            assert k.belief(bidder, f"{item}.status", e.t) == "sold"
        a, b = room[0], room[-1]
        assert k.belief((a, b), price, e.t) == e.data["price"]
        assert k.belief((b, a), winner, e.t) == e.data["winner"]
        # English: the last bid the room heard is the hammer price, held by the winner
        assert k.reality(f"{item}.high_bid", e.t) == e.data["price"]
        assert k.reality(f"{item}.high_bidder", e.t) == e.data["winner"]


def test_a_sealed_bid_states_no_standing_bid_and_an_unsold_lot_states_no_price(
        sealed_profilers: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    k = Knowledge(sealed_profilers)
    assert not [f for f in k.facts if f.endswith((".high_bid", ".high_bidder"))]
    relisted = Knowledge(_run(tmp_path_factory, "auction", 1, reserve_ratio=1.3, discount=0.1))
    statuses = {f.removesuffix(".status"): relisted.values(f) for f in relisted.facts if f.endswith(".status")}
    assert ["unsold", "sold"] in statuses.values()  # unsold, relisted cheaper, then sold
    for item, history in statuses.items():
        assert (f"{item}.price" in relisted.facts) == ("sold" in history)


def test_profilers_value_beliefs_are_all_scored_against_the_private_values(sealed_profilers: Path) -> None:
    scores = belief_scores(sealed_profilers)
    beliefs = sum(1 for _ in sw.load_run(sealed_profilers).events(kind="belief.updated"))
    assert beliefs > 0
    assert scores["n"] == beliefs and scores["unscored"] == 0
    assert set(scores["by_key"]) == {"value"} and scores["mae"] is not None


# -- support -----------------------------------------------------------------------------------------
def _sessions(log: RunLog) -> dict[str, dict[str, Any]]:
    return {e.data["seeker"]: {**e.data, "t": e.t} for e in log.events(kind="support.session_started")}


def test_the_supporter_learns_a_part_only_when_the_seeker_discloses_it(support: Path) -> None:
    log = sw.load_run(support)
    k = Knowledge(log)
    sessions = _sessions(log)
    disclosures = list(log.events(kind="support.disclosed"))
    assert disclosures
    for e in disclosures:
        seeker, part, value = e.data["seeker"], e.data["part"], e.data["value"]
        sup = sessions[seeker]["supporter"]
        fact = seeker_fact(seeker, part)
        assert k.belief(seeker, fact, sessions[seeker]["t"]) == value  # the seeker knew from the start
        assert k.belief(sup, fact, e.t - BEFORE) is None
        assert k.belief(sup, fact, e.t) == value
        # second order: the seeker believes the supporter knows, and the supporter that the seeker does
        assert k.belief((seeker, sup), fact, e.t - BEFORE) is None
        assert k.belief((seeker, sup), fact, e.t) == value
        assert k.belief((sup, seeker), fact, e.t) == value


def test_what_is_never_disclosed_and_the_intensity_stay_the_seekers_own(support: Path) -> None:
    log = sw.load_run(support)
    k = Knowledge(log)
    told = {(e.data["seeker"], e.data["part"]) for e in log.events(kind="support.disclosed")}
    untold = 0
    for end in log.events(kind="support.session_ended"):
        seeker, sup = end.data["seeker"], end.data["supporter"]
        intensity = seeker_fact(seeker, "intensity")
        assert k.reality(intensity) == end.data["final_intensity"]
        assert k.knows(seeker, intensity)
        assert k.belief(sup, intensity) is None
        for part in ("problem_type", "emotion_type", "situation"):
            if (seeker, part) not in told:
                untold += 1
                assert k.belief(sup, seeker_fact(seeker, part)) is None
                assert k.knows(seeker, seeker_fact(seeker, part))
    assert untold > 0


def test_supporters_beliefs_are_all_scored_and_what_was_disclosed_is_right(support: Path) -> None:
    scores = belief_scores(support)
    assert scores["n"] > 0 and scores["unscored"] == 0
    assert "intensity" in scores["by_key"] and scores["by_key"]["intensity"]["mae"] is not None
    disclosed = [key for key in ("problem_type", "emotion_type", "situation") if key in scores["by_key"]]
    assert disclosed
    assert all(scores["by_key"][key]["accuracy"] == 1.0 for key in disclosed)  # a disclosure is the truth


# -- debate ------------------------------------------------------------------------------------------
def test_a_listener_away_during_a_move_does_not_learn_the_opinion_it_expressed(debate: Path) -> None:
    log = sw.load_run(debate)
    k = Knowledge(log)
    by_seq = {e.seq: e for e in log.events()}
    away_cases = 0
    for move in log.events(kind="debate.move"):
        said = by_seq[move.causes[0]]
        fact = opinion_fact(move.data["speaker"], move.data["proposition"])
        for who in move.witnesses:  # (a private word by the same speaker may follow at the same instant)
            held = k.belief_of(who, fact, move.t)
            assert held is not None and held.seq >= move.seq
        for who in set(said.data["audience"]) - set(move.witnesses):  # addressed, but out of the room for part of it
            away_cases += 1
            held = k.belief_of(who, fact, move.t)
            assert held is None or held.seq != move.seq
    assert away_cases > 0


def test_a_move_states_the_opinion_its_speaker_holds_as_it_speaks(debate: Path) -> None:
    log = sw.load_run(debate)
    opinion: dict[tuple[str, str], float] = {}
    private = 0
    for e in log.events():
        if e.kind == "belief.updated" and e.data["key"] == "opinion":
            opinion[(e.agent, e.data["about"])] = e.data["value"]
        elif e.kind == "debate.move":
            speaker, pid = e.data["speaker"], e.data["proposition"]
            assert e.data["facts"] == {opinion_fact(speaker, pid): opinion[(speaker, pid)]}
            if e.data["private"]:
                private += 1
                assert len(e.witnesses) == 2 and speaker in e.witnesses
    assert private > 0


def test_debate_beliefs_left_unscored_are_only_each_agents_own_opinion(debate: Path) -> None:
    """A debate logs no estimates of others, only each agent's own opinion (about a proposition), which
    has no truth but itself; no belief about another agent is left unscored."""
    log = sw.load_run(debate)
    agents = {e.agent for e in log.events(kind="agent.joined")}
    beliefs = list(log.events(kind="belief.updated"))
    own = sum(1 for e in beliefs if e.data["key"] == "opinion" and e.data["about"] not in agents)
    scores = belief_scores(log)
    assert beliefs and scores["n"] + scores["unscored"] == len(beliefs)
    assert scores["unscored"] <= own


# -- probes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["english", "support", "debate"])
def test_probes_are_asked_about_every_scenarios_facts(which: str, request: pytest.FixtureRequest) -> None:
    k = Knowledge(request.getfixturevalue(which))
    assert probes(k)
    every = probes(k, balanced=False)
    kinds = {p.kind for p in every}
    assert {"reality", "memory", "answerability", "accessibility"} <= kinds
    for p in every:
        if p.kind == "belief":
            assert p.answer == k.belief(p.chain, p.fact, p.t)
    if which == "support":  # only the seeker knows its intensity
        answer = [p for p in every if p.kind == "answerability" and p.fact.endswith(".intensity")]
        assert answer and all(p.answer == [p.fact.removesuffix(".intensity")] and p.tom_required for p in answer)
    if which == "debate":  # those who were out of the room hold an older opinion, or none
        assert any(p.tom_required for p in every if p.kind == "belief")
