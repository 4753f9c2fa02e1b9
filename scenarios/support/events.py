"""The support scenario's event kinds: one payload model per kind, as logged (``simworld schema support.feedback``).

A simulated session and a replayed ESConv conversation write the same kinds with the same keys: the
payloads of the session events are built here, each by one function.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from simworld.scenarios.support.esconv import Strategy

from simworld.events import Payload

Arm = Literal["matched", "random", "recorded"]


class Pairing(BaseModel):
    """A seeker's supporter and how well they fit."""

    model_config = ConfigDict(extra="forbid")
    supporter: str
    arm: Literal["matched", "random"]
    compatibility: float = Field(description="persona compatibility of the pair, 0..1")
    best: float = Field(description="the seeker's compatibility with its best-fitting supporter")


class SupportAssigned(Payload):
    """Who talks with whom: each seeker's supporter, arm and compatibility."""

    kind: ClassVar[str] = "support.assigned"
    matching: Literal["compare", "compatibility", "random"]
    pairs: dict[str, Pairing] = Field(description="seeker -> its pairing")


class SupportSessionStarted(Payload):
    """A session begins; the seeker's problem, emotion and intensity are logged as hidden truth."""

    kind: ClassVar[str] = "support.session_started"
    session: str
    seeker: str
    supporter: str
    arm: Arm
    compatibility: float | None = Field(description="persona compatibility (None for a recorded conversation)")
    problem_type: str
    emotion_type: str
    intensity: float | None = Field(description="emotional intensity at the start, 1..5 (None: not recorded)")
    situation: str


class SupportDisclosed(Payload):
    """The seeker tells part of its story (trust has grown enough)."""

    kind: ClassVar[str] = "support.disclosed"
    session: str
    seeker: str
    part: Literal["emotion_type", "problem_type", "situation"]
    value: str


class SupportStrategy(Payload):
    """The strategy of a supporter's turn."""

    kind: ClassVar[str] = "support.strategy"
    session: str
    supporter: str
    seeker: str
    strategy: Strategy
    turn: int = Field(description="the supporter's turn in the session, from 0")


class SupportIntensity(Payload):
    """The seeker's emotional intensity changed after a supporter's turn (seen by the seeker only)."""

    kind: ClassVar[str] = "support.intensity"
    session: str
    seeker: str
    previous: float
    intensity: float = Field(description="1 (mild) .. 5 (unbearable)")
    level: int = Field(description="the intensity rounded")
    strategy: Strategy = Field(description="the strategy that caused the change")
    trust: float = Field(description="the seeker's trust in the supporter, 0..1")


class SupportFeedback(Payload):
    """The seeker rates how helpful the talk was, 1 to 5."""

    kind: ClassVar[str] = "support.feedback"
    session: str
    seeker: str
    supporter: str
    score: int = Field(ge=1, le=5)
    turn: int | None = Field(default=None, description="recorded conversations: the dialog turn that carried "
                             "the rating; None for the rating at the end of a simulated session")


class SupportSessionEnded(Payload):
    """A session ends: why, after how many supporter turns, and the intensity before and after (hidden)."""

    kind: ClassVar[str] = "support.session_ended"
    session: str
    seeker: str
    supporter: str
    arm: Arm
    reason: Literal["resolved", "seeker_left", "time", "recorded"]
    turns: int = Field(description="supporter turns")
    resolved_turn: int | None = Field(description="the supporter turn after which the intensity was resolved")
    initial_intensity: float | None
    final_intensity: float | None


class SupportWarning(Payload):
    """Something in a recorded conversation was read leniently (e.g. an unknown strategy label)."""

    kind: ClassVar[str] = "support.warning"
    session: str
    problem: str


EVENTS: tuple[type[Payload], ...] = (
    SupportAssigned, SupportSessionStarted, SupportDisclosed, SupportStrategy, SupportIntensity, SupportFeedback,
    SupportSessionEnded, SupportWarning,
)

#: The keys of ``support.session_started`` that are ground truth, hidden from the witnesses.
TRUTH = ("problem_type", "emotion_type", "intensity", "situation")
#: The keys of ``support.session_ended`` that are hidden from the witnesses.
OUTCOME = ("initial_intensity", "final_intensity")


def session_started(session: str, seeker: str, supporter: str, arm: str, compatibility: float | None,
                    problem_type: str, emotion_type: str, intensity: float | None, situation: str) -> dict[str, Any]:
    """The ``support.session_started`` payload (log it with ``hidden=TRUTH``)."""
    return {"session": session, "seeker": seeker, "supporter": supporter, "arm": arm, "compatibility": compatibility,
            "problem_type": problem_type, "emotion_type": emotion_type, "intensity": intensity, "situation": situation}


def strategy_used(session: str, supporter: str, seeker: str, strategy: str, turn: int) -> dict[str, Any]:
    """The ``support.strategy`` payload."""
    return {"session": session, "supporter": supporter, "seeker": seeker, "strategy": strategy, "turn": turn}


def feedback(session: str, seeker: str, supporter: str, score: int, turn: int | None = None) -> dict[str, Any]:
    """The ``support.feedback`` payload."""
    return {"session": session, "seeker": seeker, "supporter": supporter, "score": score, "turn": turn}


def session_ended(session: str, seeker: str, supporter: str, arm: str, reason: str, turns: int,
                  resolved_turn: int | None, initial_intensity: float | None,
                  final_intensity: float | None) -> dict[str, Any]:
    """The ``support.session_ended`` payload (log it with ``hidden=OUTCOME``)."""
    return {"session": session, "seeker": seeker, "supporter": supporter, "arm": arm, "reason": reason,
            "turns": turns, "resolved_turn": resolved_turn, "initial_intensity": initial_intensity,
            "final_intensity": final_intensity}
