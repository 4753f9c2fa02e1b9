"""Argument moves: the typed actions of debaters and audience, their persona-dependent strength and
reception, the text templates of rule brains, and the rule policies.

The same move lands differently on different listeners (after the persona knowledge-aligned work on online
debate): evidence persuades open and conscientious listeners, appeals persuade agreeable and anxious ones,
rebuttals persuade the disagreeable, and a concession earns the speaker credibility with the other side.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.brains import PolicyRegistry
from simworld.agents.persona import BigFive, Persona

from simworld.decisions import DecisionRequest

MOVES = ("claim", "evidence", "rebuttal", "concession", "appeal")
Move = Literal["claim", "evidence", "rebuttal", "concession", "appeal"]

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


def move_strength(move: str, b5: BigFive) -> float:
    """How well this speaker delivers this move, in [0.2, 1]."""
    base = {
        "claim": 0.45 + 0.2 * b5.extraversion,
        "evidence": 0.3 + 0.35 * b5.conscientiousness + 0.25 * b5.openness,
        "rebuttal": 0.35 + 0.3 * b5.extraversion + 0.2 * (1.0 - b5.agreeableness),
        "concession": 0.3 + 0.4 * b5.agreeableness,
        "appeal": 0.3 + 0.3 * b5.extraversion + 0.2 * b5.agreeableness,
    }[move]
    return float(min(1.0, max(0.2, base)))


def receptivity(move: str, b5: BigFive) -> float:
    """How much this listener is moved by this kind of move, in [0.1, 1.5]."""
    r = {
        "claim": 0.5 + 0.3 * b5.agreeableness,
        "evidence": 0.3 + 0.6 * b5.openness + 0.4 * b5.conscientiousness,
        "rebuttal": 0.4 + 0.6 * (1.0 - b5.agreeableness),
        "concession": 0.3 + 0.6 * b5.agreeableness,
        "appeal": 0.3 + 0.5 * b5.neuroticism + 0.4 * b5.agreeableness - 0.3 * b5.conscientiousness,
    }[move]
    return float(min(1.5, max(0.1, r)))


def argument_shift(move: str, strength: float, listener: BigFive, opinion: float, side: float, rate: float) -> float:
    """The change of a listener's opinion after hearing a move from a speaker on ``side`` (+1 or -1).

    The listener is pulled towards the speaker's side by ``rate x strength x receptivity``, discounted by
    how far the listener stands from that side (confirmation bias). A concession pulls only half as hard.
    """
    pull = rate * strength * receptivity(move, listener) * (1.0 - 0.5 * abs(side - opinion) / 2.0)
    if move == "concession":
        pull *= 0.5
    target = side
    return float(np.clip(opinion + pull * (target - opinion), -1.0, 1.0) - opinion)


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
    options = TEMPLATES[move]
    stance = "right" if side > 0 else "wrong"
    return options[int(rng.integers(len(options)))].format(prop=proposition.rstrip("."), stance=stance)


policies = PolicyRegistry("debate")


@policies.register("persona")
def persona_policy(persona: Persona, obs: DecisionRequest, memories: Any, beliefs: Any,
                   rng: np.random.Generator) -> BaseModel:
    """Rule debater, listener and voter: choices weighted by the persona's traits."""
    c = obs.context
    b5 = persona.big_five
    if obs.decision == ARGUE:
        if c.get("turn", 0) == 0:
            move = "claim"
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
        candidates = c.get("undecided", [])
        if not candidates or rng.random() > 0.2 + 0.6 * b5.extraversion:
            return PrivateMessage(to=None)
        to = candidates[int(rng.integers(len(candidates)))]
        stance = "for" if c["side"] > 0 else "against"
        return PrivateMessage(to=to, text=f"Between us: I hope you will vote {stance} on '{c['proposition']}'.")
    opinion = float(c["opinion"])
    band = 0.05 + 0.15 * b5.neuroticism
    return Vote(vote="for" if opinion > band else "against" if opinion < -band else "undecided")
