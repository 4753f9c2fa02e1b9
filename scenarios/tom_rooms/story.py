"""A tom_rooms run as a story: one line of text per event, from the run log alone (ToMi style).

Attention misses are told too ("Bob did not notice."), so that a reader can label every question
from the text as the knowledge engine does from the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Line:
    """One sentence of the story and the event it tells."""

    seq: int
    t: float
    text: str


def _the(thing: str) -> str:
    return "the " + thing.replace("_", " ")


def _listing(items: list[str]) -> str:
    words = [_the(x) for x in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def render(events: Iterable[Mapping[str, Any]]) -> list[Line]:
    """The story of a tom_rooms log (raw events in order)."""
    names: dict[str, str] = {}
    out: list[Line] = []
    told: dict[int, str] = {}  # seq -> its line, for misses that follow

    def add(e: Mapping[str, Any], text: str) -> None:
        out.append(Line(e["seq"], float(e["t"]), text))
        told[e["seq"]] = text

    for e in events:
        kind, d = e["kind"], e.get("data") or {}
        name = names.get
        if kind == "agent.joined":
            names[e["agent"]] = str((d.get("persona") or {}).get("name") or e["agent"])
        elif kind == "tom.scene":
            for room, containers in d["rooms"].items():
                add(e, f"The {room} has {_listing(containers)}.")
        elif kind == "tom.entered":
            add(e, f"{name(d['who'], d['who'])} entered the {d['room']}.")
        elif kind == "tom.left":
            add(e, f"{name(d['who'], d['who'])} left the {d['room']}.")
        elif kind == "tom.noticed":
            add(e, f"The {d['object']} is in {_the(d['container'])}.")
        elif kind == "tom.moved":
            add(e, f"{name(d['who'], d['who'])} moved the {d['object']} to {_the(d['to'])}.")
        elif kind == "tom.looked":
            seen = "; ".join(f"the {o} is in {_the(c)}" for o, c in d["seen"].items()) or "nothing there"
            add(e, f"{name(d['who'], d['who'])} looked around the {d['room']}: {seen}.")
        elif kind == "tom.watching":
            add(e, f"Unseen by anyone, {name(d['who'], d['who'])} watched the {d['room']} through its window.")
        elif kind == "tom.stopped_watching":
            add(e, f"{name(d['who'], d['who'])} stopped watching the {d['room']}.")
        elif kind == "message.sent" and d.get("claims"):
            sender = name(d["sender"], d["sender"])
            said = " and ".join(f"the {fact.rsplit('.', 1)[0]} is in {_the(str(v))}" for fact, v in d["claims"].items())
            if d.get("private"):
                add(e, f"{sender} privately told {name(d['audience'][0], d['audience'][0])} that {said}.")
            else:
                add(e, f"{sender} told everyone in the {d['place']} that {said}.")
        elif kind == "agent.perceived" and any(s in told for s in d.get("missed") or ()):
            add(e, f"{name(e['agent'], e['agent'])} did not notice that.")
    return out


def text(lines: Iterable[Line], numbered: bool = True) -> str:
    """The story as text, one sentence per line (numbered from 1 like ToMi)."""
    return "\n".join(f"{i} {ln.text}" if numbered else ln.text for i, ln in enumerate(lines, 1))
