"""The recommender scenario's event kinds: one payload model each, with the fields as emitted.

Every session event carries ``session`` (``"<agent id>#<n>"``) and ``arm`` (the recommender's label), so
metrics group by arm and session from the log alone.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simworld.events import Payload

#: Why a session ended: the viewer's choice (satisfied, bored, tired, or left without a reason), the
#: page limit, or a recommender with nothing more to show.
ExitReason = Literal["satisfied", "bored", "tired", "left", "max_pages", "exhausted"]


class CatalogueTable(Payload):
    """The item catalogue, logged once per run as columns (analysis rebuilds it from here)."""

    kind: ClassVar[str] = "recommender.catalogue"
    ids: list[str]
    titles: list[str]
    years: list[int] = Field(description="release year per item, 0 when unknown")
    genres: list[list[str]] = Field(description="genre names per item")
    popularity: list[float] = Field(description="training interactions per item (or a synthetic draw)")
    quality: list[float] = Field(description="latent quality per item, about N(0, 1)")


class SessionStarted(Payload):
    """A viewer opens a session with one arm's recommender."""

    kind: ClassVar[str] = "recommender.session_started"
    session: str = Field(description="'<agent id>#<n>'")
    arm: str = Field(description="the recommender's label (its name, or arm1, arm2, ... for module:factory)")
    user: str = Field(description="the user id (the same in every arm)")
    n: int = Field(ge=1, description="the viewer's session number in this arm, from 1")


class PageShown(Payload):
    """A page of recommendations, and the positions on it the viewer noticed."""

    kind: ClassVar[str] = "recommender.page_shown"
    session: str
    arm: str
    page: int = Field(ge=1)
    items: list[str] = Field(description="item ids in the order shown")
    noticed: list[int] = Field(description="0-based positions the viewer noticed (position bias, attention)")


class Watched(Payload):
    """The viewer watches an item it noticed on a page."""

    kind: ClassVar[str] = "recommender.watched"
    session: str
    arm: str
    item: str
    title: str
    page: int = Field(ge=1)
    position: int = Field(ge=0, description="0-based position on the page")


class Rated(Payload):
    """The viewer rates an item it watched (1-5)."""

    kind: ClassVar[str] = "recommender.rated"
    session: str
    arm: str
    item: str
    rating: int = Field(ge=1, le=5)


class Skipped(Payload):
    """Items of a page the viewer did not watch, and those among them it never noticed."""

    kind: ClassVar[str] = "recommender.skipped"
    session: str
    arm: str
    page: int = Field(ge=1)
    items: list[str]
    unnoticed: list[str]


class SessionEnded(Payload):
    """A session ends: why, after how many pages, with how many items watched."""

    kind: ClassVar[str] = "recommender.session_ended"
    session: str
    arm: str
    reason: ExitReason
    pages: int = Field(ge=0, description="pages shown (0 when the recommender had nothing to show)")
    watched: int = Field(ge=0)


EVENTS: tuple[type[Payload], ...] = (
    CatalogueTable, SessionStarted, PageShown, Watched, Rated, Skipped, SessionEnded,
)
