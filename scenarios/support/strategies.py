"""The eight ESConv support strategies, their templates, and the supporters' rule policies.

``staged`` follows the ESConv framework: explore (Question, Restatement or Paraphrasing) until the problem is
known, comfort (Reflection of Feelings, Affirmation and Reassurance, Self-disclosure), then suggest
(Providing Suggestions, Information), with the supporter's persona tilting the choice within each stage.
``random`` picks any strategy uniformly: the baseline.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.brains import PolicyRegistry
from simworld.agents.persona import Persona

from simworld.decisions import DecisionRequest

STRATEGIES = (
    "Question", "Restatement or Paraphrasing", "Reflection of Feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
)
Strategy = Literal[
    "Question", "Restatement or Paraphrasing", "Reflection of Feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
]
STAGES = {"explore": STRATEGIES[:2], "comfort": STRATEGIES[2:5], "suggest": STRATEGIES[5:7]}
RESPOND = "support.respond"

_ALIASES = {"".join(ch for ch in s.lower() if ch.isalpha()): s for s in STRATEGIES}
_ALIASES.update({"restatement": STRATEGIES[1], "paraphrasing": STRATEGIES[1], "reflection": STRATEGIES[2],
                 "selfdisclosure": STRATEGIES[3], "affirmation": STRATEGIES[4], "reassurance": STRATEGIES[4],
                 "suggestion": STRATEGIES[5], "suggestions": STRATEGIES[5], "providingsuggestion": STRATEGIES[5],
                 "other": "Others"})


def canonical_strategy(name: str | None, where: str = "") -> str:
    """The ESConv strategy a label means (case, spacing and punctuation ignored; a few common variants);
    an unknown label becomes ``Others`` with a warning."""
    key = "".join(ch for ch in str(name or "").lower() if ch.isalpha())
    found = _ALIASES.get(key)
    if found is None:
        warnings.warn(f"{where}unknown strategy {name!r}, counted as Others", stacklevel=2)
        return "Others"
    return found


class SupportTurn(BaseModel):
    """A supporter's turn: the strategy and the words (rule brains fill them from templates)."""

    model_config = ConfigDict(extra="forbid")
    strategy: Strategy
    text: str = Field(default="", max_length=2000)
    rationale: str = ""


TEMPLATES: dict[str, tuple[str, ...]] = {
    "Question": ("What has been on your mind lately?", "Can you tell me more about what happened?",
                 "How long have you been feeling this way?"),
    "Restatement or Paraphrasing": ("So if I understand you, {topic} has been weighing on you.",
                                    "It sounds like {topic} is at the centre of this."),
    "Reflection of Feelings": ("You sound {emotion}, and that is completely understandable.",
                               "I can hear how {emotion} this is making you feel."),
    "Self-disclosure": ("I went through something similar once, and I remember how hard it was.",
                        "When I faced {topic} myself, I felt a lot like you do now."),
    "Affirmation and Reassurance": ("You are doing the right thing by talking about it.",
                                    "It took courage to share this; you are stronger than you think."),
    "Providing Suggestions": ("Maybe you could try one small step about {topic} this week?",
                              "Would it help to talk to someone you trust about {topic}?"),
    "Information": ("Many people dealing with {topic} find that routines and support groups help.",
                    "It is common to feel this way; there are good resources about {topic}."),
    "Others": ("I'm here for you.", "Thank you for telling me."),
}


def template_text(strategy: str, topic: str | None, emotion: str | None, rng: np.random.Generator) -> str:
    options = TEMPLATES[strategy]
    return options[int(rng.integers(len(options)))].format(topic=topic or "this", emotion=emotion or "upset")


def stage_of(turn: int, knows_problem: bool, explore_turns: int, comfort_turns: int) -> str:
    """Explore until the problem is known (or ``explore_turns`` have passed), comfort until turn
    ``explore_turns + comfort_turns``, then suggest. Never goes back a stage."""
    if turn < explore_turns and not knows_problem:
        return "explore"
    return "comfort" if turn < explore_turns + comfort_turns else "suggest"


policies = PolicyRegistry("support")


class Staged:
    """Explore -> comfort -> suggest, and beliefs about the seeker from what is disclosed and how they
    sound (the intensity words of their messages)."""

    def __call__(self, persona: Persona, obs: DecisionRequest, memories: Any, beliefs: Any,
                 rng: np.random.Generator) -> SupportTurn:
        c = obs.context
        seeker = c["seeker"]
        topic = beliefs.get(seeker, "problem_type")
        emotion = beliefs.get(seeker, "emotion_type")
        if c["turn"] == 0:
            strategy = "Question"
        else:
            stage = stage_of(c["turn"], topic is not None, c["explore_turns"], c["comfort_turns"])
            options = STAGES[stage]
            b5 = persona.big_five
            tilt = {"Reflection of Feelings": 0.5 + b5.agreeableness, "Self-disclosure": 0.2 + b5.openness * b5.extraversion,
                    "Affirmation and Reassurance": 0.5 + b5.agreeableness * 0.5, "Information": 0.4 + b5.conscientiousness,
                    "Providing Suggestions": 0.6 + 0.4 * b5.extraversion, "Question": 1.0, "Restatement or Paraphrasing": 0.3 + b5.openness}
            w = np.array([tilt[s] for s in options])
            strategy = options[int(rng.choice(len(options), p=w / w.sum()))]
            if rng.random() < 0.05:
                strategy = "Others"
        return SupportTurn(strategy=strategy, text=template_text(strategy, topic, emotion, rng))

    def observe(self, persona: Persona, event: Any, beliefs: Any, rng: np.random.Generator) -> None:
        if event.kind == "support.disclosed":
            d = event.data
            beliefs.update(d["seeker"], d["part"], d["value"], 0.9, causes=(event.seq,))
        elif event.kind == "message.sent" and event.data.get("cue") is not None and event.data["sender"] != persona.id:
            d = event.data
            level = INTENSITY_CUES.index(d["cue"]) + 1
            beliefs.update(d["sender"], "intensity", level, 0.6, causes=(event.seq,))


def random_policy(persona: Persona, obs: DecisionRequest, memories: Any, beliefs: Any,
                  rng: np.random.Generator) -> SupportTurn:
    """Any strategy, uniformly (the baseline)."""
    strategy = STRATEGIES[int(rng.integers(len(STRATEGIES)))]
    seeker = obs.context["seeker"]
    return SupportTurn(strategy=strategy, text=template_text(strategy, beliefs.get(seeker, "problem_type"),
                                                             beliefs.get(seeker, "emotion_type"), rng))


class RandomPolicy(Staged):
    """Random strategies, but the same belief tracking as ``staged``."""

    def __call__(self, persona: Persona, obs: DecisionRequest, memories: Any, beliefs: Any,
                 rng: np.random.Generator) -> SupportTurn:
        return random_policy(persona, obs, memories, beliefs, rng)


policies.register("staged", Staged)
policies.register("random", RandomPolicy)

#: How a seeker says how bad it is (intensity 1..5); the supporter reads the level back from the word.
INTENSITY_CUES = ("a little", "somewhat", "quite", "very", "unbearably")
