"""How well a move is delivered and how it lands: the persona-dependent strength and reception of the
five argument moves.

The same move lands differently on different listeners (after the persona knowledge-aligned work on online
debate): evidence persuades open and conscientious listeners, appeals persuade agreeable and anxious ones,
rebuttals persuade the disagreeable, and a concession earns the speaker credibility with the other side.
"""

from __future__ import annotations

import numpy as np
from simworld.agents.persona import BigFive


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
