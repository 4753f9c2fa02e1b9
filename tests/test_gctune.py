"""The run's garbage-collector settings: what survives a young collection that found no garbage is frozen
(walked once), a run that makes reference cycles keeps collecting them, and everything is restored."""

from __future__ import annotations

import gc
import weakref

from simworld.gctune import quiet_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_survivors_of_a_clean_young_collection_are_frozen():
    with quiet_gc():
        gc.collect(0)  # whatever the test runner left young
        before = gc.get_freeze_count()
        kept = [[k] for k in range(2_000)]
        gc.collect(0)  # nothing to free: the survivors are frozen
        assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_freeze_count() == 0


def test_a_collection_that_frees_cycles_freezes_nothing_and_cycles_are_freed():
    with quiet_gc():
        gc.collect(0)
        before = gc.get_freeze_count()
        node = Node()
        dead = weakref.ref(node)
        del node
        kept = [[k] for k in range(2_000)]
        gc.collect(0)
        assert dead() is None  # the cycle was collected while the run goes on
        assert gc.get_freeze_count() == before  # and the young survivors keep their generation
        assert len(kept) == 2_000


def test_a_frozen_cycle_is_freed_after_the_run():
    with quiet_gc():
        gc.collect(0)
        node = Node()
        later = weakref.ref(node)
        gc.collect(0)  # alive at a clean collection: frozen
        del node
        gc.collect()  # even a full collection leaves frozen objects alone during the run
        assert later() is not None
    gc.collect()
    assert later() is None


def test_settings_are_restored():
    old, callbacks = gc.get_threshold(), list(gc.callbacks)
    with quiet_gc():
        assert gc.get_threshold()[0] >= 20_000
        assert len(gc.callbacks) == len(callbacks) + 1
    assert gc.get_threshold() == old and gc.callbacks == callbacks and gc.get_freeze_count() == 0
