"""Who gets the floor, for how long, and who cuts in: the persona-dependent timing of a debate."""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
from simworld.agents.persona import BigFive

T = TypeVar("T")


def speaking_order(pro: list[T], con: list[T], rnd: int) -> list[T]:
    """Alternate the sides, the side that opens switching every round."""
    first, second = (pro, con) if rnd % 2 == 0 else (con, pro)
    out: list[T] = []
    for k in range(max(len(first), len(second))):
        out += [grp[k] for grp in (first, second) if k < len(grp)]
    return out


def speech_time(b5: BigFive, median: float, rng: np.random.Generator) -> float:
    """Seconds a turn takes: verbose extraverts talk longer (log-normal noise), at least one second."""
    d = median * math.exp(1.2 * (b5.extraversion - 0.5) + 0.25 * float(rng.standard_normal()))
    return max(1.0, round(d, 1))


def interrupt_chance(b5: BigFive, propensity: float) -> float:
    """Chance an opponent cuts into one turn: only extraverted (E > 0.4), disagreeable (A < 0.6) ones do."""
    return propensity * 0.8 * max(0.0, b5.extraversion - 0.4) / 0.6 * max(0.0, 0.6 - b5.agreeableness) / 0.6


def first_interruption(opponents: list[tuple[T, BigFive]], duration: float, propensity: float,
                       rng: np.random.Generator) -> tuple[T, float] | None:
    """Who of ``opponents`` cuts in first during a turn of ``duration`` seconds, and when (or None)."""
    best: tuple[float, int, T] | None = None
    for k, (who, b5) in enumerate(opponents):
        u, at = float(rng.random()), round(duration * float(rng.uniform(0.3, 0.9)), 1)
        if u < interrupt_chance(b5, propensity) and (best is None or (at, k) < best[:2]):
            best = (at, k, who)
    return None if best is None else (best[2], best[0])
