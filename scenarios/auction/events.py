"""The payload of every event kind the auction logs (``simworld schema auction.sold`` shows one).

Prices, bids and values are in the lots' currency; ``item`` is a house id. Every lot is announced by
``auction.opened``; bidding then follows the format (asks, a clock, or sealed bids) and ends in
``auction.sold`` or ``auction.unsold``.

Facts (``data.facts``, logged for the theory-of-mind analysis and never perceived; ids are the house's and
the bidders' own, so a fact keeps its name over relistings):

- ``<bidder>.value_of_<item>``: a bidder's private value of a lot, stated by ``auction.value``, which its
  owner alone witnesses (a rival never learns it); one such event per bidder and lot;
- ``<item>.high_bid`` and ``<item>.high_bidder``: the standing high bid and who holds it, stated by every
  ``auction.bid`` the room hears (English and Dutch; a sealed bid states nothing, its bidder alone sees it);
- ``<item>.status`` (``"sold"`` or ``"unsold"``), and on a sale ``<item>.price`` (the hammer price, which
  a second-price sale sets below the winning bid) and ``<item>.winner``: stated by ``auction.sold`` and
  ``auction.unsold``, which the room witnesses. An unsold lot states no price or winner (None would read as
  "unknown"); relisted and sold later, its status becomes ``"sold"``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from simworld.events import Payload

Format = Literal["english", "first_price", "second_price", "dutch"]


class Listing(BaseModel):
    """A house as the catalogue shows it (its true value and reserve stay hidden), with the house file's
    own extra fields (a study's attributes, e.g. HARBOR's ``name`` and ``category_id``)."""

    model_config = ConfigDict(extra="allow")
    id: str
    size_sqm: float | None = Field(default=None, description="absent when the house file has no size")
    category: str | None = Field(default=None, description="the kind of buyer it suits (absent if none)")
    description: str | None = Field(default=None, description="free text model bidders read (absent if none)")
    location: str
    condition: float = Field(description="0 needs work, 1 as new")
    school_rating: float
    starting_price: float = Field(description="this listing's starting price (lower when relisted at a discount)")


class AuctionOpened(Payload):
    """A lot opens: the house, the format and its rules."""

    kind: ClassVar[str] = "auction.opened"
    item: Listing
    lot: int = Field(description="1-based position in the sale; a relisted house gets a new lot number")
    relist: int = Field(description="how many times this house was listed before")
    format: Format
    increment: float = Field(description="minimum raise (English) or clock step (Dutch)")
    reserve: float = Field(description="lowest price the seller accepts (0: none)")
    n_bidders: int


class AuctionValuations(Payload):
    """Every bidder's private value of a lot: ground truth for analysis, perceived by no one."""

    kind: ClassVar[str] = "auction.valuations"
    item: str
    values: dict[str, float] = Field(description="bidder id -> private value")


class AuctionValue(Payload):
    """A bidder learns its own value of a lot, witnessed by that bidder alone (facts: ``<bidder>.value_of_<item>``).

    One event per bidder as the lot opens, perceived like any other: the bidder's memory keeps its
    valuation of every lot (what it could recall when a later lot comes up), the value stays visible to
    it (it also gets it in each decision request of the lot), and no rival ever witnesses it.
    ``auction.valuations`` (witnessed by no one) remains the ground truth the metrics read."""

    kind: ClassVar[str] = "auction.value"
    item: str
    bidder: str
    value: float = Field(description="the bidder's private value of the lot")


class AuctionAsk(Payload):
    """English: the auctioneer asks for a bid at ``ask``."""

    kind: ClassVar[str] = "auction.ask"
    item: str
    ask: float
    leader: str | None = Field(description="the standing high bidder, if any")
    price: float | None = Field(description="the standing high bid, if any")


class AuctionClock(Payload):
    """Dutch: the descending clock shows a new price."""

    kind: ClassVar[str] = "auction.clock"
    item: str
    price: float


class AuctionBid(Payload):
    """A bid counts: the first one heard in an English round or at a Dutch clock price, or a sealed bid
    (witnessed by its bidder alone). A bid the room hears states ``<item>.high_bid`` and ``<item>.high_bidder``."""

    kind: ClassVar[str] = "auction.bid"
    item: str
    bidder: str
    amount: float
    tied: int | None = Field(default=None, description="open and clock formats: how many bid at the same instant")


class AuctionDropped(Payload):
    """English: bidders who passed at ``price`` and are out of this lot."""

    kind: ClassVar[str] = "auction.dropped"
    item: str
    price: float
    bidders: list[str]


class AuctionRejected(Payload):
    """A bid the auctioneer refused (told to its bidder only)."""

    kind: ClassVar[str] = "auction.rejected"
    item: str
    bidder: str
    amount: float
    reason: str = Field(description="'over budget': more than the bidder has left to spend")


class AuctionBidsRevealed(Payload):
    """Sealed formats: every bid at or above the minimum, announced after the bidding window."""

    kind: ClassVar[str] = "auction.bids_revealed"
    item: str
    bids: dict[str, float] = Field(description="bidder id -> amount, in the room's order")


class AuctionSold(Payload):
    """The hammer falls: who won the lot and at what price (facts: ``<item>.status`` ``"sold"``,
    ``<item>.price``, ``<item>.winner``)."""

    kind: ClassVar[str] = "auction.sold"
    item: str
    lot: int
    winner: str
    price: float
    winner_value: float = Field(description="the winner's private value (hidden from the witnesses)")
    true_value: float | None = Field(description="the house's market value, if known")


class AuctionUnsold(Payload):
    """A lot closes without a sale (facts: ``<item>.status`` ``"unsold"``)."""

    kind: ClassVar[str] = "auction.unsold"
    item: str
    lot: int
    reason: Literal["no bids", "reserve not met"]
    highest: float | None = Field(description="the best bid, when it was below the reserve")


EVENTS: tuple[type[Payload], ...] = (
    AuctionOpened, AuctionValuations, AuctionValue, AuctionAsk, AuctionClock, AuctionBid, AuctionDropped,
    AuctionRejected, AuctionBidsRevealed, AuctionSold, AuctionUnsold,
)


def value_fact(bidder: str, item: str) -> str:
    """The fact naming ``bidder``'s private value of ``item``: ``"bidder007.value_of_house03"`` (one
    attribute after the entity, so a probe reads "the value of house03 of <the bidder's name>")."""
    return f"{bidder}.value_of_{item}"
