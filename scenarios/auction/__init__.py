"""House auctions with persona bidders (after HARBOR)."""

from simworld.scenarios.auction.bidders import BidderRole, Preferences, persona_value
from simworld.scenarios.auction.config import AuctionConfig
from simworld.scenarios.auction.items import House, generate_houses, load_houses
from simworld.scenarios.auction.scenario import AuctionScenario
from simworld.scenarios.auction.strategies import (
    DutchAction,
    EnglishAction,
    Profiler,
    SealedBid,
    equilibrium_bid,
    policies,
)

__all__ = [
    "AuctionConfig", "AuctionScenario", "BidderRole", "DutchAction", "EnglishAction", "House", "Preferences",
    "Profiler", "SealedBid", "equilibrium_bid", "generate_houses", "load_houses",
    "persona_value", "policies",
]
