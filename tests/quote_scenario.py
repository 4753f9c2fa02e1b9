"""A tiny scenario for model-path tests: ``n`` agents, each asked once for an amount (a model decision).

Kept apart from the built-in scenarios so that the model path is tested on its own; the CLI tests run
it as a user's own scenario file.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from simworld.agents import Cast, Persona
from simworld.agents.brain_config import BrainSettings

import simworld as sw
from simworld.decisions import DecisionRequest
from simworld.events import Payload


class Amount(BaseModel):
    amount: float = Field(ge=0)
    rationale: str = ""


class Asked(Payload):
    """The question was put to everyone."""

    kind: ClassVar[str] = "quote.asked"
    question: str


class QuoteConfig(BrainSettings):
    brain: str | dict[str, float] = "llm"
    n: int = Field(default=3, ge=1)


class Quote(sw.Scenario):
    """Everyone names an amount once."""

    name = "quote"
    Config = QuoteConfig
    events = (Asked,)
    config: QuoteConfig

    def setup(self, world: sw.World) -> None:
        cast = Cast(world, self.config)
        zero = lambda *args: Amount(amount=0.0)
        self.agents = cast.add_all([Persona(id=f"q{i}", name=f"Q{i}") for i in range(self.config.n)],
                                   policy=lambda persona: (zero, "zero"))

    def processes(self, world: sw.World) -> list[Any]:
        def ask() -> Any:
            seq = world.emit("quote.asked", {"question": "how much?"}, witnesses=[a.id for a in self.agents])
            yield world.decide_many([(a, DecisionRequest("quote.amount", Amount, causes=[seq])) for a in self.agents])

        return [ask()]

    def metrics(self, log: sw.RunLog) -> dict[str, Any]:
        amounts = [e.data["action"]["amount"] for e in log.events(kind="agent.acted")]
        return {"answers": len(amounts), "total": sum(amounts)}


def answer(amount: float) -> Any:
    """A responder for ScriptedServer that always names ``amount``."""
    return lambda messages: json.dumps({"amount": amount, "rationale": "fixed"})
