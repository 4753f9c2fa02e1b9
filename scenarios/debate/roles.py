"""The typed ``debate`` role of a persona."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Part = Literal["debater", "audience"]
#: An opinion on a proposition, from -1 (against) to 1 (for).
Opinion = Annotated[float, Field(ge=-1.0, le=1.0)]


class DebateRole(BaseModel):
    """``roles.debate`` of a persona: a debater (with a stance) or a member of the audience."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    part: Part = "audience"
    stance: float | None = Field(default=None, ge=-1.0, le=1.0, description="initial opinion on every proposition")
    stances: dict[str, Opinion] = Field(default_factory=dict, description="proposition id -> initial opinion")

    def initial(self, proposition: str) -> float | None:
        """The persona's given opinion on ``proposition`` (None: the scenario draws one)."""
        return self.stances.get(proposition, self.stance)
