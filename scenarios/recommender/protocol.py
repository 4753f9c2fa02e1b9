"""Agent4Rec's evaluation protocol, played by simulated viewers built from real users' training ratings.

Each user's ratings are split by time; viewers are fitted on the earlier part. Taste discrimination: the
viewer sees its held-out items mixed with m times as many items it never rated and says watch or not.
Rating: the viewer rates its held-out items. Decisions go through ``world.decide_many`` (rule brains by
default; model brains work the same way), in a world without a run log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from simworld.agents import Agent, Persona
from simworld.agents.brain_config import BrainFactory, BrainSettings
from simworld.memory import ListMemory
from simworld.scenarios.recommender.catalogue import Catalogue, Ratings
from simworld.scenarios.recommender.policy import ItemRatings, ViewerPolicy, WatchChoices
from simworld.scenarios.recommender.users import fit_roles, viewer_of

from simworld.decisions import DecisionRequest
from simworld.world import World


@dataclass
class Split:
    train: Ratings
    test: Ratings


def split_by_time(ratings: Ratings, holdout: float = 0.2) -> Split:
    """Each user's latest ``holdout`` share of ratings (at least one) is held out; the rest trains."""
    test_mask = np.zeros(len(ratings), dtype=bool)
    for rows in ratings.by_user():
        if len(rows) >= 2:
            k = max(1, round(len(rows) * holdout))
            test_mask[rows[-k:]] = True
    return Split(ratings.subset(~test_mask), ratings.subset(test_mask))


@dataclass
class ProtocolOutput:
    """Per ratio: (true labels, chosen) over all candidates; per user the chosen sets; the rating task."""

    labels: dict[int, tuple[np.ndarray, np.ndarray]]
    chosen: dict[int, list[np.ndarray]]
    candidates: dict[int, list[np.ndarray]]
    positives: list[np.ndarray]
    real_ratings: list[np.ndarray]
    sim_ratings: list[np.ndarray]
    item_mean: np.ndarray


def run_protocol(cat: Catalogue, ratings: Ratings, ratios: list[int], seed: int = 0, holdout: float = 0.2,
                 rank: int = 16, brains: BrainSettings | None = None) -> ProtocolOutput:
    split = split_by_time(ratings, holdout)
    roles, space = fit_roles(split.train, cat, rank, seed)
    world = World(seed)
    factory = BrainFactory(world, brains or BrainSettings())
    n_users = len(ratings.user_ids)
    kinds = factory.kinds(n_users)
    crowd = space.item_mean - space.global_mean
    crowd_list = crowd.tolist()
    agents = []
    for k, uid in enumerate(ratings.user_ids):
        persona = Persona(id=uid, name=f"Viewer {uid}", roles={"viewer": roles[k].model_dump(mode="json")})
        policy = ViewerPolicy(viewer_of(roles[k]), cat, space.item_factors, crowd, crowd_list)
        agents.append(world.add_agent(Agent(persona, factory.make(kinds[k], policy, "viewer"), memory=ListMemory(0))))
    rated = np.zeros((n_users, len(cat)), dtype=bool)
    rated[ratings.users, ratings.items] = True
    test_rows = split.test.by_user()
    positives = [split.test.items[r] for r in test_rows]
    out = ProtocolOutput({}, {}, {}, positives, [split.test.ratings[r] for r in test_rows], [], space.item_mean)

    def ask(decision: str, action: type, lists: list[np.ndarray], extra: dict[str, Any]):  # type: ignore[no-untyped-def]
        pairs = [(agents[u], DecisionRequest(decision, action, {**extra, "items": [cat.public(int(i)) for i in lists[u]],
                                                                    "_items": lists[u].tolist()}))
                 for u in range(n_users) if len(lists[u])]
        return (yield world.decide_many(pairs))

    def protocol():  # type: ignore[no-untyped-def]
        for m in ratios:
            cands, truth = [], []
            for u in range(n_users):
                pos = positives[u]
                pool = np.flatnonzero(~rated[u])
                rng = world.streams.fresh(f"fidelity:negatives:{ratings.user_ids[u]}:{m}")
                neg = rng.choice(pool, size=min(len(pool), m * len(pos)), replace=False) if len(pos) else pool[:0]
                items = np.concatenate([pos, neg])
                order = rng.permutation(len(items))
                cands.append(items[order])
                truth.append(np.concatenate([np.ones(len(pos), bool), np.zeros(len(neg), bool)])[order])
            answers = yield from ask("fidelity.watch", WatchChoices, cands, {"ratio": m})
            it = iter(answers)
            chosen = []
            for u in range(n_users):
                if len(cands[u]):
                    w = np.asarray(next(it).watch, dtype=bool)
                    chosen.append(w if len(w) == len(cands[u]) else np.resize(w, len(cands[u])) & False)
                else:
                    chosen.append(np.zeros(0, bool))
            out.labels[m] = (np.concatenate(truth), np.concatenate(chosen))
            out.chosen[m] = chosen
            out.candidates[m] = cands
        answers = yield from ask("fidelity.rate", ItemRatings, positives, {})
        it = iter(answers)
        for u in range(n_users):
            if len(positives[u]):
                r = np.clip(np.asarray(next(it).ratings, dtype=float), 1, 5)
                out.sim_ratings.append(r if len(r) == len(positives[u]) else np.resize(r, len(positives[u])))
            else:
                out.sim_ratings.append(np.zeros(0))

    world.process(protocol())
    world.run()
    world.close()
    return out
