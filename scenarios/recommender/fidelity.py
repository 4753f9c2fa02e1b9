"""User-simulation fidelity (Agent4Rec's protocol), played by viewers fitted from real users' ratings.

Each user's ratings are split by time; viewers are fitted on the earlier part. **Taste discrimination**:
the viewer sees its held-out items mixed with m times as many items it never rated and says watch or not
(accuracy, precision, recall, F1 per ratio m). **Rating**: the viewer rates its held-out items (RMSE, MAE).
**Population**: distances between the real and simulated distributions of ratings and of Agent4Rec's
traits (activity, diversity, conformity). Decisions go through ``world.decide_many`` (rule brains by
default; model brains work the same way), in a world without a run log.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import simpy
from pydantic import BaseModel
from simworld.agents import Agent, Persona
from simworld.agents.brain_config import BrainFactory, BrainSettings
from simworld.memory import ListMemory
from simworld.scenarios.recommender.catalogue import Catalogue, Ratings
from simworld.scenarios.recommender.movielens import load_movielens
from simworld.scenarios.recommender.policies import RATE, WATCH, ItemRatings, ViewerPolicy, WatchChoices
from simworld.scenarios.recommender.roles import viewer_of
from simworld.scenarios.recommender.viewers import fit_roles

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.stats import classification, distribution_distances, prediction_errors
from simworld.world import World

DEFAULT_RATIOS = (1, 2, 3, 9)

A = TypeVar("A", bound=BaseModel)


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
class Judgements:
    """What the viewers decided. Per ratio: (true labels, chosen) over all candidates, and per user the
    candidates and the chosen mask; per user the held-out items with their real and simulated ratings."""

    labels: dict[int, tuple[np.ndarray, np.ndarray]]
    chosen: dict[int, list[np.ndarray]]
    candidates: dict[int, list[np.ndarray]]
    positives: list[np.ndarray]
    real_ratings: list[np.ndarray]
    sim_ratings: list[np.ndarray]
    item_mean: np.ndarray


def run_protocol(cat: Catalogue, ratings: Ratings, ratios: Sequence[int], seed: int = 0, holdout: float = 0.2,
                 rank: int = 16, brains: BrainSettings | None = None) -> Judgements:
    """Fit viewers on each user's earlier ratings and ask them the protocol's questions."""
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
        # each question stands alone: the viewer keeps no memory of its earlier answers
        agent = Agent(persona, factory.make(kinds[k], policy, "viewer"), memory=ListMemory(0))
        world.add_agent(agent)
        agents.append(agent)
    rated = np.zeros((n_users, len(cat)), dtype=bool)
    rated[ratings.users, ratings.items] = True
    test_rows = split.test.by_user()
    positives = [split.test.items[r] for r in test_rows]
    out = Judgements({}, {}, {}, positives, [split.test.ratings[r] for r in test_rows], [], space.item_mean)

    def ask(decision: str, action: type[A], lists: list[np.ndarray], extra: dict[str, int]
            ) -> Generator[simpy.Event, list[A], list[A]]:
        """One question to every user with items to judge; the answers in user order."""
        pairs = [(agents[u], DecisionRequest(decision, action,
                                             {**extra, "items": [cat.public(int(i)) for i in lists[u]]},
                                             policy_hints={"items": lists[u].tolist()}))
                 for u in range(n_users) if len(lists[u])]
        return (yield world.decide_many(pairs))

    def protocol() -> Generator[simpy.Event, Any, None]:
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
            watches = iter((yield from ask(WATCH, WatchChoices, cands, {"ratio": m})))
            chosen = []
            for u in range(n_users):
                if len(cands[u]):
                    w = np.asarray(next(watches).watch, dtype=bool)
                    chosen.append(w if len(w) == len(cands[u]) else np.resize(w, len(cands[u])) & False)
                else:
                    chosen.append(np.zeros(0, bool))
            out.labels[m] = (np.concatenate(truth), np.concatenate(chosen))
            out.chosen[m] = chosen
            out.candidates[m] = cands
        rates = iter((yield from ask(RATE, ItemRatings, positives, {})))
        for u in range(n_users):
            if len(positives[u]):
                r = np.clip(np.asarray(next(rates).ratings, dtype=float), 1, 5)
                out.sim_ratings.append(r if len(r) == len(positives[u]) else np.resize(r, len(positives[u])))
            else:
                out.sim_ratings.append(np.zeros(0))

    world.process(protocol())
    world.run()
    world.close()
    return out


def trait_samples(chosen: list[np.ndarray], candidates: list[np.ndarray], ratings: list[np.ndarray],
                  rated_items: list[np.ndarray], genres: np.ndarray, item_mean: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user Agent4Rec traits on the protocol: activity (items watched among the candidates; for the
    real user, its held-out items), diversity (share of genres among the watched) and conformity (mean
    squared gap of ratings to the item's average)."""
    act, div, conf = [], [], []
    n_genres = genres.shape[1] - 1
    for w, c, r, items in zip(chosen, candidates, ratings, rated_items):
        if not len(c):
            continue
        act.append(float(w.sum()))
        watched = c[w]
        div.append(float(genres[watched][:, 1:].any(axis=0).sum()) / n_genres if len(watched) else 0.0)
        conf.append(float(np.mean((r - item_mean[items]) ** 2)) if len(r) else 0.0)
    return {"activity": np.asarray(act), "diversity": np.asarray(div), "conformity": np.asarray(conf)}


def parse_ratios(text: str | Sequence[int]) -> list[int]:
    """``"1,2,3,9"`` -> [1, 2, 3, 9]; each a positive integer."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for p in parts:
        try:
            m = int(str(p).strip())
        except ValueError:
            raise BadInput("--ratios", f"expected positive integers separated by commas, got {text!r}") from None
        if m < 1:
            raise BadInput("--ratios", f"each ratio must be at least 1, got {m}")
        out.append(m)
    if not out:
        raise BadInput("--ratios", "name at least one ratio")
    return out


def fidelity(path: str | os.PathLike[str], ratios: str | Sequence[int] = DEFAULT_RATIOS, seed: int = 0,
             holdout: float = 0.2, rank: int = 16, max_users: int | None = None,
             brains: BrainSettings | None = None) -> dict[str, Any]:
    """Run Agent4Rec's protocol on a MovieLens-100k/-1M folder and return every fidelity figure.

    ``ratios``: distractors per held-out item (m); ``holdout``: each user's latest share of ratings held
    out; ``max_users``: only the first users; ``brains``: who decides (rule brains by default)."""
    ms = parse_ratios(ratios)
    if not 0.0 < holdout < 1.0:
        raise BadInput("--holdout", f"must be between 0 and 1, got {holdout}")
    cat, ratings = load_movielens(path)
    if max_users is not None:
        ratings = ratings.subset(ratings.users < max_users)
        ratings.user_ids = ratings.user_ids[:max_users]
    if not len(ratings):
        raise BadInput(str(path), "holds no ratings")
    out = run_protocol(cat, ratings, ms, seed, holdout, rank, brains)
    per_ratio = {str(m): {**classification(*out.labels[m]), "chance_precision": 1.0 / (m + 1)} for m in ms}
    real = np.concatenate(out.real_ratings) if out.real_ratings else np.zeros(0)
    sim = np.concatenate(out.sim_ratings) if out.sim_ratings else np.zeros(0)
    levels = np.arange(0.5, 6.0, 1.0)
    m0 = ms[0]
    truth_chosen = [np.isin(c, p) for c, p in zip(out.candidates[m0], out.positives)]
    real_traits = trait_samples(truth_chosen, out.candidates[m0], out.real_ratings, out.positives, cat.genres,
                                out.item_mean)
    sim_traits = trait_samples(out.chosen[m0], out.candidates[m0], out.sim_ratings, out.positives, cat.genres,
                               out.item_mean)

    def hist(x: np.ndarray) -> list[int]:
        counts: list[int] = np.histogram(x, levels)[0].tolist()
        return counts

    return {
        "users": len(ratings.user_ids), "items": len(cat), "ratings": len(ratings), "seed": seed, "holdout": holdout,
        "brain": brains.brain if brains is not None else "rule",
        "discrimination": per_ratio,
        **prediction_errors(real, sim),
        "rating_distribution": {"real": hist(real), "simulated": hist(sim),
                                **distribution_distances(real, sim, levels)},
        "traits": {"ratio": m0, **{k: distribution_distances(real_traits[k], sim_traits[k])
                                   for k in ("activity", "diversity", "conformity")}},
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    lines = [f"{report['users']} users, {report['items']} items, {report['ratings']} ratings (seed {report['seed']})",
             f"{'ratio':>5} {'accuracy':>9} {'precision':>9} {'recall':>7} {'f1':>6}"]
    for m, r in report["discrimination"].items():
        lines.append(f"{'1:' + m:>5} {r['accuracy']:9.3f} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f}")
    lines.append(f"rating RMSE {report['rmse']:.3f}  MAE {report['mae']:.3f}")
    d = report["rating_distribution"]
    lines.append(f"rating distribution: JS {d['js_distance']:.3f}  Wasserstein {d['wasserstein']:.3f}")
    for k in ("activity", "diversity", "conformity"):
        t = report["traits"][k]
        lines.append(f"{k}: JS {t['js_distance']:.3f}  Wasserstein {t['wasserstein']:.3f}")
    return "\n".join(lines)
