"""The payload of every event kind tom_rooms logs (``simworld schema tom.moved`` shows one).

Every event that changes where something is states it as a fact (``facts``, logged, never perceived):
``<object>.container`` for objects and ``<agent id>.room`` for agents (a room name or ``hallway``).
Witnesses are everyone at the place (each sees the others); watchers behind a room's window are covert
witnesses of what is done in the room (they see, they do not hear). Tells are ``message.sent`` with typed labels: ``claims`` (what
was said, ``{"apple.container": "red box"}``) and ``private``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from simworld.events import Payload

#: Where an agent is when it is in no room.
HALLWAY = "hallway"


class TomScene(Payload):
    """The setting: each room's containers and where every object starts (nobody has seen it yet)."""

    kind: ClassVar[str] = "tom.scene"
    rooms: dict[str, list[str]] = Field(description="room -> its containers")
    objects: dict[str, str] = Field(description="object -> the room it is in (objects stay in their room)")
    present: list[str] = Field(description="everyone, in the hallway at the start")


class TomPlaced(Payload):
    """Where every object starts: the truth at the beginning, seen by nobody (logged for analysis)."""

    kind: ClassVar[str] = "tom.placed"
    objects: dict[str, str] = Field(description="object -> its container")


class TomEntered(Payload):
    """An agent comes into a room from the hallway (seen from both)."""

    kind: ClassVar[str] = "tom.entered"
    who: str
    room: str
    present: list[str] = Field(description="everyone in the room now, the newcomer included")


class TomLeft(Payload):
    """An agent leaves a room for the hallway (seen from both)."""

    kind: ClassVar[str] = "tom.left"
    who: str
    room: str
    present: list[str] = Field(description="everyone in the hallway now, the leaver included")


class TomNoticed(Payload):
    """Those in a room see where an object is (the story's opening)."""

    kind: ClassVar[str] = "tom.noticed"
    object: str
    container: str
    room: str


class TomMoved(Payload):
    """An agent moves an object to another container of the same room."""

    kind: ClassVar[str] = "tom.moved"
    who: str
    object: str
    to: str = Field(description="the container the object is in now")
    room: str


class TomLooked(Payload):
    """An agent looks around a room; everyone there sees where its objects are."""

    kind: ClassVar[str] = "tom.looked"
    who: str
    room: str
    seen: dict[str, str] = Field(description="object -> the container it is in")


class TomWatching(Payload):
    """An agent in the hallway starts watching a room through its window, unseen (it alone knows)."""

    kind: ClassVar[str] = "tom.watching"
    who: str
    room: str


class TomStoppedWatching(Payload):
    """A watcher stops watching (it alone knows)."""

    kind: ClassVar[str] = "tom.stopped_watching"
    who: str
    room: str


class TomWaited(Payload):
    """An agent does nothing this turn (``reason``: why a chosen action could not be done)."""

    kind: ClassVar[str] = "tom.waited"
    who: str
    reason: str | None = None


class TomEnded(Payload):
    """The story ends; questions are about this moment."""

    kind: ClassVar[str] = "tom.ended"
    steps: int


EVENTS: tuple[type[Payload], ...] = (
    TomScene, TomPlaced, TomEntered, TomLeft, TomNoticed, TomMoved, TomLooked, TomWatching, TomStoppedWatching, TomWaited,
    TomEnded,
)
