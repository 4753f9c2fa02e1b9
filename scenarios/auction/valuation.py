"""Private values: what each bidder's house is worth to them, and the value distribution rule bidders assume."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from simworld.scenarios.auction.items import House
from simworld.scenarios.auction.policies import ValuePrior
from simworld.scenarios.auction.roles import BidderRole

_UNIFORM_PRIOR: ValuePrior = {"kind": "uniform01"}


def persona_value(house: House, role: BidderRole, noise: float) -> float:
    """A bidder's private value of a house: market value x preference fit x priority fit x (1 + overestimate)
    x noise. A house without ``size_sqm`` is valued without the size term. The priority fit applies when
    the house has a ``category`` and the bidder ``priorities``: 1 + 0.3 (w - 0.5), w the category's weight
    (0 when absent), so a house of the bidder's top priority (w = 1) is worth 15% more, one it does not
    care for (w = 0) 15% less."""
    p = role.preferences
    dev_loc = (1.0 if house.location == p.location else -0.5) if p.location else 0.0
    dev_cond = 2.0 * (house.condition - 0.5)
    dev_school = (house.school_rating - 5.5) / 4.5
    if house.size_sqm is not None:
        dev_size = float(np.clip((house.size_sqm - 120.0) / 120.0, -1.0, 1.0))
        weights = p.size + p.location_weight + p.condition + p.school
        fit = 1.0 + 0.25 * (
            p.size * dev_size + p.location_weight * dev_loc + p.condition * dev_cond + p.school * dev_school
        ) / max(1.0, weights)
    else:
        weights = p.location_weight + p.condition + p.school
        fit = 1.0 + 0.25 * (p.location_weight * dev_loc + p.condition * dev_cond + p.school * dev_school) / max(1.0, weights)
    if house.category is not None and role.priorities:
        fit *= 1.0 + 0.3 * (role.priorities.get(house.category, 0.0) - 0.5)
    market = house.true_value if house.true_value is not None else house.starting_price / 0.82
    return float(market * fit * (1.0 + role.overestimate) * np.exp(noise))


class Valuations:
    """Each bidder's private value of each house, drawn once per house (a relisted lot keeps its values):
    ``iid_uniform`` draws U[0, 1] per bidder; ``persona`` applies :func:`persona_value` with log-normal noise."""

    def __init__(self, mode: Literal["persona", "iid_uniform"], bidders: Sequence[str], roles: dict[str, BidderRole],
                 rng: np.random.Generator) -> None:
        self.mode = mode
        self.bidders = list(bidders)
        self.roles = roles
        self.rng = rng
        self._values: dict[str, dict[str, float]] = {}

    def of(self, house: House) -> dict[str, float]:
        """bidder id -> value of ``house``."""
        vals = self._values.get(house.id)
        if vals is None:
            if self.mode == "iid_uniform":
                draws = self.rng.random(len(self.bidders))
                vals = {b: float(v) for b, v in zip(self.bidders, draws)}
            else:
                noise = self.rng.normal(0.0, 0.05, len(self.bidders))
                vals = {b: round(persona_value(house, self.roles[b], e), 2) for b, e in zip(self.bidders, noise)}
            self._values[house.id] = vals
        return vals

    def prior(self, values: dict[str, float]) -> ValuePrior:
        """What equilibrium bidders take as the common value distribution of a lot: U[0, 1] in the
        analytic mode, otherwise the empirical quantiles of the room's values for it."""
        if self.mode == "iid_uniform":
            return _UNIFORM_PRIOR
        q = np.quantile(np.fromiter(values.values(), float), np.linspace(0, 1, 101))
        return {"kind": "quantiles", "q": q.tolist()}
