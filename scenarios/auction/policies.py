"""Bidding actions and the rule policies: truthful, equilibrium, persona, profiler.

Every policy is ``(persona, observation, memories, beliefs, rng) -> action`` where ``observation`` is the
decision request. Its ``context`` is what the bidder perceives: its private value, remaining budget, the
lot's public attributes and the format's state (ask, clock, reserve). Its ``policy_hints`` hold what only
a rule policy is given: ``value_prior``, the distribution of the room's values that equilibrium bidding
assumes to be common knowledge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Required, TypedDict

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.brains import PolicyRegistry

from simworld.decisions import DecisionRequest

if TYPE_CHECKING:
    from simworld.agents.beliefs import Beliefs
    from simworld.agents.persona import Persona
    from simworld.memory import Memory

    from simworld.events import WorldEvent

policies = PolicyRegistry("auction")

ENGLISH, SEALED, DUTCH = "auction.english", "auction.sealed", "auction.dutch"


class EnglishAction(BaseModel):
    """Open ascending: take the current ask, or pass (and leave this lot)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    choice: Literal["bid", "pass"]
    rationale: str = ""


class SealedBid(BaseModel):
    """Sealed bid: an amount, or None for no bid."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    amount: float | None = Field(default=None, ge=0.0)
    rationale: str = ""


class DutchAction(BaseModel):
    """Descending clock: accept the current price, or wait for a lower one."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    choice: Literal["accept", "wait"]
    rationale: str = ""


ACTION_TYPES: dict[str, type[BaseModel]] = {ENGLISH: EnglishAction, SEALED: SealedBid, DUTCH: DutchAction}


class ValuePrior(TypedDict, total=False):
    """The value distribution bidders assume: U[0, 1] (``uniform01``), or 101 quantiles ``q`` of the room's
    values (``quantiles``)."""

    kind: Required[Literal["uniform01", "quantiles"]]
    q: list[float]


_BID = EnglishAction(choice="bid")
_PASS = EnglishAction(choice="pass")
_ACCEPT = DutchAction(choice="accept")
_WAIT = DutchAction(choice="wait")
_NO_BID = SealedBid(amount=None)


def respond(obs: DecisionRequest, limit: float, target: float) -> BaseModel:
    """The action that carries out a plan: stay in an open auction up to ``limit``; bid ``target`` in a
    sealed auction (raised to the minimum bid when the limit allows); accept a descending clock at
    ``target`` or below."""
    c = obs.context
    if obs.decision == ENGLISH:
        return _BID if c["ask"] <= limit else _PASS
    if obs.decision == DUTCH:
        return _ACCEPT if c["clock"] <= target else _WAIT
    floor = c.get("min_bid") or 0.0
    if target < floor <= limit:
        target = floor  # shading below the minimum would not count: bid the minimum instead
    return SealedBid(amount=round(target, 6)) if target >= floor and target > 0 else _NO_BID


def equilibrium_bid(value: float, n: int, prior: ValuePrior, reserve: float = 0.0) -> float:
    """Risk-neutral symmetric equilibrium bid of first-price and Dutch auctions:
    b(v) = v - integral_r^v F(x)^(n-1) dx / F(v)^(n-1), for ``n`` bidders with values drawn from F."""
    if n <= 1 or value <= reserve:
        return max(reserve, 0.0) if value > reserve else value
    if prior["kind"] == "uniform01":
        v = min(value, 1.0)
        scale = n * v ** (n - 1)
        if scale > 0.0:
            return v - (v**n - reserve**n) / scale
        return v - (v - reserve * (reserve / v) ** (n - 1)) / n  # the same, where v^(n-1) underflows (large n)
    q = np.asarray(prior["q"], dtype=float)
    probs = np.linspace(0.0, 1.0, len(q))
    lo = max(reserve, float(q[0]))
    if value <= lo:
        return value
    grid = np.linspace(lo, value, 257)
    f = np.interp(grid, q, probs) ** (n - 1)
    fv: np.float64 = f[-1]
    if fv <= 0.0:
        return value
    integral = float(np.sum((f[1:] + f[:-1]) * np.diff(grid)) / 2.0)
    # Kept a numpy float64: respond() then rounds the bid with numpy's rounding, as logged bids always were.
    return value - integral / fv


def _limit(c: dict[str, Any], value: float) -> float:
    budget_left: float = c["budget_left"]
    return min(value, budget_left)


def _equilibrium_target(obs: DecisionRequest) -> float:
    c = obs.context
    return equilibrium_bid(c["value"], c["n_bidders"], obs.policy_hints["value_prior"], c.get("reserve") or 0.0)


@policies.register("truthful")
def truthful(persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
             rng: np.random.Generator) -> BaseModel:
    """Bid (or stay in) up to one's value; dominant in second-price and English auctions."""
    limit = _limit(observation.context, observation.context["value"])
    return respond(observation, limit, limit)


@policies.register("equilibrium")
def equilibrium(persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                rng: np.random.Generator) -> BaseModel:
    """Truthful where that is an equilibrium; the symmetric risk-neutral equilibrium bid otherwise."""
    c = observation.context
    if c["format"] in ("english", "second_price"):
        return truthful(persona, observation, memories, beliefs, rng)
    b = _equilibrium_target(observation)
    return respond(observation, _limit(c, c["value"]), min(b, c["budget_left"]))


@policies.register("persona")
def persona_strategy(persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                     rng: np.random.Generator) -> BaseModel:
    """Budget- and preference-driven: risk seekers go past their value in open bidding and shade more in
    first-price; risk-averse bidders shade less; nervous bidders accept a Dutch clock early."""
    c = observation.context
    risk = persona.roles["bidder"]["risk_attitude"]
    b5 = persona.big_five
    value = c["value"]
    premium = 0.08 * max(0.0, risk) + 0.04 * (b5.extraversion - 0.5)
    limit = _limit(c, value * (1.0 + premium))
    if c["format"] in ("english", "second_price"):
        return respond(observation, limit, limit)
    n = max(2, c["n_bidders"])
    shade = (1.0 / n) * (1.0 + 0.5 * risk)
    if c["format"] == "dutch":
        shade -= 0.05 * (b5.neuroticism - 0.5)
    return respond(observation, limit, min(limit, value * (1.0 - max(0.0, shade))))


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

    What it tracks and logs stays linear in the room: per lot, the ``rivals_tracked`` (5) rivals with the
    highest estimates it has evidence on (:class:`RankedRivals`). Each lot opens with a prior for the
    strongest of the rivals it remembers; evidence about a tracked rival updates it; evidence about
    another rival counts only if it ranks that rival among the strongest (a mass drop-out at the first ask
    reveals weak rivals, who are not each logged). Every belief that changes the tracked set is logged as
    ``belief.updated`` (about, key ``value``, value, confidence, item). For later lots it remembers the
    revealed ratios (estimate / starting price) of tracked rivals and of each lot's winner, for at most
    ``rivals_remembered`` (20) rivals (:class:`RivalHistory`). Per event and decision the work is O(5)
    (events that name every bidder are digested once for all witnesses, see :class:`_Digest`)."""

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
            for rival, ratio, seen in self.history.strongest(self.rivals_tracked):
                self._believe(beliefs, rival, ratio * self.start, seen / (seen + 2.0), event.seq)
        elif kind == "auction.bid" and d["bidder"] != me and d["item"] == self.item:
            bidder, amount = d["bidder"], d["amount"]
            self.floor[bidder] = amount
            if self.format == "english" and self.rivals.estimate.get(bidder, -1.0) < amount:
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
        elif kind == "auction.sold" and d["item"] == self.item and d["winner"] != me:
            w, price = d["winner"], d["price"]
            if self.rivals.estimate.get(w, -1.0) < price:
                self._believe(beliefs, w, price, 0.6, event.seq)
            # the winner is remembered whether or not it ranks among the tracked rivals of this lot
            if self.format == "english":
                self.history.add(w, max(self.rivals.estimate.get(w, 0.0), price) / self.start)
            elif self.format == "dutch":
                self.history.add(w, price * self.n / max(1, self.n - 1) / self.start)

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
            self._learn(beliefs, rival, est, 0.8, event.seq)
            done.add(rival)
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

    def _believe(self, beliefs: Beliefs, rival: str, est: float, conf: float, cause: int) -> bool:
        """Track and log the estimate if the rival is tracked or ranks among the strongest."""
        if not self.rivals.offer(rival, est):
            return False
        beliefs.update(rival, "value", round(est, 6), confidence=conf, causes=(cause,), item=self.item)
        return True

    def _learn(self, beliefs: Beliefs, rival: str, est: float, conf: float, cause: int) -> None:
        """Believe the estimate and, if the rival is tracked, remember it for later lots."""
        if self._believe(beliefs, rival, est, conf, cause):
            self.history.add(rival, est / self.start)

    # -- bidding ---------------------------------------------------------------------------
    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> BaseModel:
        c = observation.context
        value = c["value"]
        if c["format"] in ("english", "second_price"):
            return truthful(persona, observation, memories, beliefs, rng)
        limit = _limit(c, value)
        strongest = self.rivals.strongest()
        if strongest is not None:
            n = c["n_bidders"]
            target = strongest * (n - 1) / n + max(c["increment"], 1e-9)  # just above its expected bid
            if target <= value:
                return respond(observation, limit, min(target, c["budget_left"]))
        return respond(observation, limit, min(_equilibrium_target(observation), c["budget_left"]))


# A class, so that ``policies.create`` gives each bidder its own profiler (its own beliefs).
policies.register("profiler", Profiler)
