"""Memory text: how an observed event reads when it is embedded, shown or summarised.

Rendering happens lazily (at the first retrieval or when a record is read), never at intake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: A renderer turns an observed event into one line of text.
Renderer = Callable[[Any], str]

_MAX_LIST = 8


def format_value(v: Any) -> str:
    """Numbers compactly (``412000``, ``0.25``), lists shortened, nested mappings flattened."""
    if isinstance(v, bool) or v is None:
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e15 else f"{v:.3e}"
    if isinstance(v, (list, tuple)):
        head = " ".join(format_value(x) for x in v[:_MAX_LIST])
        return head + (f" (+{len(v) - _MAX_LIST} more)" if len(v) > _MAX_LIST else "")
    if isinstance(v, dict):
        return ", ".join(f"{k} {format_value(x)}" for k, x in v.items())
    return str(v)


def describe_event(event: Any) -> str:
    """``"auction bid by bidder004: item house01, bidder bidder004, amount 412000"``.

    The kind's words lead (they carry most of the meaning for embedding), then the actor, then each
    data field as ``key value``; a nested mapping reads as ``key (k v, ...)``.
    """
    head = event.kind.replace(".", " ").replace("_", " ")
    if event.agent:
        head += f" by {event.agent}"
    parts = []
    for key, value in event.data.items():
        if key == "hidden":
            continue
        text = format_value(value)
        parts.append(f"{key} ({text})" if isinstance(value, dict) else f"{key} {text}")
    return f"{head}: {', '.join(parts)}" if parts else head
