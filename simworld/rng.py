"""Named random streams: one seed, many independent generators keyed by a stable name."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(name: str) -> int:
    """A 64-bit hash of ``name`` that is the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


class Streams:
    """Hands out one ``numpy.random.Generator`` per name, all derived from one seed.

    ``streams("agent:alice")`` always returns the same generator object within a run, and the same
    sequence of numbers across runs with the same seed, whatever order the streams are created in.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=(stable_hash(name),))
            gen = np.random.Generator(np.random.PCG64(seq))
            self._streams[name] = gen
        return gen

    def fresh(self, name: str) -> np.random.Generator:
        """A new generator for ``name`` starting from the beginning of its sequence (not cached)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(stable_hash(name),))
        return np.random.Generator(np.random.PCG64(seq))
