"""The knowledge engine on hand-built logs: who believes what, to order 4, by the witness rule.

Each log is a list of raw events as ``events.jsonl`` holds them. Stories are told in the comments.
"""

from __future__ import annotations

from typing import Any

import pytest
from simworld.analysis.tom import Knowledge

import simworld as sw
from simworld.errors import BadInput


class Story:
    """Builds a log: ``place`` agents, ``see`` facts, ``say`` claims, ``miss`` events."""

    def __init__(self, *agents: str) -> None:
        self.events: list[dict[str, Any]] = []
        for a in agents:
            self.add("agent.joined", [], agent=a, persona={"id": a, "name": a.title()}, brain="rule")

    def add(self, kind: str, witnesses: list[str], agent: str | None = None, **data: Any) -> int:
        seq = len(self.events)
        self.events.append({"seq": seq, "t": float(seq), "kind": kind, "agent": agent, "witnesses": witnesses,
                            "causes": [], "data": data})
        return seq

    def see(self, witnesses: list[str], covert: list[str] | None = None, agent: str | None = None,
            **facts: Any) -> int:
        data: dict[str, Any] = {"facts": {k.replace("__", "."): v for k, v in facts.items()}}
        if covert:
            data["covert"] = covert
        return self.add("story.event", witnesses, agent=agent, **data)

    def say(self, sender: str, audience: list[str], **claims: Any) -> int:
        said = {k.replace("__", "."): v for k, v in claims.items()}
        return self.add("message.sent", [sender, *audience], agent=sender, sender=sender, audience=audience,
                        text="...", claims=said)

    def miss(self, agent: str, seq: int) -> None:
        self.add("agent.perceived", [], agent=agent, missed=[seq], reason="attention")

    def knowledge(self) -> Knowledge:
        return Knowledge(self.events)


MARBLE = "marble.container"


def sally_anne() -> Story:
    """Sally and Anne are in the room; Sally puts the marble in the basket and leaves; Anne moves it to
    the box. Sally comes back."""
    s = Story("sally", "anne")
    s.see(["sally", "anne"], agent="sally", marble__container="basket")
    s.see(["sally", "anne"], agent="sally", sally__room="hallway")
    s.see(["anne"], agent="anne", marble__container="box")
    s.see(["sally", "anne"], agent="sally", sally__room="room")
    return s


def test_sally_believes_the_marble_is_where_she_left_it():
    k = sally_anne().knowledge()
    assert k.reality(MARBLE) == "box"
    assert k.belief("sally", MARBLE) == "basket"
    assert k.belief("anne", MARBLE) == "box"
    assert not k.knows("sally", MARBLE) and k.knows("anne", MARBLE)


def test_second_order_beliefs_follow_what_each_saw_the_other_see():
    k = sally_anne().knowledge()
    assert k.belief(["anne", "sally"], MARBLE) == "basket"  # Anne saw Sally leave before the move
    assert k.belief(["sally", "anne"], MARBLE) == "basket"  # Sally last saw Anne see the basket
    assert k.belief(["sally", "anne", "sally"], MARBLE) == "basket"
    found = {(fb.chain, fb.believed) for fb in k.false_beliefs(max_order=2) if fb.fact == MARBLE}
    assert found == {(("sally",), "basket"), (("anne", "sally"), "basket"), (("sally", "anne"), "basket")}


def test_coming_back_does_not_reveal_what_happened_while_away_but_later_events_are_seen():
    s = sally_anne()
    k = s.knowledge()
    assert k.belief("sally", MARBLE) == "basket"  # back in the room, still the basket
    s.see(["sally", "anne"], agent="anne", marble__container="drawer")
    k = s.knowledge()
    assert k.belief("sally", MARBLE) == "drawer"
    assert k.belief(["anne", "sally"], MARBLE) == "drawer"


def test_beliefs_at_an_earlier_time_replay_only_the_events_up_to_it():
    k = sally_anne().knowledge()
    put, moved = (o.t for o in k.occurrences(MARBLE))
    assert k.reality(MARBLE, t=moved - 0.5) == "basket"
    assert k.belief("anne", MARBLE, t=moved - 0.5) == "basket"
    assert k.belief("anne", MARBLE, t=moved) == "box"
    assert k.belief("anne", MARBLE, t=put - 0.5) is None  # nothing witnessed yet: unknown
    assert k.reality(MARBLE, t=put - 0.5) is None


def test_a_covert_watcher_knows_what_the_others_believe_and_they_do_not_know_it_saw():
    """Bob watches the room through a window while Anne moves the marble."""
    s = Story("sally", "anne", "bob")
    s.see(["sally", "anne", "bob"], marble__container="basket")
    s.see(["anne", "bob"], covert=["bob"], agent="anne", marble__container="box")
    k = s.knowledge()
    assert k.belief("bob", MARBLE) == "box"
    assert k.belief(["bob", "anne"], MARBLE) == "box"  # Bob saw Anne move it
    assert k.belief(["anne", "bob"], MARBLE) == "basket"  # Anne does not know Bob saw
    assert k.belief(["bob", "anne", "bob"], MARBLE) == "basket"  # Bob knows Anne thinks he did not see
    assert k.belief(["bob", "sally"], MARBLE) == "basket"


def test_a_private_tell_changes_the_listener_and_the_teller_knows_it_was_heard():
    """Sally left before the move; Anne tells her privately where the marble is, then Bob (who was
    away all along) hears nothing."""
    s = sally_anne()
    s.add("story.event", ["bob"], facts={"bob.room": "garden"})
    s.say("anne", ["sally"], marble__container="box")
    k = s.knowledge()
    assert k.belief("sally", MARBLE) == "box"
    assert k.belief(["anne", "sally"], MARBLE) == "box"
    assert k.belief(["sally", "anne"], MARBLE) == "box"  # Sally takes Anne to believe what she said
    assert k.belief("bob", MARBLE) is None


def test_a_lie_makes_a_false_belief_and_the_liar_keeps_the_truth():
    s = sally_anne()
    s.say("anne", ["sally"], marble__container="drawer")
    k = s.knowledge()
    assert k.belief("sally", MARBLE) == "drawer"
    assert k.belief("anne", MARBLE) == "box"
    assert k.belief(["anne", "sally"], MARBLE) == "drawer"
    assert k.reality(MARBLE) == "box"  # a claim changes no reality


def test_a_listener_who_saw_more_than_the_speaker_keeps_what_it_saw():
    """Sally left before the move; she tells Anne (who saw it) the marble is in the basket."""
    s = sally_anne()
    s.say("sally", ["anne"], marble__container="basket")
    k = s.knowledge()
    assert k.belief("anne", MARBLE) == "box"
    assert k.belief(["sally", "anne"], MARBLE) == "basket"  # Sally expects to be believed
    assert k.belief(["anne", "sally"], MARBLE) == "basket"


def test_an_attention_miss_is_not_witnessed_and_nobody_else_knows_about_it():
    s = Story("sally", "anne")
    s.see(["sally", "anne"], marble__container="basket")
    moved = s.see(["sally", "anne"], agent="anne", marble__container="box")
    s.miss("sally", moved)
    k = s.knowledge()
    assert k.belief("sally", MARBLE) == "basket"
    assert k.belief(["anne", "sally"], MARBLE) == "box"  # Anne saw Sally there, not that she missed it
    assert [o.witnesses for o in k.occurrences(MARBLE)][-1] == frozenset({"anne"})


def test_fourth_order_chains_and_order_limits():
    s = Story("a", "b", "c", "d")
    s.see(["a", "b", "c", "d"], marble__container="basket")
    s.see(["a", "b", "c"], marble__container="box")  # d has left
    k = s.knowledge()
    assert k.belief(["a", "b", "c", "d"], MARBLE) == "basket"
    assert k.belief(["a", "b", "c", "a"], MARBLE) == "box"
    assert len(list(k.beliefs(MARBLE, 4))) == 4 * 3 * 3 * 3
    with pytest.raises(BadInput, match="order 5"):
        k.belief(["a", "b", "c", "d", "a"], MARBLE)


# -- published benchmarks' story shapes, labelled by the rule -----------------------------------------------
def test_tomi_second_order_no_tom_label_disagrees_with_the_witness_rule():
    """ToMi test set (fb_all_test): Ethan, Amelia, James enter the closet; the tomato is in the blue
    container; James exits; Amelia moves it to the green basket. ToMi labels "Where does Amelia think
    that James searches for the tomato?" green_basket as second_order_no_tom: its third agent's entries
    and exits are inserted into the text after the oracle has run. James left before the move."""
    s = Story("ethan", "amelia", "james")
    for who in ("ethan", "amelia", "james"):
        s.see(["ethan", "amelia", "james"][: ["ethan", "amelia", "james"].index(who) + 1], **{f"{who}__room": "closet"})
    s.see(["ethan", "amelia", "james"], tomato__container="blue_container")
    s.see(["ethan", "amelia", "james"], agent="james", james__room=None)
    s.see(["ethan", "amelia"], agent="amelia", tomato__container="green_basket")
    k = s.knowledge()
    assert k.belief(["amelia", "james"], "tomato.container") == "blue_container"
    assert k.belief(["james", "amelia"], "tomato.container") == "blue_container"
    assert k.reality("tomato.container") == "green_basket"


def test_hitom_second_order_label_after_a_public_claim():
    """Hi-ToM (Tell, length 1): William, Jack, Charlotte, Noah and Hannah are in the hall; the carrot is
    in the red basket; each in turn stays a minute (sees it) or moves it, then exits: William, Jack,
    Charlotte (stay), Noah (moves it to the green envelope), Hannah (moves it back). In the waiting room
    Charlotte publicly claims it is in the green envelope. "Where does Hannah think William thinks the
    carrot is?" Hi-ToM says red_basket: its public claim updates only the pairs with the speaker. Hannah
    heard William hear the claim, and William (who left before Charlotte) takes it in."""
    everyone = ["william", "jack", "charlotte", "noah", "hannah"]
    s = Story(*everyone)
    here = list(everyone)
    s.see(here, carrot__container="red_basket")
    for who in everyone:
        s.see(list(here), agent=who, carrot__container={"noah": "green_envelope", "hannah": "red_basket"}.get(
            who, "red_basket"))
        s.see(list(here), agent=who, **{f"{who}__room": "waiting_room"})
        here.remove(who)
    s.say("charlotte", [a for a in everyone if a != "charlotte"], carrot__container="green_envelope")
    k = s.knowledge()
    carrot = "carrot.container"
    assert k.belief(["hannah", "william"], carrot) == "green_envelope"
    assert k.belief("william", carrot) == "green_envelope"  # left before Charlotte: takes it in
    assert k.belief("hannah", carrot) == "red_basket"  # left last, saw more than Charlotte: keeps it
    assert k.belief(["william", "hannah"], carrot) == "green_envelope"  # William thinks Hannah believed it too


# -- bad input and reading -------------------------------------------------------------------------------------
def test_unknown_agents_facts_chains_and_a_log_without_witnesses_are_one_line_errors():
    k = sally_anne().knowledge()
    with pytest.raises(BadInput, match="unknown agent 'zed'"):
        k.belief(["anne", "zed"], MARBLE)
    with pytest.raises(BadInput, match="unknown fact 'pear.container'"):
        k.belief("anne", "pear.container")
    with pytest.raises(BadInput, match="follows itself"):
        k.belief(["anne", "anne"], MARBLE)
    with pytest.raises(BadInput, match="at least one agent"):
        k.belief([], MARBLE)
    unseen = [{"seq": 0, "t": 0.0, "kind": "x.y", "agent": None, "witnesses": [], "data": {"facts": {"a.b": 1}}}]
    with pytest.raises(BadInput, match="no event has witnesses"):
        Knowledge(unseen)


def test_knowledge_reads_a_run_folder(tmp_path):
    from simworld.scenarios.tom_rooms import TomRoomsScenario

    result = sw.run(TomRoomsScenario, seed=2, out=tmp_path, overrides={"steps": 12})
    k = Knowledge(result.path)
    assert "apple.container" in k.facts
    assert set(k.agents) == {e.agent for e in sw.load_run(result.path).events(kind="agent.joined")}
    assert k.reality("apple.container") is not None
