"""User-simulation fidelity (Agent4Rec's protocol), played by viewers fitted from real users' ratings,
beside trivial baselines on the same split and the same negatives.

Each user's ratings are split by time; everything is fitted on the earlier part only. **Taste
discrimination**: the viewer sees its held-out items mixed with m times as many items it never rated and
says watch or not (accuracy, precision, recall, F1 per ratio m). **Rating**: the viewer rates its held-out
items (RMSE, MAE). **Population**: distances between the real and simulated distributions of ratings and of
Agent4Rec's traits (activity, diversity, conformity). **Baselines**: random, popularity, item-kNN and MF
scorers that pick their top |P| of the same candidates, and the global-mean and bias rating predictors.
Decisions go through ``world.decide_many`` (rule brains by default; model brains work the same way, with
the rule policy as their fallback), in a world without a run log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import simpy
from pydantic import BaseModel
from simworld.agents import Agent, Beliefs, Persona
from simworld.agents.brain_config import BrainFactory, BrainSettings
from simworld.memory import ListMemory, Memory
from simworld.scenarios.recommender.algorithms import ItemKNNRecommender, PureSVDRecommender, RecContext
from simworld.scenarios.recommender.catalogue import GENRES, Catalogue, Ratings
from simworld.scenarios.recommender.fitting import CHUNK, RatingModel, WatchModel, time_split
from simworld.scenarios.recommender.movielens import load_ratings
from simworld.scenarios.recommender.policies import RATE, WATCH, WatchChoices, answer, ratings_action, sized
from simworld.scenarios.recommender.roles import ViewerRole

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.stats import classification, distribution_distances, prediction_errors
from simworld.world import World

DEFAULT_RATIOS = (1, 2, 3, 9)
#: the baseline scorers (top |P| of each user's candidates) and rating predictors
BASELINES = ("random", "popularity", "item_knn", "mf")
RATING_BASELINES = ("global_mean", "bias")


def level_edges(levels: np.ndarray) -> np.ndarray:
    """Histogram edges with one bin per star level (0.5, 1.5, ... 5.5 for whole stars)."""
    half = (levels[1] - levels[0]) / 2
    return np.concatenate([[levels[0] - half], (levels[1:] + levels[:-1]) / 2, [levels[-1] + half]])

A = TypeVar("A", bound=BaseModel)


@dataclass
class Split:
    train: Ratings
    test: Ratings


def split_by_time(ratings: Ratings, holdout: float = 0.2) -> Split:
    """Each user's latest ``holdout`` share of ratings (at least one) is held out; the rest trains."""
    mask = time_split(ratings, holdout)
    return Split(ratings.subset(~mask), ratings.subset(mask))


class FittedViewerPolicy:
    """The rule viewer of the protocol: watches its ``count`` best-scored candidates (its activity times
    its watch rate) and rates by the rating model. Scores come from :class:`WatchModel`."""

    def __init__(self, user: int, scores: np.ndarray, watch: WatchModel, rating: RatingModel) -> None:
        self.user = user
        self.scores = scores
        self.watch = watch
        self.rating = rating

    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> BaseModel:
        items = np.asarray(observation.policy_hints["items"], dtype=np.int64)
        if observation.decision == WATCH:
            return answer(observation, self.choose(items).tolist())
        if observation.decision == RATE:
            stars = self.rate(items)
            whole = np.array_equal(self.rating.levels, np.arange(1.0, 6.0))
            return answer(observation, stars.astype(int).tolist() if whole else stars.tolist())
        raise ValueError(f"the fitted viewer cannot answer {observation.decision!r}")

    def choose(self, items: np.ndarray) -> np.ndarray:
        """Watch or not per item: the viewer's ``count`` best-scored items."""
        k = self.watch.count(self.user, len(items))
        chosen = np.zeros(len(items), dtype=bool)
        chosen[np.argsort(-self.scores[items], kind="stable")[:k]] = True
        return chosen

    def rate(self, items: np.ndarray) -> np.ndarray:
        """Stars for the items."""
        return self.rating.stars(self.rating.expected(np.full(len(items), self.user), items))


def profile_roles(train: Ratings, cat: Catalogue, rating: RatingModel) -> list[ViewerRole]:
    """Persona roles a model brain reads (what a fitted viewer is like): genre taste from the training
    ratings, Agent4Rec's traits and the rating style (vectorised)."""
    n_users = len(train.user_ids)
    g = len(GENRES)
    weight = np.clip(train.ratings - rating.mu + 1.0, 0.1, None)
    liked = np.zeros((n_users, g))
    np.add.at(liked, train.users, cat.genres[train.items] * weight[:, None])
    share = liked[:, 1:] / np.maximum(liked[:, 1:].sum(axis=1, keepdims=True), 1e-9)
    base = cat.genres[:, 1:].mean(axis=0) + 1e-3
    taste = np.round(np.concatenate([np.zeros((n_users, 1)), 0.15 * np.log((share + 1e-3) / base)], axis=1), 4)
    counts = np.bincount(train.users, minlength=n_users).astype(float)
    sums = np.bincount(train.users, train.ratings, n_users)
    sq = np.bincount(train.users, train.ratings**2, n_users)
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), rating.mu)
    spread = np.sqrt(np.maximum(sq / np.maximum(counts, 1) - mean**2, 0.0))
    seen = np.zeros((n_users, g), dtype=bool)
    np.logical_or.at(seen, train.users, cat.genres[train.items])
    diversity = seen[:, 1:].sum(axis=1) / (g - 1)
    item_mean = rating.mu + rating.item_bias
    gap = np.bincount(train.users, (train.ratings - item_mean[train.items]) ** 2, n_users) / np.maximum(counts, 1)
    med = float(np.median(counts)) or 1.0
    cols = {"activity": np.clip(0.5 * counts / med, 0.02, 10.0), "diversity": diversity,
            "conformity": 1.0 / (1.0 + gap), "rating_mean": np.clip(mean, 1.0, 5.0),
            "rating_spread": np.clip(spread, 0.0, 3.0)}
    lists = {k: np.round(v, 4).tolist() for k, v in cols.items()}
    tl = taste.tolist()
    return [ViewerRole(taste=tl[u], quality_weight=0.1, **{k: v[u] for k, v in lists.items()}) for u in range(n_users)]


def viewer_profiles(train: Ratings, cat: Catalogue, roles: list[ViewerRole], recent: int = 10
                    ) -> list[dict[str, Any]]:
    """Per user, what an LLM viewer is told about itself: favourite genres, average rating, and its
    latest training ratings (title and stars)."""
    out = []
    for u, rows in enumerate(train.by_user()):
        taste = roles[u].taste
        top = sorted(range(1, len(GENRES)), key=lambda g: -taste[g])[:3]
        last = rows[-recent:][::-1]
        out.append({"favourite_genres": [GENRES[g] for g in top], "average_rating": round(roles[u].rating_mean, 2),
                    "ratings_given": len(rows),
                    "recently_rated": [{"title": cat.titles[int(train.items[r])], "rating": float(train.ratings[r])}
                                       for r in last]})
    return out


@dataclass
class Judgements:
    """What the viewers decided. Per ratio: (true labels, chosen) over all candidates, and per user the
    candidates and the chosen mask; per user the held-out items with their real and simulated ratings;
    the baselines' choices and rating predictions on the same questions."""

    labels: dict[int, tuple[np.ndarray, np.ndarray]]
    chosen: dict[int, list[np.ndarray]]
    candidates: dict[int, list[np.ndarray]]
    positives: list[np.ndarray]
    real_ratings: list[np.ndarray]
    sim_ratings: list[np.ndarray]
    item_mean: np.ndarray
    baseline_chosen: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    baseline_ratings: dict[str, np.ndarray] = field(default_factory=dict)
    expected_ratings: np.ndarray = field(default_factory=lambda: np.zeros(0))
    levels: np.ndarray = field(default_factory=lambda: np.arange(1.0, 6.0))  # the star scale
    decisions: int = 0
    fallbacks: int = 0  # model brains' fallbacks to the rule policy (no answer, invalid, over budget)
    mismatched: int = 0  # valid answers of the wrong length, replaced by the rule policy's


def _top_p(scores: Callable[[int], np.ndarray], cands: list[np.ndarray], positives: list[np.ndarray]) -> np.ndarray:
    """Each user's top |P| candidates by ``scores(user)`` (ties: the earlier candidate), concatenated."""
    out = []
    for u, c in enumerate(cands):
        chosen = np.zeros(len(c), dtype=bool)
        if len(c):
            chosen[np.argsort(-scores(u)[c], kind="stable")[: len(positives[u])]] = True
        out.append(chosen)
    return np.concatenate(out) if out else np.zeros(0, bool)


def run_protocol(cat: Catalogue, ratings: Ratings, ratios: Sequence[int], seed: int = 0, holdout: float = 0.2,
                 rank: int = 16, brains: BrainSettings | None = None) -> Judgements:
    """Fit viewers (and baselines) on each user's earlier ratings and ask them the protocol's questions."""
    split = split_by_time(ratings, holdout)
    train = split.train
    n_users, n_items = len(ratings.user_ids), len(cat)
    watch = WatchModel.fit(train, n_items, holdout, seed)
    rating = RatingModel.fit(train, n_items, holdout, seed)
    scores = np.concatenate([watch.scores(np.arange(lo, min(n_users, lo + CHUNK)))
                             for lo in range(0, n_users, CHUNK)]) if n_users else np.zeros((0, n_items), np.float32)
    roles = profile_roles(train, cat, rating)
    world = World(seed)
    factory = BrainFactory(world, brains or BrainSettings())
    kinds = factory.kinds(n_users)
    agents = []
    policies = [FittedViewerPolicy(k, scores[k], watch, rating) for k in range(n_users)]
    for k, uid in enumerate(ratings.user_ids):
        persona = Persona(id=uid, name=f"Viewer {uid}", roles={"viewer": roles[k].model_dump(mode="json")})
        policy = policies[k]
        # each question stands alone: the viewer keeps no memory of its earlier answers
        agent = Agent(persona, factory.make(kinds[k], policy, "viewer"), memory=ListMemory(0))
        world.add_agent(agent)
        agents.append(agent)
    rated = np.zeros((n_users, n_items), dtype=bool)
    rated[ratings.users, ratings.items] = True
    test_rows = split.test.by_user()
    positives = [split.test.items[r] for r in test_rows]
    item_mean = rating.mu + rating.item_bias
    out = Judgements({}, {}, {}, positives, [split.test.ratings[r] for r in test_rows], [], item_mean)

    # what a model brain is told about itself (Agent4Rec's profile): its tastes and latest ratings
    profiles = viewer_profiles(train, cat, roles) if any(k != "rule" for k in kinds) else None

    def ask(decision: str, action: type[A], lists: list[np.ndarray], extra: dict[str, int]
            ) -> Generator[simpy.Event, list[A], list[A]]:
        """One question to every user with items to judge; the answers in user order."""
        pairs = [(agents[u], DecisionRequest(decision, sized(action, len(lists[u])),
                                             {**extra, **({"you": profiles[u]} if profiles else {}),
                                              "items": [cat.public(int(i)) for i in lists[u]]},
                                             policy_hints={"items": lists[u].tolist()}))
                 for u in range(n_users) if len(lists[u])]
        out.decisions += len(pairs)
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
                    if len(w) != len(cands[u]):  # a model's answer of the wrong length: the rule policy's
                        out.mismatched += 1
                        w = policies[u].choose(cands[u])
                    chosen.append(w)
                else:
                    chosen.append(np.zeros(0, bool))
            out.labels[m] = (np.concatenate(truth), np.concatenate(chosen))
            out.chosen[m] = chosen
            out.candidates[m] = cands
        levels = rating.levels
        rates = iter((yield from ask(RATE, ratings_action(levels.tolist()), positives, {})))
        for u in range(n_users):
            if len(positives[u]):
                r = np.clip(np.asarray(next(rates).ratings, dtype=float), levels[0], levels[-1])
                if len(r) != len(positives[u]):
                    out.mismatched += 1
                    r = policies[u].rate(positives[u])
                out.sim_ratings.append(r)
            else:
                out.sim_ratings.append(np.zeros(0))

    world.process(protocol())
    world.run()
    world.close()
    out.fallbacks = _fallbacks(agents)
    _baselines(out, cat, train, rating, seed, rank)
    return out


def _fallbacks(agents: list[Agent]) -> int:
    """Decisions that model brains answered with their rule policy (0 for rule brains)."""
    if all(not agent.brain.batched for agent in agents):
        return 0  # rule brains only: nothing to fall back from (and no model stack to import)
    from simworld.agents.model_brain import ModelBrain

    return sum(agent.brain.fallbacks for agent in agents if isinstance(agent.brain, ModelBrain))


def _baselines(out: Judgements, cat: Catalogue, train: Ratings, rating: RatingModel, seed: int, rank: int) -> None:
    """Every baseline on the protocol's own candidates and held-out items."""
    n_items = len(cat)
    ctx = RecContext(cat, train, np.random.default_rng(np.random.SeedSequence([seed, 0xBA5E])), None, rank, 50, seed)
    knn, mf = ItemKNNRecommender(ctx), PureSVDRecommender(ctx)
    popularity = np.bincount(train.items, minlength=n_items).astype(float)
    uids = train.user_ids
    scorers: dict[str, Callable[[int], np.ndarray]] = {
        "random": lambda u: ctx.rng.random(n_items), "popularity": lambda u: popularity,
        "item_knn": lambda u: knn.scores(uids[u]), "mf": lambda u: mf.scores(uids[u]),
    }
    for name in BASELINES:
        out.baseline_chosen[name] = {m: _top_p(scorers[name], out.candidates[m], out.positives)
                                     for m in out.candidates}
    users = np.concatenate([np.full(len(p), u) for u, p in enumerate(out.positives)]) if out.positives else np.zeros(0, int)
    items = np.concatenate(out.positives) if out.positives else np.zeros(0, int)
    mu, bu, bi = RatingModel.biases(train, n_items, lam=5.0)  # the standard baseline, not selected
    out.baseline_ratings["global_mean"] = np.full(len(items), mu)
    lo, hi = float(rating.levels[0]), float(rating.levels[-1])
    out.baseline_ratings["bias"] = np.clip(mu + bu[users.astype(int)] + bi[items.astype(int)], lo, hi)
    out.expected_ratings = np.clip(rating.expected(users.astype(int), items.astype(int)), lo, hi)
    out.levels = rating.levels


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


def fidelity_brains(overrides: Sequence[str]) -> BrainSettings:
    """Brain settings from ``key.path=value`` overrides (``brain=llm``, ``model.base_url=...``). Past the
    budget (``model.max_calls``, ``model.max_total_tokens``) the rule policy answers unless
    ``model.on_budget=stop`` is set."""
    from simworld.config import build_config

    settings = build_config(BrainSettings, "fidelity", overrides=overrides)
    if not any(o.strip().startswith("model.on_budget") for o in overrides):
        settings.model.on_budget = "rule"  # over budget, the rule policy answers (and the report counts it)
    return settings


def _hist(x: np.ndarray, edges: np.ndarray) -> list[int]:
    counts: list[int] = np.histogram(x, edges)[0].tolist()
    return counts


def fidelity(path: str | os.PathLike[str], ratios: str | Sequence[int] = DEFAULT_RATIOS, seed: int = 0,
             holdout: float = 0.2, rank: int = 16, max_users: int | None = None,
             brains: BrainSettings | None = None) -> dict[str, Any]:
    """Run Agent4Rec's protocol on a ratings folder (MovieLens-100k, -1M, "latest" CSV or a plain CSV)
    and return every fidelity figure, the baselines' figures on the same split and negatives, and the
    simulated viewers' differences to the best baseline.

    ``ratios``: distractors per held-out item (m); ``holdout``: each user's latest share of ratings held
    out; ``max_users``: only the first users; ``brains``: who decides (rule brains by default)."""
    ms = parse_ratios(ratios)
    if not 0.0 < holdout < 1.0:
        raise BadInput("--holdout", f"must be between 0 and 1, got {holdout}")
    cat, ratings = load_ratings(path)
    if max_users is not None:
        ratings = ratings.subset(ratings.users < max_users)
        ratings.user_ids = ratings.user_ids[:max_users]
    if not len(ratings):
        raise BadInput(str(path), "holds no ratings")
    out = run_protocol(cat, ratings, ms, seed, holdout, rank, brains)
    per_ratio = {str(m): {**classification(*out.labels[m]), "chance_precision": 1.0 / (m + 1)} for m in ms}
    real = np.concatenate(out.real_ratings) if out.real_ratings else np.zeros(0)
    sim = np.concatenate(out.sim_ratings) if out.sim_ratings else np.zeros(0)
    m0 = ms[0]
    truth_chosen = [np.isin(c, p) for c, p in zip(out.candidates[m0], out.positives)]
    real_traits = trait_samples(truth_chosen, out.candidates[m0], out.real_ratings, out.positives, cat.genres,
                                out.item_mean)
    sim_traits = trait_samples(out.chosen[m0], out.candidates[m0], out.sim_ratings, out.positives, cat.genres,
                               out.item_mean)
    edges = level_edges(out.levels)
    base_disc = {name: {str(m): classification(out.labels[m][0], chosen[m]) for m in ms}
                 for name, chosen in out.baseline_chosen.items()}
    base_rating = {name: {**prediction_errors(real, pred), "mean": float(pred.mean()) if len(pred) else float("nan"),
                          "js_distance": distribution_distances(real, pred, edges)["js_distance"]}
                   for name, pred in out.baseline_ratings.items()}
    errors = prediction_errors(real, sim)
    versus: dict[str, Any] = {}
    for m in ms:
        key = str(m)
        best_acc = max(base_disc, key=lambda n: base_disc[n][key]["accuracy"])
        best_f1 = max(base_disc, key=lambda n: base_disc[n][key]["f1"])
        versus[key] = {"best_accuracy": best_acc,
                       "accuracy_gain": per_ratio[key]["accuracy"] - base_disc[best_acc][key]["accuracy"],
                       "best_f1": best_f1, "f1_gain": per_ratio[key]["f1"] - base_disc[best_f1][key]["f1"]}
    best_rmse = min(base_rating, key=lambda n: base_rating[n]["rmse"])
    versus["rating"] = {"best_rmse": best_rmse, "rmse_gain": base_rating[best_rmse]["rmse"] - errors["rmse"]}
    return {
        "users": len(ratings.user_ids), "items": len(cat), "ratings": len(ratings), "seed": seed, "holdout": holdout,
        "brain": brains.brain if brains is not None else "rule",
        "decisions": out.decisions, "fallbacks": out.fallbacks + out.mismatched,
        "fallback_reasons": {"model": out.fallbacks, "wrong_length": out.mismatched},
        "discrimination": per_ratio,
        **errors,
        "rating_model": prediction_errors(real, out.expected_ratings),
        "rating_mean": {"real": float(real.mean()) if len(real) else float("nan"),
                        "simulated": float(sim.mean()) if len(sim) else float("nan")},
        "rating_distribution": {"levels": out.levels.tolist(), "real": _hist(real, edges),
                                "simulated": _hist(sim, edges), **distribution_distances(real, sim, edges)},
        "traits": {"ratio": m0, **{k: distribution_distances(real_traits[k], sim_traits[k])
                                   for k in ("activity", "diversity", "conformity")}},
        "baselines": {"discrimination": base_disc, "rating": base_rating},
        "versus_best_baseline": versus,
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table: the simulated viewers beside every baseline, with differences."""
    base = report["baselines"]["discrimination"]
    names = list(base)
    lines = [(f"{report['users']} users, {report['items']} items, {report['ratings']} ratings "
              f"(seed {report['seed']}, holdout {report['holdout']}, brain {report['brain']})"),
             "taste discrimination (baselines pick their top |P| of the same candidates)",
             f"{'ratio':>5} {'who':>11} {'accuracy':>9} {'precision':>9} {'recall':>7} {'f1':>6}"]
    for m, r in report["discrimination"].items():
        rows = [("simulated", r)] + [(n, base[n][m]) for n in names]
        for who, x in rows:
            lines.append(f"{'1:' + m:>5} {who:>11} {x['accuracy']:9.3f} {x['precision']:9.3f} {x['recall']:7.3f} "
                         f"{x['f1']:6.3f}")
        v = report["versus_best_baseline"][m]
        lines.append(f"{'':>5} {'difference':>11} {v['accuracy_gain']:+9.3f} (vs {v['best_accuracy']}) "
                     f"f1 {v['f1_gain']:+.3f} (vs {v['best_f1']})")
    lines.append(f"rating        {'rmse':>6} {'mae':>6} {'mean':>5} {'JS':>6}")
    d = report["rating_distribution"]
    lines.append(f"{'simulated':>11}   {report['rmse']:6.3f} {report['mae']:6.3f} {report['rating_mean']['simulated']:5.2f} "
                 f"{d['js_distance']:6.3f}")
    for n, x in report["baselines"]["rating"].items():
        lines.append(f"{n:>11}   {x['rmse']:6.3f} {x['mae']:6.3f} {x['mean']:5.2f} {x['js_distance']:6.3f}")
    v = report["versus_best_baseline"]["rating"]
    lines.append(f"{'difference':>11}   {-v['rmse_gain']:+6.3f} (RMSE vs {v['best_rmse']}); real mean "
                 f"{report['rating_mean']['real']:.2f}")
    x = report["rating_model"]
    lines.append(f"(the viewers' rating model before stars: RMSE {x['rmse']:.3f}  MAE {x['mae']:.3f})")
    lines.append(f"rating distribution: JS {d['js_distance']:.3f}  Wasserstein {d['wasserstein']:.3f}")
    for k in ("activity", "diversity", "conformity"):
        t = report["traits"][k]
        lines.append(f"{k}: JS {t['js_distance']:.3f}  Wasserstein {t['wasserstein']:.3f}")
    if report["brain"] != "rule":
        lines.append(f"decisions {report['decisions']}, fell back to the rule policy: {report['fallbacks']}")
    return "\n".join(lines)
