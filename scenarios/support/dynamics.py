"""How a help-seeker responds: the change of intensity and trust after each strategy, when it tells what
(emotion, problem, situation), how long it stays, and the words it uses for how bad it feels."""

from __future__ import annotations

import numpy as np
from simworld.agents.persona import BigFive

#: What a seeker discloses, in this order, as trust grows.
PARTS = ("emotion_type", "problem_type", "situation")

#: How a seeker says how bad it is (intensity 1..5); the supporter reads the level back from the word.
INTENSITY_CUES = ("a little", "somewhat", "quite", "very", "unbearably")


def response(strategy: str, b5: BigFive, disclosed: int, trust: float, fit: float) -> tuple[float, float]:
    """(intensity change, trust change) of a seeker after a supporter's ``strategy``, before noise.

    Anxious seekers (high neuroticism) respond to reflection and reassurance; closed seekers (low
    openness) resist suggestions before they have told their problem; information helps the conscientious
    once the problem is known. ``fit`` (the pair's compatibility, 0..1) scales the effect.
    """
    o, c, e, a, n = b5.openness, b5.conscientiousness, b5.extraversion, b5.agreeableness, b5.neuroticism
    known = disclosed >= 2
    table = {
        "Question": (-0.05 - 0.1 * trust, 0.08),
        "Restatement or Paraphrasing": (-0.1, 0.06),
        "Reflection of Feelings": (-(0.1 + 0.35 * n), 0.1),
        "Self-disclosure": (-(0.05 + 0.2 * e), 0.05 * (0.5 + a)),
        "Affirmation and Reassurance": (-(0.1 + 0.3 * n), 0.08),
        "Providing Suggestions": ((-(0.15 + 0.3 * o + 0.2 * c), 0.03) if known else (0.1 + 0.3 * (1 - o), -0.05)),
        "Information": ((-(0.1 + 0.25 * c), 0.03) if known else (0.05, -0.02)),
        "Others": (0.0, 0.01),
    }
    d_int, d_trust = table[strategy]
    scale = 0.7 * (0.3 + 1.2 * fit)
    return (d_int * scale if d_int < 0 else d_int / scale), d_trust * scale


def reveal_threshold(part: int, b5: BigFive) -> float:
    """Trust needed before a seeker tells part ``part`` (emotion, problem, situation); extraverts tell sooner."""
    return (0.1, 0.3, 0.5)[part] + 0.2 * (0.5 - b5.extraversion)


def patience(b5: BigFive) -> int:
    """Turns a seeker gives the talk before leaving if nothing improves."""
    return int(6 + 10 * b5.agreeableness)


def cue(intensity: float, b5: BigFive, rng: np.random.Generator) -> str:
    """The intensity word a seeker uses: its true level, blurred for introverts (who understate or overstate)."""
    level = int(np.clip(round(intensity + rng.normal(0.0, 0.2 + 0.6 * (1 - b5.extraversion))), 1, 5))
    return INTENSITY_CUES[level - 1]
