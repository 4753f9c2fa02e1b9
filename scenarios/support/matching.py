"""Interpersonal matching of supporters to seekers (after CharacterChat), and random assignment."""

from __future__ import annotations

import numpy as np
from simworld.agents.persona import Persona


def compatibility(seeker: Persona, supporter: Persona) -> float:
    """Persona compatibility in [0, 1]: alike in openness and extraversion (shared outlook and pace), a
    warm supporter (agreeableness), and a calm one where the seeker is anxious (complementary neuroticism)."""
    s, p = seeker.big_five, supporter.big_five
    score = (0.3 * (1 - abs(s.openness - p.openness)) + 0.2 * (1 - abs(s.extraversion - p.extraversion))
             + 0.25 * p.agreeableness + 0.25 * (1 - p.neuroticism) * (0.5 + s.neuroticism) / 1.5)
    return float(np.clip(score, 0.0, 1.0))


def match(seekers: list[Persona], supporters: list[Persona], capacity: int) -> list[int]:
    """Greedy best-first assignment: the most compatible (seeker, supporter) pairs first, each supporter
    taking at most ``capacity`` seekers. Returns the supporter index of each seeker."""
    pairs = sorted(((-compatibility(s, p), i, j) for i, s in enumerate(seekers) for j, p in enumerate(supporters)))
    out = [-1] * len(seekers)
    load = [0] * len(supporters)
    for _, i, j in pairs:
        if out[i] < 0 and load[j] < capacity:
            out[i] = j
            load[j] += 1
    return out


def random_assignment(n_seekers: int, n_supporters: int, capacity: int, rng: np.random.Generator) -> list[int]:
    """Each seeker to a random supporter with room left (every supporter takes at most ``capacity``)."""
    slots = [j for j in range(n_supporters) for _ in range(capacity)]
    order = rng.permutation(len(slots))[:n_seekers]
    return [slots[k] for k in order]
