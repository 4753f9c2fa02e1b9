"""The profiler strategy: beliefs about the strongest rivals' values, learned from what they reveal, and
bids shaded to just beat the strongest rival expected."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import BaseModel
from simworld.scenarios.auction.bidding import equilibrium_target, limit_of, respond, truthful_response

from simworld.decisions import DecisionRequest

if TYPE_CHECKING:
    from simworld.agents.beliefs import Beliefs
    from simworld.agents.persona import Persona
    from simworld.memory import Memory

    from simworld.events import WorldEvent


class RankedRivals:
    """At most ``size`` rivals with their value estimates, strongest first: a profiler's working set for one
    lot. A new rival gets in while there is room, or by beating the weakest (who is dropped); a rival
    already in is updated in place. Every operation is O(size)."""

    __slots__ = ("_ranked", "estimate", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.estimate: dict[str, float] = {}
        self._ranked: list[str] = []  # strongest first; among equal estimates, the earlier one first

    def __contains__(self, rival: object) -> bool:
        return rival in self.estimate

    def __len__(self) -> int:
        return len(self._ranked)

    def names(self) -> list[str]:
        """The tracked rivals, strongest first (a copy: safe to iterate while offering)."""
        return list(self._ranked)

    def strongest(self) -> float | None:
        return self.estimate[self._ranked[0]] if self._ranked else None

    def admits(self, estimate: float) -> bool:
        """Whether a rival not tracked yet with this estimate would get in."""
        return len(self._ranked) < self.size or estimate > self.estimate[self._ranked[-1]]

    def offer(self, rival: str, estimate: float) -> bool:
        """Track ``rival`` at ``estimate`` if it is tracked already or gets in; whether it is tracked now."""
        ranked = self._ranked
        if rival in self.estimate:
            ranked.remove(rival)
        elif not self.admits(estimate):
            return False
        elif len(ranked) >= self.size:
            del self.estimate[ranked.pop()]
        self.estimate[rival] = estimate
        i = 0
        while i < len(ranked) and self.estimate[ranked[i]] >= estimate:
            i += 1
        ranked.insert(i, rival)
        return True


class RivalHistory:
    """What rivals revealed in earlier lots, as estimate / starting price ratios (sum and count), for at
    most ``size`` rivals: when full, a new rival replaces the one with the lowest mean ratio if its own
    ratio is higher (the strongest rivals are the ones a profiler shades against)."""

    __slots__ = ("_ratios", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._ratios: dict[str, list[float]] = {}  # rival -> [sum of ratios, count]

    def __len__(self) -> int:
        return len(self._ratios)

    def names(self) -> list[str]:
        """The remembered rivals (a copy: safe to iterate while adding)."""
        return list(self._ratios)

    def add(self, rival: str, ratio: float) -> None:
        """One more reading of ``rival``'s ratio (a new rival may replace the weakest, see above)."""
        entry = self._ratios.get(rival)
        if entry is not None:
            entry[0] += ratio
            entry[1] += 1.0
            return
        if len(self._ratios) >= self.size:
            weakest = min(self._ratios, key=lambda r: self._ratios[r][0] / self._ratios[r][1])
            low = self._ratios[weakest]
            if ratio <= low[0] / low[1]:
                return
            del self._ratios[weakest]
        self._ratios[rival] = [ratio, 1.0]

    def strongest(self, k: int) -> list[tuple[str, float, int]]:
        """Up to ``k`` rivals with the highest mean ratio, highest first: (rival, mean ratio, observations)."""
        ranked = sorted(self._ratios.items(), key=lambda item: item[1][0] / item[1][1], reverse=True)
        return [(rival, s / c, int(c)) for rival, (s, c) in ranked[:k]]


class _Digest:
    """What every profiler derives alike from one event: the bidders of a drop-out as a set, a reveal's
    bids ranked highest first. Computed once per event: the world hands the same ``WorldEvent`` object to
    every witness, so the n witnesses of an event that names n bidders share one O(n log n) pass instead
    of each doing an O(n) one."""

    __slots__ = ("dropped", "event", "ranked_bids")

    def __init__(self, event: WorldEvent) -> None:
        self.event = event
        d = event.data
        self.dropped: frozenset[str] = frozenset(d["bidders"]) if event.kind == "auction.dropped" else frozenset()
        bids: dict[str, float | None] = d["bids"] if event.kind == "auction.bids_revealed" else {}
        # sorted() is stable: equal bids stay in the room's order
        self.ranked_bids: list[tuple[str, float]] = sorted(
            ((rival, amount) for rival, amount in bids.items() if amount is not None), key=lambda b: -b[1])


class RivalTraits:
    """A profiler's beliefs about its rivals' budgets and top priorities, formed as each lot ends from what
    it heard (``keys``: ``budget``, ``priority`` or both).

    Budget: a bid of ``a`` was affordable, so a rival's budget is at least what it paid for earlier lots
    plus ``a`` (plus the price, for the lot it wins): logged (key ``budget``) when this lower bound rises.
    Priority: the lots a rival values most reveal what it wants. Each lot gives a reading of a rival's
    value: the winner's is the price plus half an increment (it stayed in past everyone), a drop-out's
    the price at which it passed less half an increment (a pass at the opening ask is not read, as a
    rival out of budget passes there), else its highest bid. Readings are taken relative to the lot's
    price (the starting price when unsold), which takes out what the house itself is worth; the mean per
    house category is kept, and the category with the highest mean is believed its top priority (key
    ``priority``, ties by name), logged when it changes. Per lot it reads the ``tracked`` highest bidders, the winner, and the
    drop-outs of rivals it profiles; it profiles the priority of at most ``remembered`` rivals (the first
    it hears of) and keeps what each winner paid (one entry per lot sold at most): the work per event is
    O(tracked + remembered), whatever the size of the room. Its beliefs are logged with ``rule:
    "profiler"`` (a model brain's theory of mind logs none), so the metrics tell the two apart when a
    model brain keeps a profiler as its fallback policy."""

    __slots__ = ("budget", "keys", "priority", "ratios", "readings", "remembered", "spent", "tracked")

    def __init__(self, keys: tuple[str, ...], tracked: int, remembered: int) -> None:
        self.keys = keys
        self.tracked = tracked
        self.remembered = remembered
        self.spent: dict[str, float] = {}  # what each rival paid for the lots it won
        self.ratios: dict[str, dict[str, list[float]]] = {}  # rival -> category -> [sum of reading/start, count]
        self.readings: dict[str, float] = {}  # the current lot's value readings (drop-out prices)
        self.budget: dict[str, float] = {}  # the last budget bound logged per rival
        self.priority: dict[str, str] = {}  # the last priority logged per rival

    def lot_opened(self) -> None:
        self.readings = {}

    def dropped(self, me: str, price: float, start: float, increment: float, dropped: frozenset[str],
                named: list[str]) -> None:
        """Rivals that passed at ``price`` value the lot just below it (read as ``price - increment / 2``):
        read for profiled rivals, and for new ones while fewer than ``remembered`` are profiled. A pass at
        the opening ask is not read: a rival whose budget is spent passes there whatever it wants."""
        if "priority" not in self.keys or price <= start + 1e-9:
            return
        reading = price - increment / 2
        readings = self.readings
        for rival in self.ratios:
            if rival in dropped:
                readings[rival] = reading
        room = self.remembered - len(self.ratios)
        for rival in named:
            if room <= 0:
                break
            if rival != me and rival not in self.ratios:
                self.ratios[rival] = {}
                readings[rival] = reading
                room -= 1

    def lot_ended(self, me: str, winner: str | None, price: float | None, bids: dict[str, float], start: float,
                  increment: float, category: str | None, beliefs: Beliefs, cause: int) -> None:
        """Update and log the beliefs the lot's bids (rival -> its highest bid), drop-outs and outcome support."""
        top = dict(sorted(((r, a) for r, a in bids.items() if r != me), key=lambda b: -b[1])[: self.tracked])
        won = winner is not None and price is not None and winner != me
        if won and winner is not None and price is not None:
            top[winner] = max(top.get(winner, price), price)
        if "budget" in self.keys:
            for rival, amount in top.items():
                bound = self.spent.get(rival, 0.0) + amount
                if bound > self.budget.get(rival, 0.0) + 1e-9:
                    self.budget[rival] = bound
                    beliefs.update(rival, "budget", round(bound, 2), confidence=0.5, causes=(cause,), rule="profiler")
        if "priority" in self.keys and category is not None:
            readings = {**top, **self.readings}  # a drop-out price reads the value better than a bid below it
            if won and winner is not None and price is not None:
                readings[winner] = price + increment / 2  # it stayed in past everyone else
            scale = price if price else start  # readings relative to the lot's price: what the house is worth
            if scale > 0:
                for rival, reading in readings.items():
                    self._priority(rival, reading / scale, category, beliefs, cause)
        if won and winner is not None and price is not None:
            self.spent[winner] = self.spent.get(winner, 0.0) + price
        self.readings = {}

    def _priority(self, rival: str, ratio: float, category: str, beliefs: Beliefs, cause: int) -> None:
        by_category = self.ratios.get(rival)
        if by_category is None:
            if len(self.ratios) >= self.remembered:
                return
            by_category = self.ratios[rival] = {}
        entry = by_category.setdefault(category, [0.0, 0.0])
        entry[0] += ratio
        entry[1] += 1.0
        best = min(by_category, key=lambda c: (-by_category[c][0] / by_category[c][1], c))
        if self.priority.get(rival) != best:
            self.priority[rival] = best
            seen = sum(c for _, c in by_category.values())
            beliefs.update(rival, "priority", best, confidence=round(min(0.9, seen / (seen + 2.0)), 3),
                           causes=(cause,), rule="profiler")


_last_digest: _Digest | None = None  # the digest of the event being handed to its witnesses


def _digest(event: WorldEvent) -> _Digest:
    """The event's digest, from the one-slot cache (keyed by the event object itself, so a perception that
    hands out an altered copy gets its own digest)."""
    global _last_digest
    digest = _last_digest
    if digest is None or digest.event is not event:
        digest = _last_digest = _Digest(event)
    return digest


class Profiler:
    """Keeps beliefs about its strongest rivals' values of the current lot, learned from what they
    revealed (an English drop-out at p puts a value between the rival's last bid and p; a bid says it is
    at least the bid; revealed sealed bids and winning prices bound it from below), and shades first-price
    and Dutch bids to just beat the strongest rival it expects. Truthful where that is dominant.

    What it tracks, logs and computes per bidder does not grow with the room. Per lot it tracks the
    ``rivals_tracked`` (5) rivals with the highest estimates it has evidence on (:class:`RankedRivals`):
    the lot opens with priors for the strongest rivals it remembers; evidence about a tracked rival
    updates it; another rival gets in only by outranking the weakest (so the weak rivals that a mass
    drop-out at the first ask reveals are not each logged). Logged as ``belief.updated`` (about, key
    ``value``, value, confidence, item): every belief about a tracked rival, and the drop-out reading of
    any rival that bid on the lot (precise, and at most one per bid heard). For later lots it remembers
    at most ``rivals_remembered`` (20) rivals (:class:`RivalHistory`): the estimate / starting price ratio
    of every reading of a tracked or remembered rival, and of each lot's winner. The work per event and
    decision is bounded by these sizes; an event that names every bidder is digested once for all its
    witnesses (:class:`_Digest`), and the strongest estimate is kept ranked, not searched for."""

    rivals_tracked: ClassVar[int] = 5
    rivals_remembered: ClassVar[int] = 20

    def __init__(self) -> None:
        self.item: str | None = None
        self.start = 1.0
        self.increment = 0.0
        self.format = "english"
        self.n = 2
        self.rivals = RankedRivals(self.rivals_tracked)
        self.history = RivalHistory(self.rivals_remembered)
        self.floor: dict[str, float] = {}  # each rival's highest bid on the current lot (English and Dutch bids)
        self.believed: dict[str, float] = {}  # the last estimate logged about each rival on the current lot
        self.traits: RivalTraits | None = None  # budget and priority profiling, when asked for
        self.category: str | None = None  # the current lot's category
        self.revealed: dict[str, float] = {}  # sealed formats: the highest revealed bids of the current lot

    def profile_rivals(self, keys: tuple[str, ...]) -> None:
        """Also believe rivals' ``budget`` and/or ``priority`` (:class:`RivalTraits`); () for values only."""
        self.traits = RivalTraits(keys, self.rivals_tracked, self.rivals_remembered) if keys else None

    # -- theory of mind --------------------------------------------------------------------
    def observe(self, persona: Persona, event: WorldEvent, beliefs: Beliefs, rng: np.random.Generator) -> None:
        kind, d = event.kind, event.data
        me = persona.id
        if kind == "auction.opened":
            self.item = d["item"]["id"]
            self.start = d["item"]["starting_price"] or 1.0
            self.increment = d["increment"]
            self.format = d["format"]
            self.n = d["n_bidders"]
            self.rivals = RankedRivals(self.rivals_tracked)
            self.floor = {}
            self.believed = {}
            self.category = d["item"].get("category")
            self.revealed = {}
            if self.traits is not None:
                self.traits.lot_opened()
            for rival, ratio, seen in self.history.strongest(self.rivals_tracked):
                self._believe(beliefs, rival, ratio * self.start, seen / (seen + 2.0), event.seq)
        elif kind == "auction.bid" and d["bidder"] != me and d["item"] == self.item:
            bidder, amount = d["bidder"], d["amount"]
            self.floor[bidder] = amount
            if self.format == "english" and self.believed.get(bidder, -1.0) < amount:
                self._believe(beliefs, bidder, amount + self.increment / 2, 0.5, event.seq)
        elif kind == "auction.dropped" and d["item"] == self.item:
            self._dropped(me, event, beliefs)
        elif kind == "auction.bids_revealed" and d["item"] == self.item:
            scale = self.n / (self.n - 1.0) if self.format == "first_price" and self.n > 1 else 1.0
            bids: dict[str, float | None] = d["bids"]
            done = {me}
            for rival in self.rivals.names():  # what the tracked rivals bid
                amount = bids.get(rival)
                if amount is not None:
                    self._learn(beliefs, rival, amount * scale, 0.7, event.seq)
                    done.add(rival)
            for rival, amount in _digest(event).ranked_bids:  # the highest bids, while they rank
                if rival in done:
                    continue
                if not self.rivals.admits(amount * scale):
                    break
                self._learn(beliefs, rival, amount * scale, 0.7, event.seq)
                done.add(rival)
            for rival in self.history.names():  # what the other remembered rivals bid, low bids included
                amount = bids.get(rival)
                if amount is not None and rival not in done:
                    self.history.add(rival, amount * scale / self.start)
            if self.traits is not None:
                self.revealed = dict(_digest(event).ranked_bids[: self.rivals_tracked + 1])
        elif kind == "auction.sold" and d["item"] == self.item and d["winner"] != me:
            w, price = d["winner"], d["price"]
            if self.believed.get(w, -1.0) < price:
                self._believe(beliefs, w, price, 0.6, event.seq)
            # the winner is remembered whether or not it ranks among the tracked rivals of this lot
            if self.format == "english":
                self.history.add(w, max(self.believed.get(w, 0.0), price) / self.start)
            elif self.format == "dutch":
                self.history.add(w, price * self.n / max(1, self.n - 1) / self.start)
        if self.traits is not None and kind in ("auction.sold", "auction.unsold") and d["item"] == self.item:
            self.traits.lot_ended(me, d.get("winner"), d.get("price"), self.floor or self.revealed, self.start,
                                  self.increment, self.category, beliefs, event.seq)

    def _dropped(self, me: str, event: WorldEvent, beliefs: Beliefs) -> None:
        """Passing at p means value < p; the rival's last bid this lot bounds it from below, else the
        previous ask does. Tracked rivals are updated; others are offered strongest first."""
        d = event.data
        price: float = d["price"]
        named: list[str] = d["bidders"]
        dropped = _digest(event).dropped
        floor = self.floor
        guess = max(0.0, price - self.increment)  # the lower bound of a rival that never bid this lot
        done = {me}
        for rival in self.rivals.names():
            if rival in dropped:
                self._learn(beliefs, rival, (floor.get(rival, guess) + price) / 2, 0.8, event.seq)
                done.add(rival)
        # rivals that bid this lot, then dropped (walk the shorter list), strongest first
        bid_then_dropped = [r for r in floor if r in dropped] if len(floor) <= len(named) else [r for r in named if r in floor]
        ranked = sorted(((r, (floor[r] + price) / 2) for r in bid_then_dropped if r not in done), key=lambda x: -x[1])
        for rival, est in ranked:
            if self._learn(beliefs, rival, est, 0.8, event.seq):
                done.add(rival)
            else:  # a precise reading: logged though not tracked (and remembered below if remembered)
                self._log(beliefs, rival, est, 0.8, event.seq)
        # the others are alike at (guess + price) / 2: take them in the event's order while they rank
        alike = (guess + price) / 2
        for rival in named:
            if not self.rivals.admits(alike):
                break
            if rival not in done and rival not in floor:
                self._learn(beliefs, rival, alike, 0.8, event.seq)
                done.add(rival)
        for rival in self.history.names():  # the other remembered rivals that dropped, weak lots included
            if rival in dropped and rival not in done:
                self.history.add(rival, (floor.get(rival, guess) + price) / 2 / self.start)
        if self.traits is not None:
            self.traits.dropped(me, price, self.start, self.increment, dropped, named)

    def _believe(self, beliefs: Beliefs, rival: str, est: float, conf: float, cause: int) -> bool:
        """Track and log the estimate if the rival is tracked or ranks among the strongest; whether it did."""
        if not self.rivals.offer(rival, est):
            return False
        self._log(beliefs, rival, est, conf, cause)
        return True

    def _learn(self, beliefs: Beliefs, rival: str, est: float, conf: float, cause: int) -> bool:
        """Believe the estimate and, if the rival is tracked, remember it for later lots; whether it is."""
        if not self._believe(beliefs, rival, est, conf, cause):
            return False
        self.history.add(rival, est / self.start)
        return True

    def _log(self, beliefs: Beliefs, rival: str, est: float, conf: float, cause: int) -> None:
        """Log the belief (and note it: a later bid below it says nothing new)."""
        self.believed[rival] = est
        beliefs.update(rival, "value", round(est, 6), confidence=conf, causes=(cause,), item=self.item)

    # -- bidding ---------------------------------------------------------------------------
    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> BaseModel:
        c = observation.context
        value = c["value"]
        if c["format"] in ("english", "second_price"):
            return truthful_response(observation)
        limit = limit_of(c, value)
        strongest = self.rivals.strongest()
        if strongest is not None:
            n = c["n_bidders"]
            target = strongest * (n - 1) / n + max(c["increment"], 1e-9)  # just above its expected bid
            if target <= value:
                return respond(observation, limit, min(target, c["budget_left"]))
        return respond(observation, limit, min(equilibrium_target(observation), c["budget_left"]))
