"""A theory-of-mind benchmark file from tom_rooms stories: usable by anyone, without simworld.

Each line of the JSONL file is one question about one story: the story as numbered sentences, the
question, the choices, the answer (labelled by the knowledge engine, so right by construction), the kind
and order, whether it needs theory of mind, and how to regenerate the story (seed and config).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from simworld.scenarios.tom_rooms.scenario import TomRoomsScenario
from simworld.scenarios.tom_rooms.story import render, text

from simworld.errors import BadInput
from simworld.runlog import load_run
from simworld.runner import run
from simworld.tom import KINDS, Knowledge, Probe, balance, probes


def stories(n: int, seed: int = 0, overrides: Mapping[str, Any] | None = None,
            orders: Sequence[int] = (1, 2, 3, 4), kinds: Sequence[str] = KINDS,
            per_fact: int | None = 64) -> Iterator[tuple[int, Knowledge, str, list[Probe]]]:
    """``n`` stories (seeds ``seed`` .. ``seed + n - 1``): (seed, knowledge, text, every probe)."""
    with tempfile.TemporaryDirectory(prefix="simworld-tom-") as tmp:
        for s in range(seed, seed + n):
            result = run(TomRoomsScenario, seed=s, out=tmp, run_id=f"story-{s}", overrides=dict(overrides or {}))
            log = load_run(result.path)
            k = Knowledge(log)
            told = text(render(log.iter_raw()))
            yield s, k, told, probes(k, orders=orders, kinds=kinds, seed=s, per_fact=per_fact, balanced=False)


def _shown(value: Any, k: Knowledge) -> Any:
    """Agent ids as names; lists of them sorted by name."""
    if isinstance(value, list):
        return sorted(_shown(v, k) for v in value)
    return k.name(value) if isinstance(value, str) and value in k.names else value


def generate(out: str | os.PathLike[str], n: int, orders: Sequence[int] = (1, 2, 3, 4), seed: int = 0,
             overrides: Mapping[str, Any] | None = None, kinds: Sequence[str] = KINDS, balanced: bool = True,
             per_fact: int | None = 64) -> dict[str, Any]:
    """Write a benchmark of ``n`` stories to ``out``; returns counts per kind and order."""
    if n < 1:
        raise BadInput("--n", f"must be at least 1, got {n}")
    rows: list[tuple[int, Knowledge, str, Probe]] = []
    for s, k, told, found in stories(n, seed, overrides, orders, kinds, per_fact):
        rows.extend((s, k, told, p) for p in found)
    kept = balance([r[3] for r in rows], seed) if balanced else [r[3] for r in rows]
    chosen = {id(p) for p in kept}
    path = Path(out)
    written: dict[str, int] = {}
    try:
        with path.open("wb") as fh:
            for s, k, told, p in rows:
                if id(p) not in chosen:
                    continue
                record = {
                    "id": f"s{s}:{p.id}", "story_id": f"tom_rooms-s{s}", "story": told, "question": p.question,
                    "choices": _shown(p.choices, k) if p.kind in ("answerability", "accessibility") else p.choices,
                    "answer": _shown(p.answer, k), "kind": p.kind, "order": p.order, "tom_required": p.tom_required,
                    "chain": [k.name(a) for a in p.chain], "fact": p.fact,
                    "source": {"scenario": "tom_rooms", "seed": s, "overrides": dict(overrides or {})},
                }
                fh.write(orjson.dumps(record) + b"\n")
                key = f"{p.kind}:{p.order}"
                written[key] = written.get(key, 0) + 1
    except OSError as err:
        raise BadInput(str(path), f"cannot write the benchmark ({err.strerror or err})") from None
    return {"stories": n, "questions": sum(written.values()), "by_kind": dict(sorted(written.items()))}
