"""Prompt formatting for model brains, kept apart from the model client (one can change without the other).

A prompt holds only what the agent may know: its persona card, its retrieved memories, its beliefs and
the decision's context (its own observation). Context keys starting with "_" are for rule policies only.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from simworld.memory import MemoryRecord, Retrieved

from simworld.decisions import DecisionRequest
from simworld.events import WorldEvent

_JSON_BLOCK = re.compile(r"\{.*\}", re.DOTALL)


def memory_line(m: Retrieved | MemoryRecord | WorldEvent) -> str:
    """One line for a memory: its text if it has one, else the perceived event it came from."""
    if isinstance(m, Retrieved):
        m = m.record
    if isinstance(m, MemoryRecord) and m.text:
        return f"[t={m.t:.1f}] {m.text}"
    data = m.data if isinstance(m, WorldEvent) else m.metadata.get("data")
    actor = m.agent if isinstance(m, WorldEvent) else m.metadata.get("agent")
    kind = f"{m.kind} by {actor}" if actor else m.kind  # who did it is part of what was seen
    body = json.dumps({k: v for k, v in (data or {}).items() if k != "hidden"}, default=str, sort_keys=True)
    return f"[t={float(m.t):.1f}] {kind} {body[:300]}"


@lru_cache(maxsize=256)
def schema_of(action_type: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of an action model as a dict, one shared object per type (read-only: never mutate)."""
    schema: dict[str, Any] = json.loads(action_schema(action_type))
    return schema


@lru_cache(maxsize=256)
def action_schema(action_type: type[BaseModel]) -> str:
    """The JSON schema of an action model, as compact sorted JSON (computed once per type)."""
    return json.dumps(action_type.model_json_schema(), sort_keys=True)


class HiddenContext(ValueError):
    """A decision context that would show a model something only rule policies may see."""


def public_context(request: DecisionRequest) -> dict[str, Any]:
    """What the prompt shows of the decision: its context, which holds only what the agent perceives. A
    key starting with ``_`` is refused (policy-only data belongs in ``policy_hints``, which no prompt
    ever shows)."""
    hidden = [k for k in request.context if k.startswith("_")]
    if hidden:
        raise HiddenContext(f"decision {request.decision!r}: context key(s) {hidden} look private; put data only "
                            "rule policies may see in DecisionRequest.policy_hints")
    return request.context


class PromptFormatter:
    """Builds chat messages for each graph node. Subclass to change wording; the structure stays typed.

    Every prompt starts with the agent's persona text (what :mod:`simworld.agents.persona_text` rendered,
    logged in ``agent.joined``)."""

    def system(self, persona_text: str) -> str:
        return f"{persona_text}\nStay in character and decide as this person would."

    def _situation(self, memories: list[Any], beliefs: list[str], request: DecisionRequest) -> str:
        parts = []
        if memories:
            parts.append("What you remember:\n" + "\n".join(f"- {memory_line(m)}" for m in memories))
        if beliefs:
            parts.append("What you believe about others:\n" + "\n".join(f"- {b}" for b in beliefs))
        parts.append(f"Decision: {request.decision}\nWhat you see now: "
                     + json.dumps(public_context(request), default=str, sort_keys=True))
        return "\n\n".join(parts)

    def decision(self, persona_text: str, memories: list[Any], beliefs: list[str], request: DecisionRequest) -> list[dict[str, str]]:
        schema = action_schema(request.action_type)
        user = (self._situation(memories, beliefs, request)
                + f"\n\nAnswer with only a JSON object that matches this schema (include a short \"rationale\" "
                f"if the schema has one):\n{schema}")
        return [{"role": "system", "content": self.system(persona_text)}, {"role": "user", "content": user}]

    def repair(self, messages: list[dict[str, str]], answer: str, error: str) -> list[dict[str, str]]:
        return [*messages, {"role": "assistant", "content": answer},
                {"role": "user", "content": f"That answer was invalid: {error}\nReply with only the corrected JSON object."}]

    def theory_of_mind(self, persona_text: str, memories: list[Any], others: list[str],
                       fields: dict[str, str] | None = None) -> list[dict[str, str]]:
        """``fields``: the typed beliefs asked for (name -> description); None: free keys."""
        if fields is None:
            ask = ('estimate what matters about them. Answer with only JSON: {"beliefs": [{"about": id, '
                   '"key": short name, "value": number or text, "confidence": 0..1}]}')
        else:
            wanted = ", ".join(f'"{k}": {d or k}' for k, d in fields.items() if k not in ("about", "confidence"))
            ask = ('estimate these things about them (leave out, or null, what you cannot tell). Answer with only '
                   f'JSON: {{"beliefs": [{{"about": id, {wanted}, "confidence": 0..1}}]}}')
        user = ("What you remember:\n" + "\n".join(f"- {memory_line(m)}" for m in memories)
                + f"\n\nOther people here: {', '.join(others)}.\nFor the ones your memories tell you something "
                + "about, " + ask)
        return [{"role": "system", "content": self.system(persona_text)}, {"role": "user", "content": user}]

    def reflection(self, persona_text: str, memories: list[Any]) -> list[dict[str, str]]:
        user = ("What you remember:\n" + "\n".join(f"- {memory_line(m)}" for m in memories)
                + '\n\nWhat are the one to three most important conclusions you draw? Answer with only JSON: '
                '{"insights": [text, ...]}')
        return [{"role": "system", "content": self.system(persona_text)}, {"role": "user", "content": user}]


def extract_json(text: str) -> Any:
    """The JSON object in a model's answer (tolerates code fences and chatter around it)."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    match = _JSON_BLOCK.search(text)
    if not match:
        raise ValueError("no JSON object in the answer")
    return json.loads(match.group(0))
