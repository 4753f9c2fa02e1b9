"""Answers to theory-of-mind probes and how they are judged (shared by interviews and scoring)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simworld.tom.probes import Probe

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
#: Big Five bands: below ``low`` is "low", above ``high`` is "high", the rest "mid".
BANDS = (0.4, 0.6)


class Answer(BaseModel):
    """One answer to one probe (a line of an answers file)."""

    model_config = ConfigDict(extra="forbid")

    probe: Probe
    respondent: str | None = Field(default=None, description="the agent asked (chain[0] of a belief probe)")
    brain: str = Field(default="model", description="rule (the perfect reasoner), llm, local, or a model name")
    answer: Any = None
    correct: bool = False
    failure: str | None = Field(default=None, description="why no valid answer came back")
    story: str | None = Field(default=None, description="the run or story the probe is about")
    calls: list[dict[str, Any]] = Field(default_factory=list, description="every model call: prompt and response")


def is_correct(probe: Probe, answer: Any) -> bool:
    """An answer matches the label (lists of agents compare as sets)."""
    if isinstance(probe.answer, list):
        return isinstance(answer, (list, tuple)) and sorted(map(str, answer)) == sorted(map(str, probe.answer))
    return bool(answer == probe.answer)


def band(value: float) -> str:
    lo, hi = BANDS
    return "low" if value < lo else ("high" if value > hi else "mid")
