"""What a viewer decides (pydantic actions) and the rule policy that decides it.

Three decisions: ``recsys.page`` (which noticed items to watch, their ratings, stay or leave),
``fidelity.watch`` (watch or not, for each candidate of the taste-discrimination protocol) and
``fidelity.rate`` (a 1-5 rating for each item). Model brains answer the same action models.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from simworld.decisions import DecisionRequest
from simworld.scenarios.recommender.catalogue import Catalogue
from simworld.scenarios.recommender.users import Viewer

Rating = int


class PageChoice(BaseModel):
    """Items of the page to watch (ids), a 1-5 rating for each (same order), and whether to leave."""

    watch: list[str] = Field(default_factory=list)
    ratings: list[int] = Field(default_factory=list)
    leave: bool = False
    reason: Literal["satisfied", "bored", "tired", "none"] = "none"


class WatchChoices(BaseModel):
    """One yes/no per candidate item, in the order shown."""

    watch: list[bool]


class ItemRatings(BaseModel):
    """One 1-5 rating per item, in the order shown."""

    ratings: list[int]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ViewerPolicy:
    """The rule viewer: interest from taste (+ novelty for the curious, - boredom from memory), watch
    with a logistic chance, rate by style, leave from fatigue, boredom or satisfaction."""

    temperature = 0.25

    def __init__(self, viewer: Viewer, catalogue: Catalogue, item_factors: np.ndarray | None,
                 crowd: np.ndarray) -> None:
        self.viewer = viewer
        self.cat = catalogue
        self.factors = item_factors
        self.crowd = crowd

    def __call__(self, persona: Any, observation: DecisionRequest, memories: Any, beliefs: Any,
                 rng: np.random.Generator) -> BaseModel:
        d = observation.decision
        if d == "recsys.page":
            return self.page(observation.context, memories, rng)
        items = np.asarray(observation.context["_items"], dtype=np.int64)
        interest = self.viewer.interest(self.cat, items, self.factors)
        if d == "fidelity.watch":
            return WatchChoices(watch=(interest >= self.viewer.role.threshold).tolist())
        if d == "fidelity.rate":
            return ItemRatings(ratings=self.rate(interest, items, rng).tolist())
        raise ValueError(f"the viewer policy cannot answer {d!r}")

    def rate(self, interest: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        expected = self.viewer.rating(interest, self.crowd[items])
        return np.clip(np.rint(expected + rng.normal(0.0, 0.3, len(items))), 1, 5).astype(int)

    def boredom(self, memories: Any) -> np.ndarray:
        """Genre weights of what the viewer watched lately (from its memory): repetition bores."""
        counts = np.zeros(self.cat.genres.shape[1])
        n = 0
        for obs in memories.recent(24):
            if getattr(obs, "kind", None) == "recsys.watched":
                i = self.cat.index.get(obs.data.get("item"))
                if i is not None:
                    counts += self.cat.genre_unit[i]
                    n += 1
        return counts / n if n else counts

    def page(self, ctx: dict[str, Any], memories: Any, rng: np.random.Generator) -> PageChoice:
        role = self.viewer.role
        items = np.asarray(ctx["_items"], dtype=np.int64)
        page, watched_before = int(ctx["page"]), int(ctx["watched_in_session"])
        if len(items):
            interest = self.viewer.interest(self.cat, items, self.factors)
            bored = self.cat.genre_unit[items] @ self.boredom(memories)
            interest = interest - (1.0 - role.curiosity) * 0.6 * bored + role.curiosity * 0.4 * (1.0 - bored)
            p = _sigmoid((interest - role.threshold) / self.temperature)
            chosen = rng.random(len(items)) < p
            ratings = self.rate(interest[chosen], items[chosen], rng).tolist()
            watch = [ctx["items"][j]["id"] for j in np.flatnonzero(chosen)]
        else:
            watch, ratings = [], []
        n = len(watch)
        total = watched_before + n
        # the longer the session, the likelier the exit; patience damps it, a rewarding page holds the viewer
        p_tired = 1.0 - math.exp(-0.25 * page * (1.5 - role.patience))
        p_bored = 0.45 * (1.0 - role.patience) if n == 0 else 0.0
        p_satisfied = 0.15 * total
        u = float(rng.random())
        if u < p_satisfied and n > 0:
            return PageChoice(watch=watch, ratings=ratings, leave=True, reason="satisfied")
        if u < p_satisfied + p_bored:
            return PageChoice(watch=watch, ratings=ratings, leave=True, reason="bored")
        if u < p_satisfied + p_bored + p_tired * (0.6 if n else 1.0):
            return PageChoice(watch=watch, ratings=ratings, leave=True, reason="tired")
        return PageChoice(watch=watch, ratings=ratings)
