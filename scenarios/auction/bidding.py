"""What a bidder may do (the action models of each format) and the arithmetic every bidding policy
shares: carrying out a plan (:func:`respond`), the equilibrium bid, the limit a budget sets.

A decision's ``context`` is what the bidder perceives: its private value, remaining budget, the lot's
public attributes and the format's state (ask, clock, reserve). Its ``policy_hints`` hold what only a rule
policy is given: ``value_prior``, the distribution of the room's values that equilibrium bidding assumes
to be common knowledge.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simworld.decisions import DecisionRequest

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


def limit_of(c: dict[str, Any], value: float) -> float:
    budget_left: float = c["budget_left"]
    return min(value, budget_left)


def equilibrium_target(obs: DecisionRequest) -> float:
    c = obs.context
    return equilibrium_bid(c["value"], c["n_bidders"], obs.policy_hints["value_prior"], c.get("reserve") or 0.0)




def truthful_response(obs: DecisionRequest) -> BaseModel:
    """Bid (or stay in) up to one's value, within the budget left."""
    limit = limit_of(obs.context, obs.context["value"])
    return respond(obs, limit, limit)
