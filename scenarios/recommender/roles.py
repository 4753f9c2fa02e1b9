"""The viewer's typed persona role (``persona.roles.viewer``) and its numpy form that the rule policy
scores items with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.scenarios.recommender.catalogue import GENRES, Catalogue


class ViewerRole(BaseModel):
    """``persona.roles.viewer``: everything the rule policy knows about this viewer."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    taste: list[float] = Field(default_factory=lambda: [0.0] * len(GENRES), description="affinity per genre")
    latent: list[float] | None = Field(default=None, description="taste in the item-factor space (fitted)")
    quality_weight: float = Field(default=0.4, description="how much an item's quality counts")
    threshold: float = Field(default=0.5, description="interest above which the viewer tends to watch")
    activity: float = Field(default=0.5, gt=0.0, description="sessions per simulated day")
    diversity: float = Field(default=0.5, ge=0.0, le=1.0, description="share of genres the viewer explores")
    conformity: float = Field(default=0.5, ge=0.0, le=1.0, description="follows popularity and the crowd's ratings")
    patience: float = Field(default=0.5, ge=0.0, le=1.0, description="tolerance for long, unrewarding sessions")
    curiosity: float = Field(default=0.3, ge=0.0, le=1.0, description="appetite for genres not watched lately")
    rating_mean: float = Field(default=3.6, ge=1.0, le=5.0)
    rating_spread: float = Field(default=0.9, ge=0.0, le=3.0)


@dataclass(slots=True)
class Viewer:
    """A viewer role as arrays, plus the catalogue columns needed to score items quickly."""

    taste: np.ndarray
    latent: np.ndarray | None
    role: ViewerRole

    def interest(self, cat: Catalogue, items: np.ndarray, item_factors: np.ndarray | None = None) -> np.ndarray:
        """Interest in ``items`` (indices): genre affinity + quality + the crowd's pull (+ latent match)."""
        r = self.role
        score: np.ndarray = cat.genre_unit[items] @ self.taste + r.quality_weight * cat.quality[items]
        score += 0.3 * r.conformity * cat.popularity_z[items]
        if self.latent is not None and item_factors is not None:
            score += item_factors[items] @ self.latent
        return score

    def rating(self, interest: np.ndarray, crowd: np.ndarray) -> np.ndarray:
        """Expected ratings (before noise): the viewer's mean, tilted by interest and by the crowd's rating."""
        r = self.role
        tilt = np.tanh(interest - r.threshold) * r.rating_spread
        expected: np.ndarray = r.rating_mean + tilt + 0.5 * r.conformity * crowd
        return expected


def viewer_of(role: ViewerRole) -> Viewer:
    """The numpy form of a role."""
    latent = None if role.latent is None else np.asarray(role.latent, dtype=np.float64)
    return Viewer(np.asarray(role.taste, dtype=np.float64), latent, role)
