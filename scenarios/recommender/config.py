"""The recommender scenario's config: every key can be set in YAML or with ``--set``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from simworld.agents.brain_config import BrainSettings
from simworld.memory import ImportanceConfig, MemoryConfig, ReflectionConfig
from simworld.scenarios.recommender.algorithms import check_name
from simworld.scenarios.recommender.events import PageShown, Rated, SessionEnded, SessionStarted, Skipped, Watched


def viewer_memory() -> MemoryConfig:
    """Viewers remember what they watched and rated; pages and skips matter little."""
    kinds = {Watched.kind: 5.0, Rated.kind: 4.0, PageShown.kind: 1.0, Skipped.kind: 1.0,
             SessionStarted.kind: 1.0, SessionEnded.kind: 2.0, "agent.acted": 1.0}
    return MemoryConfig(importance=ImportanceConfig(kinds=kinds), reflection=ReflectionConfig(threshold=400.0))


class RecommenderConfig(BrainSettings):
    """Viewers (synthetic or fitted from MovieLens), sessions, pages, the recommenders under test."""

    recommender: str | list[str] = Field(
        default="popular",
        description="random, popular, item_knn, mf, oracle or module:factory; a list runs an A/B test (same users and seeds per arm)",
    )
    data: Path | None = Field(default=None, description="ratings: a MovieLens-100k or -1M folder, a MovieLens \"latest\" CSV folder or a plain user,item,rating,timestamp CSV; default: a synthetic catalogue")
    n_users: int | None = Field(default=None, ge=1, le=10_000_000, description="default 100, or every user in the data")
    n_items: int = Field(default=300, ge=10, le=1_000_000, description="synthetic catalogue size")
    history: int = Field(default=30, ge=20, le=10_000, description="synthetic: mean training ratings per user")
    days: float = Field(default=7.0, gt=0.0, description="simulated days; sessions arrive at each viewer's activity rate")
    sessions_per_user: int | None = Field(default=None, ge=1, description="fixed number of sessions instead of the rate")
    page_size: int = Field(default=4, ge=1, le=50)
    max_pages: int = Field(default=5, ge=1, le=100)
    position_bias: float = Field(default=0.85, gt=0.0, le=1.0, description="chance of noticing the item at position p is bias**p")
    attention: int = Field(default=3, ge=1, description="most items of a page a viewer takes in")
    rank: int = Field(default=16, ge=1, le=512, description="mf: factors")
    neighbours: int = Field(default=50, ge=1, description="item_knn: neighbours kept per item")
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0, description="A/B: significance level")
    memory: MemoryConfig = Field(default_factory=viewer_memory, description="each viewer's memory stream")

    @field_validator("recommender")
    @classmethod
    def _known(cls, v: str | list[str]) -> str | list[str]:
        names = [v] if isinstance(v, str) else v
        if not names:
            raise ValueError("name at least one recommender")
        if len(set(names)) != len(names):
            raise ValueError("A/B arms must differ")
        for name in names:
            check_name(name)
        return v

    @property
    def arms(self) -> list[str]:
        return [self.recommender] if isinstance(self.recommender, str) else list(self.recommender)
