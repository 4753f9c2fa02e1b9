"""Recommender sessions: simulated viewers browse pages of recommendations over simulated days."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import numpy as np
from simworld.agents import Agent
from simworld.agents.brain_config import BrainFactory
from simworld.agents.persona import Persona
from simworld.memory import MemorySystem
from simworld.scenarios.recommender.algorithms import Feedback, RecContext, Recommender, make_recommender
from simworld.scenarios.recommender.catalogue import Catalogue, Ratings, generate_catalogue
from simworld.scenarios.recommender.config import RecommenderConfig
from simworld.scenarios.recommender.policy import PageChoice, ViewerPolicy
from simworld.scenarios.recommender.users import ViewerRole, fit_roles, synthetic_ratings, synthetic_roles, viewer_of

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

DAY = 86_400.0
PAGE_SECONDS = 20.0
WATCH_SECONDS = 1_800.0
_LABEL = re.compile(r"[A-Za-z0-9_]+")


class RecommenderScenario(Scenario):
    """Simulated viewers (Agent4Rec/SimUSER style) meet one recommender, or several in an A/B test."""

    name = "recommender"
    description = "Simulated viewers browse recommendation pages (Agent4Rec/SimUSER); A/B tests of recommenders"
    Config = RecommenderConfig
    config: RecommenderConfig

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> None:
        self._data: tuple[Catalogue, Ratings] | None = None
        if self.config.data is not None:
            from simworld.scenarios.recommender.movielens import load_movielens

            self._data = load_movielens(self.resolve_path(self.config.data))

    def build_population(self, world: World) -> None:
        """Catalogue, training ratings, viewer roles, and what the rule policy scores with."""
        cfg = self.config
        if self._data is not None:
            cat, ratings = self._data
            n = min(cfg.n_users or len(ratings.user_ids), len(ratings.user_ids))
            ratings = ratings.subset(ratings.users < n)
            ratings.user_ids = ratings.user_ids[:n]
            roles, space = fit_roles(ratings, cat, cfg.rank, world.seed)
            self.item_factors: np.ndarray | None = space.item_factors
            self.crowd = space.item_mean - space.global_mean
        else:
            cat = generate_catalogue(cfg.n_items, world.rng("scenario:recommender:catalogue"))
            roles = synthetic_roles(cfg.n_users or 100, cat, world.rng("scenario:recommender:viewers"))
            ratings = synthetic_ratings(cat, roles, world.rng("scenario:recommender:history"), cfg.history)
            self.item_factors = None
            self.crowd = cat.quality * 0.5
        self.catalogue, self.train, self.roles = cat, ratings, roles
        self.user_ids = ratings.user_ids
        self.viewers = [viewer_of(r) for r in roles]
        self._uindex = {u: k for k, u in enumerate(self.user_ids)}

    def true_interest(self, user_id: str) -> np.ndarray:
        v = self.viewers[self._uindex[user_id]]
        return v.interest(self.catalogue, np.arange(len(self.catalogue)), self.item_factors)

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        if not hasattr(self, "_data"):
            self.check()
        cfg = self.config
        self.build_population(world)
        world.log("recsys.catalogue", self.catalogue.table())
        self.arms = cfg.arms
        self.labels = [a if _LABEL.fullmatch(a) else f"arm{k + 1}" for k, a in enumerate(self.arms)]
        self.recommenders: dict[str, Recommender] = {}
        for arm, label in zip(self.arms, self.labels):
            ctx = RecContext(self.catalogue, self.train, world.rng(f"scenario:recommender:rec:{label}"),
                             self.true_interest, cfg.rank, cfg.neighbours, world.seed, dict(self._uindex))
            try:
                self.recommenders[label] = make_recommender(arm, ctx)
            except ValueError as err:
                raise BadInput("recommender", str(err)) from None
        brains = BrainFactory(world, cfg)
        kinds = brains.kinds(len(self.user_ids))
        memory = MemorySystem(cfg.memory).bind(world)
        self.agents: list[tuple[str, str, Agent, ViewerRole]] = []  # (arm label, user id, agent, role)
        several = len(self.arms) > 1
        dumps = [r.model_dump(mode="json") for r in self.roles]
        crowd_list = self.crowd.tolist()
        for label in self.labels:
            for k, uid in enumerate(self.user_ids):
                role = self.roles[k]
                aid = f"{uid}.{label}" if several else uid
                persona = Persona(id=aid, name=f"Viewer {uid}", roles={"viewer": dumps[k]})
                policy = ViewerPolicy(self.viewers[k], self.catalogue, self.item_factors, self.crowd, crowd_list)
                agent = Agent(persona, brains.make(kinds[k], policy, "viewer"), memory=memory.stream(persona))
                world.add_agent(agent)
                if several:
                    agent.rng = world.streams.fresh(f"agent:{uid}")  # the same draws in every arm
                self.agents.append((label, uid, agent, role))
        self.arrivals = self.draw_arrivals(world)
        self.watched: dict[str, set[str]] = {}
        self.sessions_done = 0

    def draw_arrivals(self, world: World) -> list[list[float]]:
        """Session start times per viewer, the same in every arm: a Poisson process over ``days`` at the
        viewer's activity rate (or ``sessions_per_user`` uniform times)."""
        cfg = self.config
        rng = world.rng("scenario:recommender:arrivals")
        n = len(self.user_ids)
        if cfg.sessions_per_user is not None:
            counts = np.full(n, cfg.sessions_per_user)
        else:
            counts = rng.poisson(np.asarray([r.activity for r in self.roles]) * cfg.days)
        owner = np.repeat(np.arange(n), counts)
        times = np.round(rng.uniform(0.0, cfg.days * DAY, len(owner)), 3)
        order = np.lexsort((times, owner))
        bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
        flat = times[order].tolist()
        return [flat[bounds[k]: bounds[k + 1]] for k in range(n)]

    def processes(self, world: World) -> list[Generator[Any, Any, Any]]:
        index = self._uindex
        return [self.viewer(world, label, uid, agent, self.arrivals[index[uid]]) for label, uid, agent, _ in self.agents]

    # -- the viewer's days ------------------------------------------------------------------------
    def viewer(self, world: World, label: str, uid: str, agent: Agent, arrivals: list[float]) -> Generator[Any, Any, None]:
        """Sessions at the drawn times; a Poisson arrival during a session is dropped (the viewer is busy)."""
        fixed = self.config.sessions_per_user is not None
        n = 0
        for t in arrivals:
            if t > world.now:
                yield world.timeout(t - world.now)
            elif not fixed:
                continue
            n += 1
            yield from self.session(world, label, uid, agent, n)

    def session(self, world: World, label: str, uid: str, agent: Agent, n: int) -> Generator[Any, Any, None]:
        cfg, cat = self.config, self.catalogue
        rec = self.recommenders[label]
        aid = agent.id
        sid = f"{aid}#{n}"
        me = (aid,)
        start = world.emit("recsys.session_started", {"session": sid, "arm": label, "user": uid, "n": n},
                           agent=aid)
        seen = self.watched.setdefault(aid, set())
        exclude = set(seen)
        watched_n, pages, reason = 0, 0, "max_pages"
        bias = cfg.position_bias
        for page in range(1, cfg.max_pages + 1):
            items = rec.recommend(uid, cfg.page_size, exclude)
            if not items:
                reason = "exhausted"
                break
            pages = page
            draws = agent.rng.random(len(items))
            noticed = [p for p in range(len(items)) if draws[p] < bias**p][: cfg.attention]
            shown = world.emit("recsys.page_shown", {"session": sid, "arm": label, "page": page, "items": items,
                                                     "noticed": noticed}, witnesses=me, causes=(start,))
            idx = [cat.index[items[p]] for p in noticed]
            ctx = {"session": sid, "page": page, "watched_in_session": watched_n,
                   "items": [cat.public(i) for i in idx], "_items": idx}
            action: PageChoice = yield agent.decide(DecisionRequest("recsys.page", PageChoice, ctx, [shown]))
            picked = {item: (action.ratings[j] if j < len(action.ratings) else None)
                      for j, item in enumerate(action.watch)}
            allowed = {items[p] for p in noticed}
            watched_page = []
            for pos, item in enumerate(items):
                if item not in picked or item not in allowed:
                    continue
                watched_page.append(item)
                w = world.emit("recsys.watched", {"session": sid, "arm": label, "item": item, "title": cat.titles[cat.index[item]],
                                                  "page": page, "position": pos}, witnesses=me, agent=aid, causes=(shown,))
                rec.update(Feedback(uid, item, "watched", None, world.now))
                r = picked[item]
                if r is not None and 1 <= r <= 5:
                    world.emit("recsys.rated", {"session": sid, "arm": label, "item": item, "rating": int(r)},
                               witnesses=me, agent=aid, causes=(w,))
                    rec.update(Feedback(uid, item, "rated", float(r), world.now))
                seen.add(item)
            skipped = [it for it in items if it not in watched_page]
            if skipped:
                unnoticed = [items[p] for p in range(len(items)) if p not in noticed]
                world.emit("recsys.skipped", {"session": sid, "arm": label, "page": page, "items": skipped,
                                              "unnoticed": unnoticed}, agent=aid, causes=(shown,))
                for it in skipped:
                    rec.update(Feedback(uid, it, "skipped", None, world.now))
            watched_n += len(watched_page)
            exclude.update(items)
            yield world.timeout(PAGE_SECONDS + WATCH_SECONDS * len(watched_page))
            if action.leave:
                reason = action.reason if action.reason != "none" else "left"
                break
        world.emit("recsys.session_ended", {"session": sid, "arm": label, "reason": reason, "pages": pages,
                                            "watched": watched_n}, agent=aid, causes=(start,))
        self.sessions_done += 1

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.recommender.metrics import recommender_metrics

        return recommender_metrics(log, self.config.alpha)
