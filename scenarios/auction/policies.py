"""The auction's rule policies: truthful, equilibrium, persona, profiler (:mod:`.profiler`).

Every policy is ``(persona, observation, memories, beliefs, rng) -> action`` where ``observation`` is the
decision request (see :mod:`.bidding` for what its context and policy hints hold).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel
from simworld.agents.brains import PolicyRegistry
from simworld.scenarios.auction.bidding import (
    ACTION_TYPES,
    DUTCH,
    ENGLISH,
    SEALED,
    DutchAction,
    EnglishAction,
    SealedBid,
    ValuePrior,
    equilibrium_bid,
    equilibrium_target,
    limit_of,
    respond,
    truthful_response,
)
from simworld.scenarios.auction.profiler import Profiler, RankedRivals, RivalHistory

from simworld.decisions import DecisionRequest

if TYPE_CHECKING:
    from simworld.agents.beliefs import Beliefs
    from simworld.agents.persona import Persona
    from simworld.memory import Memory

__all__ = [
    "ACTION_TYPES", "DUTCH", "ENGLISH", "SEALED", "DutchAction", "EnglishAction", "Profiler", "RankedRivals",
    "RivalHistory", "SealedBid", "ValuePrior", "equilibrium", "equilibrium_bid", "persona_strategy", "policies",
    "respond", "truthful",
]

policies = PolicyRegistry("auction")


@policies.register("truthful")
def truthful(persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
             rng: np.random.Generator) -> BaseModel:
    """Bid (or stay in) up to one's value; dominant in second-price and English auctions."""
    return truthful_response(observation)


@policies.register("equilibrium")
def equilibrium(persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                rng: np.random.Generator) -> BaseModel:
    """Truthful where that is an equilibrium; the symmetric risk-neutral equilibrium bid otherwise."""
    c = observation.context
    if c["format"] in ("english", "second_price"):
        return truthful(persona, observation, memories, beliefs, rng)
    b = equilibrium_target(observation)
    return respond(observation, limit_of(c, c["value"]), min(b, c["budget_left"]))


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
    limit = limit_of(c, value * (1.0 + premium))
    if c["format"] in ("english", "second_price"):
        return respond(observation, limit, limit)
    n = max(2, c["n_bidders"])
    shade = (1.0 / n) * (1.0 + 0.5 * risk)
    if c["format"] == "dutch":
        shade -= 0.05 * (b5.neuroticism - 0.5)
    return respond(observation, limit, min(limit, value * (1.0 - max(0.0, shade))))


# A class, so that ``policies.create`` gives each bidder its own profiler (its own beliefs).
policies.register("profiler", Profiler)
