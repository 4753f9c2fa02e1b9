"""The auction's config: every key here can be set in YAML or with ``--set``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from simworld.agents.brain_config import BrainSettings
from simworld.agents.population import PopulationSpec
from simworld.memory import ImportanceConfig, MemoryConfig
from simworld.scenarios.auction.policies import policies
from simworld.scenarios.auction.roles import BudgetSpec

from simworld.config import check_shares
from simworld.files import DataFile


def auction_memory() -> MemoryConfig:
    """Bidders' memory defaults: how much each auction event matters (1-10, before the bidder's own
    involvement and persona sensitivity), and surprise at sale prices far from those seen before."""
    kinds = {
        "auction.opened": 3.0, "auction.ask": 1.0, "auction.clock": 1.0, "auction.bid": 2.0, "auction.dropped": 2.0,
        "auction.sold": 6.0, "auction.unsold": 4.0, "auction.rejected": 7.0, "auction.bids_revealed": 5.0,
        "auction.value": 2.0,
        "agent.acted": 1.0,
    }
    base = ImportanceConfig()
    keywords = {**base.keywords, "sold": 3.0, "unsold": 2.0, "revealed": 2.0, "opened": 1.0}
    negative = [*base.negative, "unsold"]
    return MemoryConfig(importance=ImportanceConfig(kinds=kinds, keywords=keywords, negative=negative,
                                                    surprise={"auction.sold": "price"}))


class BidderPopulation(PopulationSpec):
    """The generated bidders: the persona distributions, and each bidder's budget."""

    budget: BudgetSpec = Field(default_factory=BudgetSpec)


#: Fields of a HARBOR bidder record that configure the study, not the person (see ``persona_omit``).
HARBOR_RUN_SETTINGS = ("model_name", "temperature", "use_external_reason", "correct_belief", "enable_learning",
                       "is_profiler", "plan_strategy", "overestimate_percent")


class AuctionConfig(BrainSettings):
    """The auction's settings: the format and its rules, the bidders and lots, and their timing."""

    format: Literal["english", "first_price", "second_price", "dutch"] = "english"
    n_bidders: int | None = Field(default=None, ge=1, le=1_000_000, description="default 5, or all personas in the file")
    n_items: int | None = Field(default=None, ge=1, le=10_000_000, description="default 3, or all items in the file")
    values: Literal["persona", "iid_uniform"] = Field(
        default="persona", description="persona: from preferences; iid_uniform: U[0,1] per bidder and lot"
    )
    strategy: str | dict[str, float] = Field(
        default="persona", description="one policy for all bidders, or shares, e.g. {truthful: 0.5, profiler: 0.5}"
    )
    reserve_price: float | None = Field(default=None, ge=0.0, description="absolute reserve for every lot")
    reserve_ratio: float | None = Field(default=None, ge=0.0, description="reserve as a multiple of the starting price")
    increment: float = Field(default=0.1, gt=0.0, description="minimum raise, as a share of the starting price")
    min_increment: float = Field(default=0.01, gt=0.0, description="absolute floor of the raise (and Dutch step)")
    dutch_start: float = Field(default=1.5, gt=0.0, description="Dutch clock start, as a multiple of the start price")
    discount: float = Field(default=0.0, ge=0.0, lt=1.0, description="relist unsold lots this much cheaper (0: never)")
    max_relists: int = Field(default=1, ge=0)
    reveal_bids: bool = Field(default=True, description="sealed formats: announce all bids after the sale")
    personas: DataFile | None = Field(default=None, description="persona file (YAML/JSON/JSONL) with roles.bidder (or {file: F, map: {field: their_field}})")
    items: DataFile | None = Field(default=None, description="house file (YAML/JSON/JSONL, or {file: F, map: {field: their_field}}); default: generated")
    preset: Literal["harbor"] | None = Field(
        default=None, description="harbor: persona and house files in HARBOR's shape; bidders profile rivals' budgets and priorities")
    profile: list[Literal["budget", "priority"]] | None = Field(
        default=None, description="what profilers (and model brains' theory of mind, typed) believe about rivals "
        "besides their values: default [], with preset harbor [budget, priority]")
    population: BidderPopulation = Field(default_factory=BidderPopulation)
    reaction: float = Field(default=2.0, gt=0.0, description="median bid reaction delay (simulated seconds)")
    time_resolution: float = Field(default=0.25, gt=0.0, description="reaction delays are rounded up to this")
    round_timeout: float = Field(default=10.0, gt=0.0, description="English: wait for a bid; Dutch: clock tick")
    bid_window: float = Field(default=60.0, gt=0.0, description="sealed formats: time to submit bids")
    item_gap: float = Field(default=60.0, ge=0.0, description="time between lots")
    memory: MemoryConfig = Field(default_factory=auction_memory, description="each bidder's memory stream")

    @field_validator("strategy")
    @classmethod
    def _known_strategies(cls, v: str | dict[str, float]) -> str | dict[str, float]:
        return check_shares(v, policies.names(), "strategy")

    def profiled(self) -> tuple[str, ...]:
        """What rivals are profiled on besides their values (``profile``, or the preset's default)."""
        if self.profile is not None:
            return tuple(self.profile)
        return ("budget", "priority") if self.preset == "harbor" else ()

    @model_validator(mode="after")
    def _harbor_settings_unseen(self) -> AuctionConfig:
        # HARBOR's bidder records carry the study's run settings next to the persona; with the preset they
        # are kept (as extra fields) but never shown to a model, unless persona_omit says otherwise
        if self.preset == "harbor" and not self.persona_omit:
            self.persona_omit = list(HARBOR_RUN_SETTINGS)
        return self

    @model_validator(mode="after")
    def _one_reserve(self) -> AuctionConfig:
        if self.reserve_price is not None and self.reserve_ratio is not None:
            raise ValueError("set reserve_price or reserve_ratio, not both")
        return self
