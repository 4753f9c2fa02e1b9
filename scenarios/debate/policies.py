"""What debaters and the audience may do (the typed actions of each decision), the text templates of
rule brains, and the rule policy, registered as ``persona``."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.beliefs import Beliefs
from simworld.agents.brains import PolicyRegistry
from simworld.agents.persona import Persona
from simworld.memory import Memory

from simworld.decisions import DecisionRequest

Move = Literal["claim", "evidence", "rebuttal", "concession", "appeal"]
MOVES: tuple[Move, ...] = ("claim", "evidence", "rebuttal", "concession", "appeal")

#: The decisions of a debate: a debater's turn, a private word at the break, the audience's closing vote.
ARGUE, PRIVATE, VOTE = "debate.argue", "debate.private", "debate.vote"


class Argument(BaseModel):
    """A debater's turn: the move's type and what is said (rule brains fill the text from templates)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    move: Move
    text: str = Field(default="", max_length=2000)
    rationale: str = ""


class PrivateMessage(BaseModel):
    """A private word at the break: to whom (a participant id, or None to stay silent) and what."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    to: str | None = None
    text: str = Field(default="", max_length=1000)
    rationale: str = ""


class Vote(BaseModel):
    """The closing vote on the proposition."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    vote: Literal["for", "against", "undecided"]
    rationale: str = ""


TEMPLATES: dict[str, tuple[str, ...]] = {
    "claim": ("I firmly believe that {prop} is {stance}.", "Let me be clear: {prop}? My answer is {stance}."),
    "evidence": ("The data from comparable cases supports my view: {prop} is {stance}.",
                 "Studies and experience elsewhere show why {prop} is {stance}."),
    "rebuttal": ("My opponent's argument does not hold; {prop} is {stance} for reasons they ignore.",
                 "That point misses the facts: on {prop}, I remain {stance}."),
    "concession": ("I grant that the other side has a fair point, yet overall {prop} is {stance}.",
                   "Some of that is true, but it does not change that {prop} is {stance}."),
    "appeal": ("Think of the people this affects every day: {prop} is {stance}.",
               "We owe it to our neighbours and children: {prop} is {stance}."),
}


def template_text(move: str, proposition: str, side: float, rng: np.random.Generator) -> str:
    """Words for ``move`` on ``proposition`` from the side ``side`` (+1 for, -1 against)."""
    options = TEMPLATES[move]
    stance = "right" if side > 0 else "wrong"
    return options[int(rng.integers(len(options)))].format(prop=proposition.rstrip("."), stance=stance)


def persona_policy(persona: Persona, obs: DecisionRequest, memories: Memory, beliefs: Beliefs,
                   rng: np.random.Generator) -> Argument | PrivateMessage | Vote:
    """Rule debater, listener and voter: choices weighted by the persona's traits."""
    c = obs.context
    b5 = persona.big_five
    if obs.decision == ARGUE:
        if c.get("turn", 0) == 0:
            move: Move = "claim"
        else:
            w = np.array([
                0.3 + 0.4 * b5.extraversion,                                        # claim
                0.2 + 0.8 * b5.conscientiousness,                                   # evidence
                (0.2 + 0.8 * (1.0 - b5.agreeableness)) * (1.0 if c.get("opponent_spoke") else 0.2),
                0.05 + 0.5 * b5.agreeableness * (1.0 if c.get("opponent_spoke") else 0.0),
                0.1 + 0.5 * b5.extraversion + 0.3 * b5.neuroticism,                 # appeal
            ])
            move = MOVES[int(rng.choice(len(MOVES), p=w / w.sum()))]
        return Argument(move=move, text=template_text(move, c["proposition"], c["side"], rng))
    if obs.decision == PRIVATE:
        candidates: list[str] = c.get("undecided", [])
        if not candidates or rng.random() > 0.2 + 0.6 * b5.extraversion:
            return PrivateMessage(to=None)
        to = candidates[int(rng.integers(len(candidates)))]
        stance = "for" if c["side"] > 0 else "against"
        return PrivateMessage(to=to, text=f"Between us: I hope you will vote {stance} on '{c['proposition']}'.")
    opinion = float(c["opinion"])
    band = 0.05 + 0.15 * b5.neuroticism
    return Vote(vote="for" if opinion > band else "against" if opinion < -band else "undecided")


policies = PolicyRegistry("debate")
policies.register("persona", persona_policy)
