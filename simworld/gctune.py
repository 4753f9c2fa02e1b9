"""Garbage-collector settings for the length of a run.

While the clock runs, what already exists (agents, personas, setup) is kept out of the cyclic collector
and collections are rarer: long-lived agents, memories and events are otherwise walked again and again
(a quarter of a large run's time). What a young collection leaves alive is frozen too when that
collection found no garbage at all: a run that makes no reference cycles (the rule-brain scenarios)
then walks each kept object once, not again in the middle generation (100k recommender viewers: the
collector's time 5.3 s -> 2.0 s of about 33 s). A run that does make cycles (a young collection freed
something) keeps the usual generations, so its short-lived cycles are still collected while it runs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _freeze_after_clean_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 0 and info["collected"] == 0:
        gc.freeze()


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Freeze existing objects and raise the collection thresholds; freeze what survives a young
    collection that found no garbage. All restored on exit (frozen objects go back to the oldest
    generation, where the next full collection sees them)."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], 20_000), max(old[1], 20), max(old[2], 20))
    gc.callbacks.append(_freeze_after_clean_collection)
    try:
        yield
    finally:
        gc.callbacks.remove(_freeze_after_clean_collection)
        gc.unfreeze()
        gc.set_threshold(*old)
