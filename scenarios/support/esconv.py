"""Reading ESConv-format conversations (Liu et al. 2021) and the variants found in the wild.

A file holds a list of conversations (or ``{"conversations": [...]}``, or JSONL, one per line). Each has
``emotion_type``, ``problem_type``, ``situation``, ``survey_score.seeker.initial_emotion_intensity`` and
``final_emotion_intensity`` (strings or numbers; a top-level ``initial_intensity`` / ``final_intensity``
also works) and ``dialog``: turns with ``speaker`` (``seeker``/``supporter``, or ``usr``/``sys``,
``user``/``assistant``), ``content`` (or ``text``), and ``annotation.strategy`` (or ``strategy``) and
``annotation.feedback``. Unknown strategy names become ``Others`` with a warning.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from simworld.scenarios.support.strategies import canonical_strategy

from simworld.errors import BadInput

SEEKER_LABELS = {"seeker", "usr", "user", "help-seeker", "helpseeker", "client"}
SUPPORTER_LABELS = {"supporter", "sys", "system", "assistant", "bot", "helper", "counselor"}


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: Literal["seeker", "supporter"]
    text: str
    strategy: str | None = None
    feedback: int | None = Field(default=None, ge=1, le=5)


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    problem_type: str = "unknown"
    emotion_type: str = "unknown"
    situation: str = ""
    initial_intensity: int | None = Field(default=None, ge=1, le=5)
    final_intensity: int | None = Field(default=None, ge=1, le=5)
    turns: list[Turn]
    unknown_strategies: list[str] = Field(default_factory=list, description="labels read as Others")


def _int(value: Any, source: str, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise BadInput(source, f"expected a number, got {value!r}", field) from None


def _conversation(raw: Any, k: int, source: str) -> Conversation:
    where = f"conversations[{k}]"
    if not isinstance(raw, dict):
        raise BadInput(source, "a conversation must be a mapping", where)
    dialog = raw.get("dialog", raw.get("dialogue", raw.get("turns")))
    if not isinstance(dialog, list) or not dialog:
        raise BadInput(source, "needs a non-empty 'dialog' list", where)
    survey = (raw.get("survey_score") or {}).get("seeker") or {}
    turns = []
    unknown: list[str] = []
    for t, turn in enumerate(dialog):
        tw = f"{where}.dialog[{t}]"
        if not isinstance(turn, dict):
            raise BadInput(source, "a turn must be a mapping", tw)
        label = str(turn.get("speaker", turn.get("role", ""))).strip().lower()
        if label in SEEKER_LABELS:
            speaker = "seeker"
        elif label in SUPPORTER_LABELS:
            speaker = "supporter"
        else:
            raise BadInput(source, f"unknown speaker {label!r} (use seeker/supporter or usr/sys)", f"{tw}.speaker")
        ann = turn.get("annotation") or {}
        strategy = ann.get("strategy", turn.get("strategy"))
        if speaker == "supporter":
            label = strategy
            strategy = canonical_strategy(label, f"{source}: {tw}: ")
            if strategy == "Others" and "".join(ch for ch in str(label).lower() if ch.isalpha()) not in ("others", "other"):
                unknown.append(str(label))
        feedback = _int(ann.get("feedback", turn.get("feedback")), source, f"{tw}.feedback")
        text = turn.get("content", turn.get("text", ""))
        turns.append(Turn(speaker=speaker, text=str(text), strategy=strategy if speaker == "supporter" else None,
                          feedback=None if feedback is None else min(5, max(1, feedback))))
    initial = _int(survey.get("initial_emotion_intensity", raw.get("initial_intensity")), source, f"{where}.initial_intensity")
    final = _int(survey.get("final_emotion_intensity", raw.get("final_intensity")), source, f"{where}.final_intensity")
    return Conversation(
        id=str(raw.get("id", f"conv{k:04d}")), problem_type=str(raw.get("problem_type", "unknown")),
        emotion_type=str(raw.get("emotion_type", "unknown")), situation=str(raw.get("situation", "")),
        initial_intensity=None if initial is None else min(5, max(1, initial)),
        final_intensity=None if final is None else min(5, max(1, final)), turns=turns,
        unknown_strategies=unknown,
    )


def load_esconv(path: str | Path) -> list[Conversation]:
    """Every conversation in an ESConv-format JSON or JSONL file; problems are BadInput naming the place."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(source, "no such file", "conversations") from None
    try:
        if path.suffix.lower() == ".jsonl":
            data: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInput(source, f"not valid JSON: {err.msg}", f"line {err.lineno}") from None
    if isinstance(data, dict):
        data = data.get("conversations", data.get("data"))
    if not isinstance(data, list) or not data:
        raise BadInput(source, "expected a non-empty list of conversations")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convs = [_conversation(raw, k, source) for k, raw in enumerate(data)]
    for w in caught:  # re-issue once each, now that loading succeeded
        warnings.warn(str(w.message), UserWarning, stacklevel=2)
    return convs
