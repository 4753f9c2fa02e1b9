"""The support scenario's event kinds: one payload model per kind, as logged (``simworld schema support.feedback``).

A simulated session and a replayed ESConv conversation write the same kinds with the same keys: the
payloads of the session events are built here, each by one function.

Facts and claims (for the theory-of-mind analysis; logged, never perceived) are about the seeker, named by
its id: ``<seeker>.problem_type``, ``<seeker>.emotion_type``, ``<seeker>.situation`` and
``<seeker>.intensity`` (:func:`seeker_fact`).

- ``support.seeker_state`` states them as the session starts, witnessed (and perceived) by the seeker
  alone: the supporter, who witnesses ``support.session_started`` (where they are hidden), does not learn
  them there;
- ``support.disclosed`` carries the disclosed part as a *claim* of the seeker (``claims``: what was said,
  which changes no reality): the supporter believes it from then on, and each of the two believes the
  other does; a part never disclosed stays unknown to the supporter;
- ``support.intensity`` states the new intensity, witnessed by the seeker alone.
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


class SupportSeekerState(Payload):
    """What the seeker brings to its session, witnessed by the seeker alone: its own problem, emotion,
    intensity and situation (facts ``<seeker>.problem_type``, ``.emotion_type``, ``.intensity``,
    ``.situation``; an unknown intensity is left out). The seeker perceives it, so its memory holds its
    own state from the start; the supporter learns the parts the seeker discloses."""

    kind: ClassVar[str] = "support.seeker_state"
    session: str
    seeker: str
    problem_type: str
    emotion_type: str
    intensity: float | None = Field(description="emotional intensity at the start, 1..5 (None: not recorded)")
    situation: str


class SupportDisclosed(Payload):
    """The seeker tells part of its story (trust has grown enough); ``claims`` says it as ``<seeker>.<part>``."""

    kind: ClassVar[str] = "support.disclosed"
    session: str
    seeker: str
    part: Literal["emotion_type", "problem_type", "situation"]
    value: str
    claims: dict[str, str] | None = Field(default=None, description="what the seeker said, {'<seeker>.<part>': value} "
                                          "(logged for analysis and hidden from the witnesses, who perceive ``value``)")


class SupportStrategy(Payload):
    """The strategy of a supporter's turn."""

    kind: ClassVar[str] = "support.strategy"
    session: str
    supporter: str
    seeker: str
    strategy: Strategy
    turn: int = Field(description="the supporter's turn in the session, from 0")


class SupportIntensity(Payload):
    """The seeker's emotional intensity changed after a supporter's turn (seen by the seeker only; facts:
    ``<seeker>.intensity``)."""

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
    SupportAssigned, SupportSessionStarted, SupportSeekerState, SupportDisclosed, SupportStrategy, SupportIntensity,
    SupportFeedback, SupportSessionEnded, SupportWarning,
)

#: The keys of ``support.session_started`` that are ground truth, hidden from the witnesses.
TRUTH = ("problem_type", "emotion_type", "intensity", "situation")
#: The keys of ``support.session_ended`` that are hidden from the witnesses.
OUTCOME = ("initial_intensity", "final_intensity")
#: The key of ``support.disclosed`` hidden from the witnesses (they perceive the disclosed ``value``).
CLAIMS = ("claims",)
#: The attributes of a seeker stated as facts (``<seeker>.<attribute>``).
FACTS = ("problem_type", "emotion_type", "intensity", "situation")


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


def seeker_fact(seeker: str, attribute: str) -> str:
    """The fact naming one attribute of a seeker: ``"seeker003.problem_type"``."""
    return f"{seeker}.{attribute}"


def seeker_state(session: str, seeker: str, problem_type: str, emotion_type: str, intensity: float | None,
                 situation: str) -> dict[str, Any]:
    """The ``support.seeker_state`` payload (log it with ``facts=`` :func:`seeker_facts` of it)."""
    return {"session": session, "seeker": seeker, "problem_type": problem_type, "emotion_type": emotion_type,
            "intensity": intensity, "situation": situation}


def seeker_facts(state: dict[str, Any]) -> dict[str, Any]:
    """The facts a ``support.seeker_state`` payload states: each known part of the seeker's state."""
    seeker = state["seeker"]
    return {seeker_fact(seeker, key): state[key] for key in FACTS if state[key] is not None}


def disclosed(session: str, seeker: str, part: str, value: str) -> dict[str, Any]:
    """The ``support.disclosed`` payload, the part said as a claim (log it with ``hidden=CLAIMS``)."""
    return {"session": session, "seeker": seeker, "part": part, "value": value,
            "claims": {seeker_fact(seeker, part): value}}
