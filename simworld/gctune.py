"""Garbage-collector settings for the length of a run.

While the clock runs, what already exists (agents, personas, setup) is kept out of the cyclic collector
and collections are rarer: long-lived agents, memories and events are otherwise walked again and again
(a quarter of a large run's time).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Freeze existing objects and raise the collection thresholds; both restored on exit."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], 20_000), max(old[1], 20), max(old[2], 20))
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*old)
