"""Where the truth of a logged belief is, for :func:`simworld.analysis.tom.belief_scores`.

A :class:`Truth` sees every event of the log in order and, for a ``belief.updated`` record, returns the
true value at the time the belief was held (None: it does not know). The defaults, tried in order:

- :class:`FactTruth`: a belief about ``entity`` with key ``attribute`` is scored against the fact
  ``entity.attribute``; a belief about an agent whose key is a fact against what that agent believed
  (by the knowledge engine's rule);
- :class:`AuctionTruth`: a ``value`` belief about a rival on a lot, against that rival's private value
  in ``auction.valuations``;
- :class:`SupportTruth`: a supporter's belief about a seeker's problem, emotion, situation or
  intensity, against the seeker's session (``support.session_started``, ``support.intensity``);
- :class:`OwnBeliefTruth`: an estimate of another agent's belief (about agent B, key K, item I) against
  B's own latest belief about I with key K (a debater's estimate of a rival's opinion).
"""

from __future__ import annotations

from typing import Any, Protocol

from simworld.belief_accuracy import BeliefRecord
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.tom.knowledge import Knowledge, RawEvent


class Truth(Protocol):
    """``fixed``: the truth does not change over the run, so a belief formed before the log states it
    (an estimate made as a lot opens, before its values are logged) is scored against it afterwards."""

    fixed: bool

    def see(self, event: RawEvent) -> None: ...

    def truth(self, record: BeliefRecord) -> Any: ...


class FactTruth:
    """Facts the log states, and agents' beliefs about them, at the time of the belief."""

    fixed = False

    def __init__(self, knowledge: Knowledge) -> None:
        self.k = knowledge
        self._facts = set(knowledge.facts)
        self._agents = set(knowledge.agents)

    def see(self, event: RawEvent) -> None:
        pass

    def truth(self, record: BeliefRecord) -> Any:
        if record.about in self._agents and record.key in self._facts:
            return self.k.belief((record.about,), record.key, record.t)
        fact = f"{record.about}.{record.key}"
        return self.k.reality(fact, record.t) if fact in self._facts else None


class AuctionTruth:
    """Rivals' private values per lot (``auction.valuations``)."""

    fixed = True

    def __init__(self) -> None:
        self.values: dict[str, dict[str, float]] = {}

    def see(self, event: RawEvent) -> None:
        if event["kind"] == "auction.valuations":
            d = event["data"]
            self.values[d["item"]] = d["values"]

    def truth(self, record: BeliefRecord) -> Any:
        if record.key != "value" or record.item is None:
            return None
        return self.values.get(record.item, {}).get(record.about)


class SupportTruth:
    """What is true of each seeker now: its session's problem, emotion and situation, its intensity."""

    KEYS = ("problem_type", "emotion_type", "situation", "intensity")
    fixed = False

    def __init__(self) -> None:
        self.state: dict[str, dict[str, Any]] = {}

    def see(self, event: RawEvent) -> None:
        kind = event["kind"]
        if kind == "support.session_started":
            d = event["data"]
            self.state[d["seeker"]] = {k: d.get(k) for k in self.KEYS}
        elif kind == "support.intensity":
            d = event["data"]
            self.state.setdefault(d["seeker"], {})["intensity"] = d["intensity"]

    def truth(self, record: BeliefRecord) -> Any:
        return self.state.get(record.about, {}).get(record.key) if record.key in self.KEYS else None


class OwnBeliefTruth:
    """Each agent's latest own belief, for scoring others' estimates of it."""

    fixed = False

    def __init__(self) -> None:
        self.own: dict[tuple[str, str, str], Any] = {}
        self.agents: set[str] = set()

    def see(self, event: RawEvent) -> None:
        kind = event["kind"]
        if kind == "agent.joined":
            self.agents.add(event["agent"])
        elif kind == "belief.updated":
            d = event["data"]
            self.own[(event["agent"], d["about"], d["key"])] = d.get("value")

    def truth(self, record: BeliefRecord) -> Any:
        if record.about not in self.agents or record.item is None:
            return None
        return self.own.get((record.about, record.item, record.key))


def default_truths(log: RunLog, knowledge: Knowledge | None = None) -> list[Truth]:
    """The default truth sources for ``log`` (facts only when it states some and has witnesses)."""
    out: list[Truth] = []
    if knowledge is None:
        try:
            knowledge = Knowledge(log)
        except BadInput:
            knowledge = None  # a log without witnesses has no beliefs of agents to derive
    if knowledge is not None and knowledge.facts:
        out.append(FactTruth(knowledge))
    out += [AuctionTruth(), SupportTruth(), OwnBeliefTruth()]
    return out
