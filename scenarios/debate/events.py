"""The debate's event kinds: one payload model per kind, as logged (``simworld schema debate.move``).

Moves are logged by :func:`move_data`, the one place a ``debate.move`` payload is built (a speech, an
interjection and a private word all have the same keys).

Facts (for the theory-of-mind analysis; logged, never perceived): every move states the opinion its
speaker expresses on the proposition, ``<speaker>.opinion_on_<proposition>`` (:func:`opinion_fact`): the
speaker's opinion (-1 against .. +1 for) as it speaks, before the move's own effects. Its witnesses are
those who heard the move (present from its start to its end), or the two of a private word, so a member
of the audience who was out of the room knows only what it heard before. The fact is the opinion *as last
expressed*: the dynamics change opinions silently (``belief.updated``) and state nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field
from simworld.scenarios.debate.policies import Move
from simworld.scenarios.debate.roles import Part

from simworld.events import Payload

Side = Literal["for", "against"]
Winner = Literal["for", "against", "tie"]


class DebateNetwork(Payload):
    """The influence network, initial opinions and update rule: everything the dynamics are recomputed from."""

    kind: ClassVar[str] = "debate.network"
    nodes: list[str] = Field(description="participant ids; the order of every matrix and opinion vector")
    parts: dict[str, Part]
    graph: Literal["complete", "small_world", "scale_free", "file"]
    edges: list[tuple[str, str, float]] = Field(description="[listener, speaker, weight]")
    weights: list[list[float]] = Field(description="W[i][j]: the weight nodes[i] gives nodes[j]'s opinion (rows sum to 1)")
    stubbornness: list[float] = Field(description="Friedkin-Johnsen anchoring of each node")
    initial: dict[str, list[float]] = Field(description="proposition id -> each node's initial opinion (-1..1)")
    sides: dict[str, dict[str, float]] = Field(description="proposition id -> debater -> +1 (for) or -1 (against)")
    propositions: dict[str, str] = Field(description="proposition id -> its text")
    rule: str = Field(description="the opinion update rule")
    epsilon: float = Field(description="bounded confidence radius")
    mu: float = Field(description="Deffuant convergence rate")


class DebateOpened(Payload):
    """The moderator opens the debate on a proposition."""

    kind: ClassVar[str] = "debate.opened"
    proposition: str = Field(description="proposition id (p1, p2, ...)")
    text: str
    rounds: int
    debaters: dict[str, float] = Field(description="debater -> side, +1 (for) or -1 (against)")


class DebateRound(Payload):
    """A round of speeches begins."""

    kind: ClassVar[str] = "debate.round"
    proposition: str
    round: int


class DebateMove(Payload):
    """An argument move: a speech, an interjection or a private word, with its delivered strength (facts:
    the speaker's expressed opinion, ``<speaker>.opinion_on_<proposition>``)."""

    kind: ClassVar[str] = "debate.move"
    proposition: str
    speaker: str
    move: Move
    side: float = Field(description="the speaker's side: +1 (for) or -1 (against)")
    strength: float = Field(description="delivered strength in 0..1 (persona, quality noise, time spoken)")
    duration: float = Field(description="seconds spoken (0 for a private word)")
    cut: bool = Field(description="the moderator cut the speech off at the turn limit")
    interrupted_by: str | None = Field(description="the opponent who cut in, if any")
    round: int
    interjection: bool = Field(description="a rebuttal by an opponent who cut into a speech")
    private: bool = Field(description="a word in private at the break (not heard by the room)")


class DebateInterrupted(Payload):
    """An opponent cuts into a speech."""

    kind: ClassVar[str] = "debate.interrupted"
    proposition: str
    speaker: str
    by: str
    at: float = Field(description="seconds into the speech")


class DebateReaction(Payload):
    """The audience's reaction to a speech."""

    kind: ClassVar[str] = "debate.reaction"
    proposition: str
    speaker: str
    applause: list[str] = Field(description="who applauded")
    boo: list[str] = Field(description="who booed")


class DebateLeft(Payload):
    """A member of the audience leaves the room."""

    kind: ClassVar[str] = "debate.left"
    who: str


class DebateRejoined(Payload):
    """A member of the audience comes back."""

    kind: ClassVar[str] = "debate.rejoined"
    who: str


class DebateStep(Payload):
    """One step of the network opinion dynamics at a round's break (each opinion change follows as a belief.updated)."""

    kind: ClassVar[str] = "debate.step"
    proposition: str
    round: int
    step: int
    rule: str
    pairs: list[tuple[str, str]] | None = Field(default=None, description="Deffuant: the encounters, in order")


class DebateRoundClosed(Payload):
    """A round ends."""

    kind: ClassVar[str] = "debate.round_closed"
    proposition: str
    round: int


class DebateVerdict(Payload):
    """The audience's vote and the moderator's scoring of the delivered arguments."""

    kind: ClassVar[str] = "debate.verdict"
    proposition: str
    votes: dict[str, Literal["for", "against", "undecided"]]
    tally: dict[str, int] = Field(description="for, against, undecided -> count")
    audience_winner: Winner
    moderator_winner: Winner = Field(description="the side with the greater total delivered strength")
    strength: dict[Side, float] = Field(description="total delivered strength of each side")


EVENTS: tuple[type[Payload], ...] = (
    DebateNetwork, DebateOpened, DebateRound, DebateMove, DebateInterrupted, DebateReaction, DebateLeft,
    DebateRejoined, DebateStep, DebateRoundClosed, DebateVerdict,
)


def move_data(proposition: str, speaker: str, move: str, side: float, strength: float, duration: float,
              round: int, *, cut: bool = False, interrupted_by: str | None = None, interjection: bool = False,
              private: bool = False) -> dict[str, Any]:
    """The ``debate.move`` payload (a plain dict, as the world logs it; see :class:`DebateMove`)."""
    return {"proposition": proposition, "speaker": speaker, "move": move, "side": side, "strength": strength,
            "duration": duration, "cut": cut, "interrupted_by": interrupted_by, "round": round,
            "interjection": interjection, "private": private}


def opinion_fact(speaker: str, proposition: str) -> str:
    """The fact naming the opinion ``speaker`` expressed on ``proposition``: ``"debater001.opinion_on_p1"``."""
    return f"{speaker}.opinion_on_{proposition}"
