"""What supporters and seekers may do (the typed actions of each decision), and their rule policies.

Supporters: ``staged`` follows the ESConv framework: explore (Question, Restatement or Paraphrasing) until
the problem is known, comfort (Reflection of Feelings, Affirmation and Reassurance, Self-disclosure), then
suggest (Providing Suggestions, Information), with the supporter's persona tilting the choice within each
stage; ``random`` picks any strategy uniformly (the baseline). Both keep beliefs about the seeker from what
is disclosed and how they sound. Seekers: ``persona`` says how it feels, ends and rates the talk.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from simworld.agents.beliefs import Beliefs
from simworld.agents.brains import PolicyRegistry
from simworld.agents.persona import Persona
from simworld.memory import Memory
from simworld.scenarios.support.dynamics import INTENSITY_CUES, patience
from simworld.scenarios.support.esconv import STRATEGIES, Strategy

from simworld.decisions import DecisionRequest
from simworld.events import WorldEvent

#: The decisions: a supporter's reply, a seeker's turn, the seeker's closing rating.
RESPOND, SEEK, FEEDBACK = "support.respond", "support.seek", "support.feedback"

STAGES: dict[str, tuple[Strategy, ...]] = {"explore": STRATEGIES[:2], "comfort": STRATEGIES[2:5],
                                           "suggest": STRATEGIES[5:7]}


class SupportTurn(BaseModel):
    """A supporter's turn: the strategy and the words (rule brains fill them from templates)."""

    model_config = ConfigDict(extra="forbid")
    strategy: Strategy
    text: str = Field(default="", max_length=2000)
    rationale: str = ""


class SeekerTurn(BaseModel):
    """The seeker's turn: what it says, and whether it ends the conversation."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=2000)
    end: bool = False
    rationale: str = ""


class Feedback(BaseModel):
    """How helpful the conversation was, 1 (not at all) to 5 (very)."""

    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)
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
    """Words for ``strategy`` about ``topic`` and ``emotion`` (generic words where they are not known)."""
    options = TEMPLATES[strategy]
    return options[int(rng.integers(len(options)))].format(topic=topic or "this", emotion=emotion or "upset")


def stage_of(turn: int, knows_problem: bool, explore_turns: int, comfort_turns: int) -> str:
    """Explore until the problem is known (or ``explore_turns`` have passed), comfort until turn
    ``explore_turns + comfort_turns``, then suggest. Never goes back a stage."""
    if turn < explore_turns and not knows_problem:
        return "explore"
    return "comfort" if turn < explore_turns + comfort_turns else "suggest"


class Staged:
    """Explore -> comfort -> suggest, and beliefs about the seeker from what is disclosed and how they
    sound (the intensity words of their messages)."""

    def __call__(self, persona: Persona, obs: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> SupportTurn:
        c = obs.context
        seeker = c["seeker"]
        topic = beliefs.get(seeker, "problem_type")
        emotion = beliefs.get(seeker, "emotion_type")
        strategy: Strategy
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

    def observe(self, persona: Persona, event: WorldEvent, beliefs: Beliefs, rng: np.random.Generator) -> None:
        """What the seeker tells is believed firmly; how bad it sounds (its intensity word) less so."""
        d = event.data
        if event.kind == "support.disclosed":
            beliefs.update(d["seeker"], d["part"], d["value"], 0.9, causes=(event.seq,))
        elif event.kind == "message.sent" and d.get("cue") is not None and d["sender"] != persona.id:
            level = INTENSITY_CUES.index(d["cue"]) + 1
            beliefs.update(d["sender"], "intensity", level, 0.6, causes=(event.seq,))


class RandomPolicy(Staged):
    """Any strategy, uniformly (the baseline), with the same belief tracking as ``staged``."""

    def __call__(self, persona: Persona, obs: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> SupportTurn:
        strategy = STRATEGIES[int(rng.integers(len(STRATEGIES)))]
        seeker = obs.context["seeker"]
        return SupportTurn(strategy=strategy, text=template_text(strategy, beliefs.get(seeker, "problem_type"),
                                                                 beliefs.get(seeker, "emotion_type"), rng))


def seeker_policy(persona: Persona, obs: DecisionRequest, memories: Memory, beliefs: Beliefs,
                  rng: np.random.Generator) -> SeekerTurn | Feedback:
    """Rule seeker: says how it feels, ends when relieved or out of patience, rates the help it got."""
    c = obs.context
    if obs.decision == FEEDBACK:
        gain = c["initial_intensity"] - c["intensity"]
        score = int(np.clip(round(2.5 + 0.9 * gain + 1.5 * c["trust"] + rng.normal(0, 0.3)), 1, 5))
        return Feedback(score=score)
    if c["intensity"] <= c["resolved_at"] - 0.5:
        return SeekerTurn(text="I feel much better now, thank you so much.", end=True)
    if c["turn"] >= patience(persona.big_five) and c["intensity"] >= c["initial_intensity"] - 0.25:
        return SeekerTurn(text="I don't think this is helping. I'll go now.", end=True)
    return SeekerTurn(text=f"I feel {c['cue']} {c['feeling']}.")


#: Supporters' rule policies (the config's ``policy``, or a persona's ``roles.supporter.policy``).
policies = PolicyRegistry("support")
policies.register("staged", Staged)
policies.register("random", RandomPolicy)

#: Seekers' rule policy.
seeker_policies = PolicyRegistry("seeker")
seeker_policies.register("persona", seeker_policy)
