"""Help-seekers: the typed ``seeker`` role, how intensity and trust respond to each strategy, what the
seeker says, when it discloses, ends and how it rates the talk."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.brains import PolicyRegistry
from simworld.agents.persona import BigFive, Persona
from simworld.scenarios.support.strategies import INTENSITY_CUES

from simworld.decisions import DecisionRequest

PROBLEMS = ("job crisis", "breakup with partner", "ongoing depression", "problems with friends",
            "academic pressure", "issues with parents")
EMOTIONS = ("anxiety", "sadness", "depression", "anger", "fear", "shame")
SITUATIONS = {
    "job crisis": "I was told my position will be cut at the end of the month.",
    "breakup with partner": "My partner of four years left and I keep replaying it.",
    "ongoing depression": "For months I have struggled to get out of bed.",
    "problems with friends": "My closest friends stopped inviting me and I do not know why.",
    "academic pressure": "My exams are in two weeks and I cannot keep up.",
    "issues with parents": "My parents and I argue every time we talk.",
}
SEEK, FEEDBACK = "support.seek", "support.feedback"
PARTS = ("emotion_type", "problem_type", "situation")


class SeekerRole(BaseModel):
    """``roles.seeker`` of a persona: the problem, the emotion and its intensity (1-5)."""

    model_config = ConfigDict(extra="forbid")
    problem_type: str = "job crisis"
    emotion_type: str = "anxiety"
    intensity: int = Field(default=4, ge=1, le=5)
    situation: str | None = None


class SeekerTurn(BaseModel):
    """The seeker's turn: what it says, and whether it ends the conversation."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=2000)
    end: bool = False
    rationale: str = ""


class Feedback(BaseModel):
    """How helpful the conversation was, 1 (not at all) to 5 (very)."""

    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)
    rationale: str = ""


def sample_seeker_role(rng: np.random.Generator) -> dict[str, Any]:
    problem = PROBLEMS[int(rng.integers(len(PROBLEMS)))]
    return {"problem_type": problem, "emotion_type": EMOTIONS[int(rng.integers(len(EMOTIONS)))],
            "intensity": int(rng.integers(3, 6)), "situation": SITUATIONS[problem]}


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


seeker_policies = PolicyRegistry("seeker")


@seeker_policies.register("persona")
def seeker_policy(persona: Persona, obs: DecisionRequest, memories: Any, beliefs: Any,
                  rng: np.random.Generator) -> BaseModel:
    """Rule seeker: says how it feels, ends when relieved or out of patience, rates the help it got."""
    c = obs.context
    if obs.decision == FEEDBACK:
        gain = c["initial_intensity"] - c["intensity"]
        score = int(np.clip(round(2.5 + 0.9 * gain + 1.5 * c["trust"] + rng.normal(0, 0.3)), 1, 5))
        return Feedback(score=score)
    if c["intensity"] <= c["resolved_at"] - 0.5:
        return SeekerTurn(text="I feel much better now, thank you so much.", end=True)
    if c["turn"] >= patience(persona.big_five) and c["intensity"] >= c["initial_intensity"] - 0.25:
        return SeekerTurn(text="I don't think this is helping. I'll go now.", end=True)
    return SeekerTurn(text=f"I feel {c['cue']} {c['feeling']}.")
