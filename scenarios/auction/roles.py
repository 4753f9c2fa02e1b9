"""The typed ``bidder`` role of a persona, and how a generated persona gets one."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from simworld.agents.persona import Persona
from simworld.agents.population import PersonaDraws
from simworld.scenarios.auction.items import LOCATIONS
from simworld.scenarios.auction.policies import policies


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
    priorities: dict[str, float] = Field(
        default_factory=dict, description="weight (0-1) per house category: a house of a heavier category is worth more")
    priority: str | None = Field(
        default=None, max_length=128,
        description="the bidder's top priority category (default: the heaviest of priorities, ties by name)")

    #: Fields logged with the role only when set, so that runs without them log what they always did.
    OPTIONAL: ClassVar[tuple[str, ...]] = ("priorities", "priority")

    @field_validator("priorities")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in v.items() if not 0.0 <= w <= 1.0]
        if bad:
            raise ValueError(f"weights must lie in [0, 1] ({', '.join(map(repr, bad))} do not)")
        return v

    @model_validator(mode="after")
    def _top_priority(self) -> BidderRole:
        if self.priority is None and self.priorities:
            self.priority = min(self.priorities, key=lambda k: (-self.priorities[k], k))
        return self

    def logged(self) -> dict[str, Any]:
        """The role as ``agent.joined`` logs it: every field, defaults filled in, except unset OPTIONAL ones."""
        return self.model_dump(mode="json", exclude={k for k in self.OPTIONAL if not getattr(self, k)})

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str | None) -> str | None:
        if v is not None and v not in policies:
            raise ValueError(f"unknown strategy {v!r} (known: {', '.join(policies.names())})")
        return v


class BudgetSpec(BaseModel):
    """Budget log-normal around ``median``, its log correlated with log income by ``correlation``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    median: float = Field(default=450_000.0, gt=0.0)
    sigma: float = Field(default=0.35, ge=0.0)
    correlation: float = Field(default=0.7, ge=-1.0, le=1.0)

    def sample(self, draws: PersonaDraws) -> float:
        """The budget of a generated persona, from the normal behind its income and an independent one."""
        rho = self.correlation
        z = rho * draws.income_z + math.sqrt(1.0 - rho * rho) * draws.independent_z
        return float(self.median * np.exp(self.sigma * z))


def sample_bidder_role(
    persona: Persona, draws: PersonaDraws, rng: np.random.Generator, budget: BudgetSpec | None = None
) -> dict[str, dict[str, Any]]:
    """A bidder role that follows the persona: risk attitude from extraversion, openness and neuroticism;
    families (by age) weigh schools; a budget correlated with income (``budget``, default BudgetSpec())."""
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
        budget=round((budget or BudgetSpec()).sample(draws), 2),
        risk_attitude=round(float(risk), 3),
        overestimate=round(float(over), 3),
        preferences=prefs,
    )
    return {"bidder": role.model_dump(mode="json")}
