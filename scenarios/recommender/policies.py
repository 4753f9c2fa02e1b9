"""What a viewer decides (pydantic actions) and the rule policy that decides it.

Three decisions: ``recommender.page`` (which noticed items to watch, their ratings, stay or leave),
``fidelity.watch`` (watch or not, for each candidate of the taste-discrimination protocol) and
``fidelity.rate`` (a 1-5 rating for each item). Model brains answer the same action models. The item
indices a rule policy scores come in ``policy_hints["items"]`` (a model brain sees the items' public
fields in the context instead).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, Field, create_model
from simworld.agents import Beliefs, Persona
from simworld.memory import Memory
from simworld.scenarios.recommender.catalogue import Catalogue
from simworld.scenarios.recommender.events import Watched
from simworld.scenarios.recommender.roles import Viewer

from simworld.decisions import DecisionRequest

A = TypeVar("A", bound=BaseModel)

#: The decisions a viewer makes.
PAGE, WATCH, RATE = "recommender.page", "fidelity.watch", "fidelity.rate"
_WATCHED = Watched.kind


Reason = Literal["satisfied", "bored", "tired", "none"]


class PageChoice(BaseModel):
    """Items of the page to watch (ids), a 1-5 rating for each (same order), and whether to leave."""

    watch: list[str] = Field(default_factory=list)
    ratings: list[int] = Field(default_factory=list)
    leave: bool = False
    reason: Reason = "none"


def _choice(watch: list[str], ratings: list[int], leave: bool = False, reason: Reason = "none") -> PageChoice:
    """A rule policy's PageChoice, built without re-validating what this module typed itself (hot path)."""
    return PageChoice.model_construct(watch=watch, ratings=ratings, leave=leave, reason=reason)


class WatchChoices(BaseModel):
    """One yes/no per candidate item, in the order shown."""

    watch: list[bool]


class ItemRatings(BaseModel):
    """One 1-5 rating per item, in the order shown."""

    ratings: list[Annotated[int, Field(ge=1, le=5)]]


class HalfStarRatings(BaseModel):
    """One rating per item on the half-star scale (0.5 to 5 in steps of 0.5), in the order shown."""

    ratings: list[Annotated[float, Field(ge=0.5, le=5, multiple_of=0.5)]]


def ratings_action(levels: Sequence[float]) -> type[ItemRatings | HalfStarRatings]:
    """The rating question's answer type for a scale: whole stars 1-5, or half stars."""
    return ItemRatings if min(levels) >= 1 and all(float(v).is_integer() for v in levels) else HalfStarRatings


_NORMAL = NormalDist()


@lru_cache(maxsize=512)
def sized(action: type[A], n: int) -> type[A]:
    """``action`` (WatchChoices or ItemRatings) with its list holding exactly ``n`` answers: the schema a
    model's constrained answer follows then has one answer per item, in the order shown."""
    (name, field), = action.model_fields.items()
    fields: dict[str, Any] = {name: (field.annotation, Field(min_length=n, max_length=n))}
    made: type[A] = create_model(f"{action.__name__}{n}", __base__=action, **fields)
    return made


def answer(observation: DecisionRequest, values: list[Any]) -> BaseModel:
    """A rule policy's answer to a watch or rate question, of the request's (sized) action type."""
    (name, _), = observation.action_type.model_fields.items()
    return observation.action_type(**{name: values})


class Rater:
    """A fitted viewer's stars for an item: its rating model's expectation (biases, taste, drift) plus
    normal noise of the model's unexplained spread, cut at the model's cut points (which make the stars
    of unseen items fall like the training ratings). Python floats: a page rates a handful of items."""

    def __init__(self, base: float, p: list[float], item_bias: list[float], q: list[list[float]],
                 cuts: list[float], levels: list[float] | None = None, spread: float = 0.0) -> None:
        self.base, self.p, self.item_bias, self.q, self.cuts = base, p, item_bias, q, cuts
        self.levels, self.spread = levels, spread

    def stars(self, item: int, draw: float = 0.5) -> float:
        """The level the expectation plus noise falls in (1-5, or the model's levels); ``draw`` is a
        uniform number that sets the noise (0.5: none)."""
        noise = self.spread * _NORMAL.inv_cdf(min(max(draw, 1e-9), 1.0 - 1e-9)) if draw != 0.5 else 0.0
        e = self.base + self.item_bias[item] + sum(a * b for a, b in zip(self.p, self.q[item])) + noise
        k = bisect.bisect_left(self.cuts, e)
        return self.levels[k] if self.levels is not None else 1 + k


class ViewerPolicy:
    """The rule viewer: interest from taste (+ novelty for the curious, - boredom from memory), watch
    with a logistic chance, rate by style, leave from fatigue, boredom or satisfaction."""

    temperature = 0.25

    def __init__(self, viewer: Viewer, catalogue: Catalogue, item_factors: np.ndarray | None,
                 crowd: np.ndarray, crowd_list: list[float] | None = None, rater: Rater | None = None) -> None:
        self.viewer = viewer
        self.rater = rater
        self.cat = catalogue
        self.factors = item_factors
        self.crowd = crowd
        self._taste: list[float] = viewer.taste.tolist()
        self._crowd: list[float] = crowd_list if crowd_list is not None else crowd.tolist()  # share it across viewers

    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> BaseModel:
        d = observation.decision
        if d == PAGE:
            return self.page(observation, memories, rng)
        items = np.asarray(observation.policy_hints["items"], dtype=np.int64)
        interest = self.viewer.interest(self.cat, items, self.factors)
        if d == WATCH:
            return answer(observation, (interest >= self.viewer.role.threshold).tolist())
        if d == RATE:
            return answer(observation, self.rate(interest, items, rng).tolist())
        raise ValueError(f"the viewer policy cannot answer {d!r}")

    def rate(self, interest: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        expected = self.viewer.rating(interest, self.crowd[items])
        ratings: np.ndarray = np.clip(np.rint(expected + rng.normal(0.0, 0.3, len(items))), 1, 5).astype(int)
        return ratings

    def boredom(self, memories: Memory) -> dict[int, float]:
        """Genre weights of what the viewer watched lately (from its memory): repetition bores."""
        weights: dict[int, float] = {}
        n = 0
        index, gw = self.cat.index, self.cat.genre_weights
        for obs in memories.recent(24):
            if obs.kind == _WATCHED:
                i = index.get(obs.data["item"])
                if i is not None:
                    n += 1
                    for g, w in gw[i]:
                        weights[g] = weights.get(g, 0.0) + w
        return {g: w / n for g, w in weights.items()} if n else weights

    def page_interest(self, idx: list[int]) -> list[float]:
        """Viewer.interest for a handful of items, on Python floats (numpy when there is a latent part)."""
        v = self.viewer
        if v.latent is not None and self.factors is not None:
            scores: list[float] = v.interest(self.cat, np.asarray(idx, dtype=np.int64), self.factors).tolist()
            return scores
        taste, role, cat = self._taste, v.role, self.cat
        qw, pull = role.quality_weight, 0.3 * role.conformity
        return [sum(taste[g] * w for g, w in cat.genre_weights[i]) + qw * cat.quality_list[i]
                + pull * cat.popularity_z_list[i] for i in idx]

    def page(self, request: DecisionRequest, memories: Memory, rng: np.random.Generator) -> PageChoice:
        """Pages hold a handful of items, so this works on Python floats."""
        role = self.viewer.role
        ctx = request.context
        idx: list[int] = request.policy_hints["items"]
        page, watched_before = int(ctx["page"]), int(ctx["watched_in_session"])
        watch: list[str] = []
        ratings: list[int] = []
        # common random numbers: the scenario hands each page a fixed block of uniforms from the viewer's
        # own stream (watch draws, rating noise, the exit draw), so what a recommender shows never shifts
        # the draws of later pages; without it, draw from ``rng``
        draws: list[float] = request.policy_hints.get("draws") or rng.random(2 * len(idx) + 1).tolist()
        half = (len(draws) - 1) // 2
        if idx:
            interest = self.page_interest(idx)
            recent = self.boredom(memories)
            gw, crowd = self.cat.genre_weights, self._crowd
            cur, thr, temp = role.curiosity, role.threshold, self.temperature
            mean, spread, conf = role.rating_mean, role.rating_spread, role.conformity
            rater = self.rater
            for j, i in enumerate(idx):
                bored = sum(recent.get(g, 0.0) * w for g, w in gw[i]) if recent else 0.0
                s = interest[j] - (1.0 - cur) * 0.6 * bored + cur * 0.4 * (1.0 - bored)
                z = max(-50.0, min(50.0, (s - thr) / temp))
                if draws[j] < 1.0 / (1.0 + math.exp(-z)):
                    watch.append(ctx["items"][j]["id"])
                    if rater is not None:
                        ratings.append(int(rater.stars(i, draws[half + j])))  # the scenario's raters: whole stars
                    else:
                        noise = 1.04 * (draws[half + j] - 0.5)  # uniform, standard deviation 0.3
                        expected = mean + math.tanh(interest[j] - thr) * spread + 0.5 * conf * crowd[i]  # Viewer.rating
                        ratings.append(int(min(5.0, max(1.0, round(expected + noise)))))
        n = len(watch)
        total = watched_before + n
        # the longer the session, the likelier the exit; patience damps it, a rewarding page holds the viewer
        p_tired = 1.0 - math.exp(-0.25 * page * (1.5 - role.patience))
        p_bored = 0.45 * (1.0 - role.patience) if n == 0 else 0.0
        p_satisfied = 0.15 * total
        u = draws[-1]
        if u < p_satisfied and n > 0:
            return _choice(watch=watch, ratings=ratings, leave=True, reason="satisfied")
        if u < p_satisfied + p_bored:
            return _choice(watch=watch, ratings=ratings, leave=True, reason="bored")
        if u < p_satisfied + p_bored + p_tired * (0.6 if n else 1.0):
            return _choice(watch=watch, ratings=ratings, leave=True, reason="tired")
        return _choice(watch=watch, ratings=ratings)
