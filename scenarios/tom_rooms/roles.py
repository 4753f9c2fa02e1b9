"""The typed ``tom`` role of a persona: how honest it is, and which policy or brain it uses."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from simworld.agents.persona import Persona
from simworld.scenarios.tom_rooms.policies import policies


class TomRole(BaseModel):
    """``roles.tom`` of a persona (optional: every field follows the persona when left out)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    honesty: float | None = Field(default=None, ge=0.0, le=1.0,
                                  description="0 always lies, 1 never; default: from agreeableness and conscientiousness")
    strategy: str | None = Field(default=None, description="a policy name; overrides the config's strategy")
    brain: Literal["rule", "llm", "local"] | None = Field(default=None, description="overrides the config's brain")

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str | None) -> str | None:
        if v is not None and v not in policies:
            raise ValueError(f"unknown strategy {v!r} (known: {', '.join(policies.names())})")
        return v


def honesty(persona: Persona) -> float:
    """The chance that a tell is truthful: the role's ``honesty``, else the mean of agreeableness and
    conscientiousness pulled towards the ends (0.5 -> 0.75 truthful, 0.2 -> 0.36, 0.8 -> 0.96)."""
    role = persona.role("tom", TomRole)
    if role.honesty is not None:
        return role.honesty
    b5 = persona.big_five
    return 1.0 - (1.0 - (b5.agreeableness + b5.conscientiousness) / 2.0) ** 2
