"""Bidders: the typed ``bidder`` role of a persona, role sampling, and private valuations."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.persona import Persona
from simworld.scenarios.auction.items import LOCATIONS, House


class Preferences(BaseModel):
    """How much a bidder cares about each house attribute (weights in [0, 1])."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    size: float = Field(default=0.5, ge=0.0, le=1.0)
    location: str | None = Field(default=None, description="preferred location type, if any")
    location_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    condition: float = Field(default=0.5, ge=0.0, le=1.0)
    school: float = Field(default=0.5, ge=0.0, le=1.0)


class BidderRole(BaseModel):
    """``roles.bidder`` of a persona."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    budget: float = Field(gt=0.0, description="most the bidder can spend over the whole auction")
    risk_attitude: float = Field(default=0.0, ge=-1.0, le=1.0, description="-1 averse, 0 neutral, 1 seeking")
    overestimate: float = Field(default=0.0, ge=-0.5, le=1.0, description="tendency to overvalue houses")
    preferences: Preferences = Field(default_factory=Preferences)
    strategy: str | None = Field(default=None, description="a policy name; overrides the config's strategy")
    brain: Literal["rule", "llm", "local"] | None = Field(default=None, description="overrides the config's brain")


def sample_bidder_role(persona: Persona, draws: dict[str, float], rng: np.random.Generator) -> dict[str, Any]:
    """A bidder role that follows the persona: risk attitude from extraversion, openness and neuroticism;
    families (by age) weigh schools; a budget correlated with income (drawn by the population generator)."""
    b5 = persona.big_five
    age = persona.demographics.age or 40
    risk = np.clip(0.8 * (b5.extraversion - 0.5) + 0.6 * (b5.openness - 0.5) - 0.8 * (b5.neuroticism - 0.5)
                   + rng.normal(0, 0.15), -1.0, 1.0)
    over = np.clip(0.3 * (b5.extraversion - 0.5) - 0.2 * (b5.conscientiousness - 0.5) + rng.normal(0.02, 0.05),
                   -0.5, 1.0)
    prefs = Preferences(
        size=float(np.clip(rng.beta(2, 2), 0, 1)),
        location=persona.demographics.location if persona.demographics.location in LOCATIONS else None,
        location_weight=float(np.clip(rng.beta(2, 2), 0, 1)),
        condition=float(np.clip(0.3 + 0.5 * b5.conscientiousness + rng.normal(0, 0.1), 0, 1)),
        school=float(np.clip((0.8 if 28 <= age <= 50 else 0.3) + rng.normal(0, 0.15), 0, 1)),
    )
    role = BidderRole(
        budget=round(draws["budget"], 2),
        risk_attitude=round(float(risk), 3),
        overestimate=round(float(over), 3),
        preferences=prefs,
    )
    return {"bidder": role.model_dump(mode="json")}


def persona_value(house: House, role: BidderRole, noise: float) -> float:
    """A bidder's private value of a house: market value x preference fit x (1 + overestimate) x noise."""
    p = role.preferences
    dev_size = float(np.clip((house.size_sqm - 120.0) / 120.0, -1.0, 1.0))
    dev_loc = (1.0 if house.location == p.location else -0.5) if p.location else 0.0
    dev_cond = 2.0 * (house.condition - 0.5)
    dev_school = (house.school_rating - 5.5) / 4.5
    weights = p.size + p.location_weight + p.condition + p.school
    fit = 1.0 + 0.25 * (
        p.size * dev_size + p.location_weight * dev_loc + p.condition * dev_cond + p.school * dev_school
    ) / max(1.0, weights)
    market = house.true_value if house.true_value is not None else house.starting_price / 0.82
    return float(market * fit * (1.0 + role.overestimate) * np.exp(noise))
