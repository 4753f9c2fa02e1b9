"""The typed roles of a support persona: ``roles.seeker`` and ``roles.supporter``."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from simworld.scenarios.support.policies import policies

from simworld.config import check_shares

PROBLEMS = ("job crisis", "breakup with partner", "ongoing depression", "problems with friends",
            "academic pressure", "issues with parents")
EMOTIONS = ("anxiety", "sadness", "depression", "anger", "fear", "shame")
SITUATIONS = {
    "job crisis": "I was told my position will be cut at the end of the month.",
    "breakup with partner": "My partner of four years left and I keep replaying it.",
    "ongoing depression": "For months I have struggled to get out of bed.",
    "problems with friends": "My closest friends stopped inviting me and I do not know why.",
    "academic pressure": "My exams are in two weeks and I cannot keep up.",
    "issues with parents": "My parents and I argue every time we talk.",
}


class SeekerRole(BaseModel):
    """``roles.seeker`` of a persona: the problem, the emotion and its intensity (1-5)."""

    model_config = ConfigDict(extra="forbid")
    problem_type: str = "job crisis"
    emotion_type: str = "anxiety"
    intensity: int = Field(default=4, ge=1, le=5)
    situation: str | None = None

    def told_situation(self) -> str:
        """The situation as the seeker tells it (a plain sentence about the problem when none is given)."""
        return self.situation or f"It is about {self.problem_type}."


class SupporterRole(BaseModel):
    """``roles.supporter`` of a persona (present: this persona is a supporter)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    policy: str | None = Field(default=None, description="overrides the config's policy")

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, v: str | None) -> str | None:
        if v is not None:
            check_shares(v, policies.names(), "policy")
        return v


def sample_seeker_role(rng: np.random.Generator) -> dict[str, str | int]:
    """A random ``roles.seeker``: a problem, an emotion, an intensity of 3 to 5."""
    problem = PROBLEMS[int(rng.integers(len(PROBLEMS)))]
    return {"problem_type": problem, "emotion_type": EMOTIONS[int(rng.integers(len(EMOTIONS)))],
            "intensity": int(rng.integers(3, 6)), "situation": SITUATIONS[problem]}
