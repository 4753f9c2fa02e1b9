"""Bidding actions and the rule strategies: truthful, equilibrium, persona, profiler.

Every strategy is a policy ``(persona, observation, memories, beliefs, rng) -> action`` where
``observation`` is the decision request; its ``context`` holds the bidder's private value, remaining
budget, the lot's public attributes and the format-specific state (ask, clock, reserve).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.brains import PolicyRegistry

from simworld.decisions import DecisionRequest

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


ACTION_TYPES = {ENGLISH: EnglishAction, SEALED: SealedBid, DUTCH: DutchAction}

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


def equilibrium_bid(value: float, n: int, prior: dict[str, Any], reserve: float = 0.0) -> float:
    """Risk-neutral symmetric equilibrium bid of first-price and Dutch auctions:
    b(v) = v - integral_r^v F(x)^(n-1) dx / F(v)^(n-1), for ``n`` bidders with values drawn from F."""
    if n <= 1 or value <= reserve:
        return max(reserve, 0.0) if value > reserve else value
    if prior["kind"] == "uniform01":
        v = min(value, 1.0)
        return v - (v**n - reserve**n) / (n * v ** (n - 1))
    q = np.asarray(prior["q"], dtype=float)
    probs = np.linspace(0.0, 1.0, len(q))
    lo = max(reserve, float(q[0]))
    if value <= lo:
        return value
    grid = np.linspace(lo, value, 257)
    f = np.interp(grid, q, probs) ** (n - 1)
    fv = f[-1]
    if fv <= 0.0:
        return value
    integral = float(np.sum((f[1:] + f[:-1]) * np.diff(grid)) / 2.0)
    return value - integral / fv


def _limit(c: dict[str, Any], value: float) -> float:
    return min(value, c["budget_left"])


@policies.register("truthful")
def truthful(persona, obs: DecisionRequest, memories, beliefs, rng) -> BaseModel:  # type: ignore[no-untyped-def]
    """Bid (or stay in) up to one's value; dominant in second-price and English auctions."""
    limit = _limit(obs.context, obs.context["value"])
    return respond(obs, limit, limit)


@policies.register("equilibrium")
def equilibrium(persona, obs: DecisionRequest, memories, beliefs, rng) -> BaseModel:  # type: ignore[no-untyped-def]
    """Truthful where that is an equilibrium; the symmetric risk-neutral equilibrium bid otherwise."""
    c = obs.context
    value = c["value"]
    if c["format"] in ("english", "second_price"):
        return truthful(persona, obs, memories, beliefs, rng)
    b = equilibrium_bid(value, c["n_bidders"], c["_value_prior"], c.get("reserve") or 0.0)
    return respond(obs, _limit(c, value), min(b, c["budget_left"]))


@policies.register("persona")
def persona_strategy(persona, obs: DecisionRequest, memories, beliefs, rng) -> BaseModel:  # type: ignore[no-untyped-def]
    """Budget- and preference-driven: risk seekers go past their value in open bidding and shade more in
    first-price; risk-averse bidders shade less; nervous bidders accept a Dutch clock early."""
    c = obs.context
    risk = persona.roles["bidder"]["risk_attitude"]
    b5 = persona.big_five
    value = c["value"]
    premium = 0.08 * max(0.0, risk) + 0.04 * (b5.extraversion - 0.5)
    limit = _limit(c, value * (1.0 + premium))
    if c["format"] in ("english", "second_price"):
        return respond(obs, limit, limit)
    n = max(2, c["n_bidders"])
    shade = (1.0 / n) * (1.0 + 0.5 * risk)
    if c["format"] == "dutch":
        shade -= 0.05 * (b5.neuroticism - 0.5)
    return respond(obs, limit, min(limit, value * (1.0 - max(0.0, shade))))


class Profiler:
    """Keeps beliefs about each rival's value of the current lot, learned from what the rival revealed
    (an English drop-out at p puts its value between its last bid and p; a bid says it is at least the
    bid; revealed
    sealed bids and winning prices bound it from below), and shades first-price and Dutch bids to just
    beat the strongest rival it expects. Truthful where that is dominant."""

    def __init__(self) -> None:
        self.item: str | None = None
        self.start = 1.0
        self.increment = 0.0
        self.format = "english"
        self.n = 2
        self.ratios: dict[str, list[float]] = {}
        self.estimates: dict[str, float] = {}
        self.floor: dict[str, float] = {}  # each rival's highest bid on the current lot

    # -- theory of mind --------------------------------------------------------------------
    def observe(self, persona, event, beliefs, rng) -> None:  # type: ignore[no-untyped-def]
        kind, d = event.kind, event.data
        me = persona.id
        if kind == "auction.opened":
            self.item = d["item"]["id"]
            self.start = d["item"]["starting_price"] or 1.0
            self.increment = d["increment"]
            self.format = d["format"]
            self.n = d["n_bidders"]
            self.estimates = {}
            self.floor = {}
            for rival, obs in self.ratios.items():
                est = float(np.mean(obs)) * self.start
                self._believe(beliefs, rival, est, len(obs) / (len(obs) + 2.0), event.seq)
        elif kind == "auction.bid" and d["bidder"] != me and d["item"] == self.item:
            self.floor[d["bidder"]] = d["amount"]
            if self.format == "english" and self.estimates.get(d["bidder"], -1.0) < d["amount"]:
                self._believe(beliefs, d["bidder"], d["amount"] + self.increment / 2, 0.5, event.seq)
        elif kind == "auction.dropped" and d["item"] == self.item:
            # Passing at p means value < p; the rival's last bid this lot (if any) bounds it from below.
            for rival in d["bidders"]:
                if rival != me:
                    low = self.floor.get(rival, max(0.0, d["price"] - self.increment))
                    est = (low + d["price"]) / 2
                    self._believe(beliefs, rival, est, 0.8, event.seq)
                    self.ratios.setdefault(rival, []).append(est / self.start)
        elif kind == "auction.bids_revealed" and d["item"] == self.item:
            scale = self.n / (self.n - 1.0) if self.format == "first_price" and self.n > 1 else 1.0
            for rival, amount in d["bids"].items():
                if rival != me and amount is not None:
                    self._believe(beliefs, rival, amount * scale, 0.7, event.seq)
                    self.ratios.setdefault(rival, []).append(amount * scale / self.start)
        elif kind == "auction.sold" and d["item"] == self.item and d["winner"] != me:
            w = d["winner"]
            if self.estimates.get(w, -1.0) < d["price"]:
                self._believe(beliefs, w, d["price"], 0.6, event.seq)
            if self.format == "english":
                self.ratios.setdefault(w, []).append(max(self.estimates.get(w, 0.0), d["price"]) / self.start)
            elif self.format == "dutch":
                self.ratios.setdefault(w, []).append(d["price"] * self.n / max(1, self.n - 1) / self.start)

    def _believe(self, beliefs, rival: str, est: float, conf: float, cause: int) -> None:  # type: ignore[no-untyped-def]
        self.estimates[rival] = est
        beliefs.update(rival, "value", round(est, 6), confidence=conf, causes=(cause,), item=self.item)

    # -- bidding ---------------------------------------------------------------------------
    def __call__(self, persona, obs: DecisionRequest, memories, beliefs, rng) -> BaseModel:  # type: ignore[no-untyped-def]
        c = obs.context
        value = c["value"]
        if c["format"] in ("english", "second_price"):
            return truthful(persona, obs, memories, beliefs, rng)
        n = c["n_bidders"]
        eq = equilibrium_bid(value, n, c["_value_prior"], c.get("reserve") or 0.0)
        if not self.estimates:
            return respond(obs, _limit(c, value), min(eq, c["budget_left"]))
        strongest = max(self.estimates.values())
        expected_rival_bid = strongest * (n - 1) / n
        target = expected_rival_bid + max(c["increment"], 1e-9)
        if target > value:
            target = eq
        return respond(obs, _limit(c, value), min(target, c["budget_left"]))


policies.register("profiler", Profiler)
