"""House auctions with persona bidders (after HARBOR)."""

from simworld.scenarios.auction.config import AuctionConfig, BidderPopulation, auction_memory
from simworld.scenarios.auction.events import EVENTS
from simworld.scenarios.auction.harbor import HarborHouse, RivalBelief, load_harbor_bidders, rival_belief
from simworld.scenarios.auction.items import House, generate_houses, load_houses
from simworld.scenarios.auction.policies import (
    DutchAction,
    EnglishAction,
    Profiler,
    SealedBid,
    ValuePrior,
    equilibrium_bid,
    policies,
)
from simworld.scenarios.auction.roles import BidderRole, BudgetSpec, Preferences, sample_bidder_role
from simworld.scenarios.auction.scenario import AuctionInputs, AuctionScenario
from simworld.scenarios.auction.valuation import Valuations, persona_value

__all__ = [
    "EVENTS", "AuctionConfig", "AuctionInputs", "AuctionScenario", "BidderPopulation", "BidderRole", "BudgetSpec",
    "DutchAction", "EnglishAction", "HarborHouse", "House", "Preferences", "Profiler",
    "RivalBelief", "SealedBid", "Valuations", "ValuePrior", "auction_memory", "equilibrium_bid", "generate_houses",
    "load_harbor_bidders", "load_houses", "persona_value", "policies", "rival_belief", "sample_bidder_role",
]
