"""ESConv (Liu et al. 2021): its eight support strategies, and reading ESConv-format conversations and the
variants found in the wild.

A file holds a list of conversations (or ``{"conversations": [...]}``, or JSONL, one per line). Each has
``emotion_type``, ``problem_type``, ``situation``, ``survey_score.seeker.initial_emotion_intensity`` and
``final_emotion_intensity`` (strings or numbers; a top-level ``initial_intensity`` / ``final_intensity``
also works) and ``dialog``: turns with ``speaker`` (``seeker``/``supporter``, or ``usr``/``sys``,
``user``/``assistant``), ``content`` (or ``text``), and ``annotation.strategy`` (or ``strategy``) and
``annotation.feedback``. Unknown strategy names become ``Others`` with a warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simworld.errors import BadInput
from simworld.files import load_json, read_text

Strategy = Literal[
    "Question", "Restatement or Paraphrasing", "Reflection of Feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
]
STRATEGIES: tuple[Strategy, ...] = (
    "Question", "Restatement or Paraphrasing", "Reflection of Feelings", "Self-disclosure",
    "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others",
)


def _key(label: object) -> str:
    """A strategy label with case, spacing and punctuation dropped."""
    return "".join(ch for ch in str(label or "").lower() if ch.isalpha())


_ALIASES: dict[str, Strategy] = {_key(s): s for s in STRATEGIES}
_ALIASES.update({"restatement": STRATEGIES[1], "paraphrasing": STRATEGIES[1], "reflection": STRATEGIES[2],
                 "selfdisclosure": STRATEGIES[3], "affirmation": STRATEGIES[4], "reassurance": STRATEGIES[4],
                 "suggestion": STRATEGIES[5], "suggestions": STRATEGIES[5], "providingsuggestion": STRATEGIES[5],
                 "other": "Others"})


def canonical_strategy(name: str | None, where: str = "") -> Strategy:
    """The ESConv strategy a label means (case, spacing and punctuation ignored; a few common variants);
    an unknown label becomes ``Others`` with a warning."""
    found = _ALIASES.get(_key(name))
    if found is None:
        warnings.warn(f"{where}unknown strategy {name!r}, counted as Others", stacklevel=2)
        return "Others"
    return found


SEEKER_LABELS = {"seeker", "usr", "user", "help-seeker", "helpseeker", "client"}
SUPPORTER_LABELS = {"supporter", "sys", "system", "assistant", "bot", "helper", "counselor"}


class Turn(BaseModel):
    """One recorded turn: who spoke, the words, the supporter's strategy and the seeker's rating (if any)."""

    model_config = ConfigDict(extra="forbid")
    speaker: Literal["seeker", "supporter"]
    text: str
    strategy: Strategy | None = None
    feedback: int | None = Field(default=None, ge=1, le=5)


class Conversation(BaseModel):
    """One recorded conversation: the seeker's problem and emotion, intensity before and after, the turns."""

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
    except (TypeError, ValueError, OverflowError):  # not a number, NaN, or infinite
        raise BadInput(source, f"expected a number (finite), got {value!r}", field) from None


def _conversation(raw: Any, k: int, source: str) -> Conversation:
    where = f"conversations[{k}]"
    if not isinstance(raw, dict):
        raise BadInput(source, "a conversation must be a mapping", where)
    dialog = raw.get("dialog", raw.get("dialogue", raw.get("turns")))
    if not isinstance(dialog, list) or not dialog:
        raise BadInput(source, "needs a non-empty 'dialog' list", where)
    scores = raw.get("survey_score") or {}
    survey = scores.get("seeker") if isinstance(scores, dict) else None
    survey = survey or {}
    if not isinstance(survey, dict):
        raise BadInput(source, "expected a mapping of survey answers", f"{where}.survey_score.seeker")
    turns = []
    unknown: list[str] = []
    for t, turn in enumerate(dialog):
        tw = f"{where}.dialog[{t}]"
        if not isinstance(turn, dict):
            raise BadInput(source, "a turn must be a mapping", tw)
        who = str(turn.get("speaker", turn.get("role", ""))).strip().lower()
        speaker: Literal["seeker", "supporter"]
        if who in SEEKER_LABELS:
            speaker = "seeker"
        elif who in SUPPORTER_LABELS:
            speaker = "supporter"
        else:
            raise BadInput(source, f"unknown speaker {who!r} (use seeker/supporter or usr/sys)", f"{tw}.speaker")
        ann = turn.get("annotation") or {}
        if not isinstance(ann, dict):
            raise BadInput(source, f"expected a mapping (strategy, feedback), got {type(ann).__name__}",
                           f"{tw}.annotation")
        strategy: Strategy | None = None
        if speaker == "supporter":
            label = ann.get("strategy", turn.get("strategy"))
            strategy = canonical_strategy(label, f"{source}: {tw}: ")
            if strategy == "Others" and _key(label) not in ("others", "other"):
                unknown.append(str(label))
        feedback = _int(ann.get("feedback", turn.get("feedback")), source, f"{tw}.feedback")
        text = turn.get("content", turn.get("text", ""))
        turns.append(Turn(speaker=speaker, text=str(text), strategy=strategy,
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
    text = read_text(path, "conversations file")
    if path.suffix.lower() == ".jsonl":
        data: Any = [load_json(line, source, f"line {i}") for i, line in enumerate(text.splitlines(), start=1)
                     if line.strip()]
    else:
        data = load_json(text, source)
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
