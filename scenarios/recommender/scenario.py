"""Recommender sessions: simulated viewers browse pages of recommendations over simulated days."""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from heapq import heappush
from operator import itemgetter
from typing import Any

import numpy as np
import simpy
from simpy.events import URGENT
from simworld.agents import Agent, Cast, Persona
from simworld.scenarios.recommender.algorithms import (
    BUILTIN,
    Feedback,
    RecContext,
    Recommender,
    UserFactory,
    import_factory,
    make_recommender,
)
from simworld.scenarios.recommender.catalogue import Catalogue, Ratings, generate_catalogue
from simworld.scenarios.recommender.config import RecommenderConfig
from simworld.scenarios.recommender.events import (
    EVENTS,
    CatalogueTable,
    PageShown,
    Rated,
    SessionEnded,
    SessionStarted,
    Skipped,
    Watched,
)
from simworld.scenarios.recommender.fitting import RatingModel
from simworld.scenarios.recommender.movielens import load_ratings
from simworld.scenarios.recommender.policies import PAGE, PageChoice, ViewerPolicy
from simworld.scenarios.recommender.viewers import Population, fit_roles, synthetic_ratings, synthetic_roles

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

DAY = 86_400.0
PAGE_SECONDS = 20.0
WATCH_SECONDS = 1_800.0
DEFAULT_USERS = 100  # synthetic viewers when n_users is not set
RATING_HOLDOUT = 0.2  # the inner split that sets the rating model's drift and star cut points
_LABEL = re.compile(r"[A-Za-z0-9_]+")
# the kinds as plain strings: a pydantic model's class attribute costs ~60 ns a lookup on the session path
STARTED, SHOWN, WATCHED, RATED, SKIPPED, ENDED = (m.kind for m in (SessionStarted, PageShown, Watched, Rated,
                                                                   Skipped, SessionEnded))


class _Due(simpy.Event):
    """An event at time ``at`` that fires before the ordinary events of its instant (simpy's URGENT
    priority, as a process's start does). Queued at ``at`` itself: ``now + (at - now)`` is not always
    ``at`` in floating point, and the log's times must be those drawn."""

    def __init__(self, env: simpy.Environment, at: float) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        # Environment.schedule with an absolute time (simpy takes only a delay)
        heappush(env._queue, (at, URGENT, next(env._eid), self))


@dataclass
class Inputs:
    """What ``check`` loads: the MovieLens catalogue and ratings (None: a synthetic catalogue) and the
    factory of each ``module:factory`` arm (imported, not yet called)."""

    data: tuple[Catalogue, Ratings] | None
    factories: dict[str, UserFactory] = field(default_factory=dict)


class RecommenderScenario(Scenario):
    """Simulated viewers (Agent4Rec/SimUSER style) meet one recommender, or several in an A/B test."""

    name = "recommender"
    description = "Simulated viewers browse recommendation pages (Agent4Rec/SimUSER); A/B tests of recommenders"
    Config = RecommenderConfig
    events = EVENTS
    config: RecommenderConfig
    inputs: Inputs

    #: set by ``setup``: the population, one label and recommender per arm, and (arm label, user id,
    #: agent) per viewer agent
    population: Population
    labels: list[str]
    recommenders: dict[str, Recommender]
    viewer_agents: list[tuple[str, str, Agent]]
    arrivals: list[list[float]]
    watched: dict[str, set[str]]
    notice_chance: list[float]

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> Inputs:
        """Load the MovieLens folder (if any) and find every ``module:factory`` recommender."""
        cfg = self.config
        data = load_ratings(self.resolve_path(cfg.data)) if cfg.data is not None else None
        factories: dict[str, UserFactory] = {}
        for arm in cfg.arms:
            if arm not in BUILTIN:
                try:
                    factories[arm] = import_factory(arm)
                except ValueError as err:
                    raise BadInput("recommender", str(err)) from None
        return Inputs(data, factories)

    def build_population(self, world: World) -> Population:
        """Catalogue, training ratings, viewer roles, and what the rule policy scores with."""
        cfg = self.config
        if self.inputs.data is not None:
            cat, ratings = self.inputs.data
            n = min(cfg.n_users or len(ratings.user_ids), len(ratings.user_ids))
            ratings = ratings.subset(ratings.users < n)
            ratings.user_ids = ratings.user_ids[:n]
            roles, space = fit_roles(ratings, cat, cfg.rank, world.seed)
            # the scenario's viewers give whole stars (1-5) whatever the data's scale
            raters = RatingModel.fit(ratings, len(cat), RATING_HOLDOUT, world.seed, levels=np.arange(1.0, 6.0)).raters()
            return Population(cat, ratings, roles, space.item_factors, space.item_mean - space.global_mean, raters)
        cat = generate_catalogue(cfg.n_items, world.rng("scenario:recommender:catalogue"))
        roles = synthetic_roles(cfg.n_users or DEFAULT_USERS, cat, world.rng("scenario:recommender:viewers"))
        ratings = synthetic_ratings(cat, roles, world.rng("scenario:recommender:history"), cfg.history)
        return Population(cat, ratings, roles, None, cat.quality * 0.5)

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        """The population, one recommender per arm (built from the training ratings), the viewers'
        agents and their session times."""
        cfg = self.config
        pop = self.population = self.build_population(world)
        world.log(CatalogueTable.kind, pop.catalogue.table())
        self.labels = [a if _LABEL.fullmatch(a) else f"arm{k + 1}" for k, a in enumerate(cfg.arms)]
        self.recommenders = {}
        for arm, label in zip(cfg.arms, self.labels):
            ctx = RecContext(pop.catalogue, pop.train, world.rng(f"scenario:recommender:rec:{label}"),
                             pop.true_interest, cfg.rank, cfg.neighbours, world.seed, dict(pop.index))
            try:
                self.recommenders[label] = make_recommender(arm, ctx, self.inputs.factories.get(arm))
            except ValueError as err:
                raise BadInput("recommender", str(err)) from None
        self.notice_chance = [cfg.position_bias**p for p in range(cfg.page_size)]
        self.viewer_agents = self.cast_viewers(world)
        self.arrivals = self.draw_arrivals(world)
        self.watched = {}

    def cast_viewers(self, world: World) -> list[tuple[str, str, Agent]]:
        """One agent per viewer and arm. In an A/B test the agent of a viewer in each arm is
        ``<user>.<arm>`` and draws from the viewer's own stream (``agent:<user>``), so every arm sees the
        same random draws."""
        pop = self.population
        cast = Cast(world, self.config)
        kinds = cast.kinds(len(pop.user_ids))
        several = len(self.labels) > 1
        dumps = [r.model_dump(mode="json") for r in pop.roles]
        crowd_list = pop.crowd.tolist()
        out = []
        for label in self.labels:
            for k, uid in enumerate(pop.user_ids):
                aid = f"{uid}.{label}" if several else uid
                persona = Persona(id=aid, name=f"Viewer {uid}", roles={"viewer": dumps[k]})
                rater = pop.raters[k] if pop.raters is not None else None
                policy = ViewerPolicy(pop.viewers[k], pop.catalogue, pop.item_factors, pop.crowd, crowd_list, rater)
                agent = cast.add(persona, policy, "viewer", kinds[k])
                if several:
                    agent.rng = world.streams.fresh(f"agent:{uid}")
                out.append((label, uid, agent))
        return out

    def longest_session(self) -> float:
        """Simulated seconds of the longest possible session (every page, every item watched)."""
        cfg = self.config
        return cfg.max_pages * (PAGE_SECONDS + WATCH_SECONDS * cfg.page_size)

    def draw_arrivals(self, world: World) -> list[list[float]]:
        """Session start times per viewer, the same in every arm: a Poisson process over ``days`` at the
        viewer's activity rate, thinned so that an arrival within the longest possible session after the
        last kept one is dropped (so no session ever overlaps the next, whatever a recommender shows);
        or ``sessions_per_user`` uniform times (sessions then run back to back if they would overlap)."""
        cfg = self.config
        rng = world.rng("scenario:recommender:arrivals")
        roles = self.population.roles
        n = len(roles)
        if cfg.sessions_per_user is not None:
            counts = np.full(n, cfg.sessions_per_user)
        else:
            counts = rng.poisson(np.asarray([r.activity for r in roles]) * cfg.days)
        owner = np.repeat(np.arange(n), counts)
        times = np.round(rng.uniform(0.0, cfg.days * DAY, len(owner)), 3)
        order = np.lexsort((times, owner))
        bounds: list[int] = np.concatenate([[0], np.cumsum(counts)]).tolist()
        flat: list[float] = times[order].tolist()
        lists = [flat[bounds[k]: bounds[k + 1]] for k in range(n)]
        if cfg.sessions_per_user is None:
            gap = self.longest_session()
            for k, ts in enumerate(lists):
                if len(ts) > 1:
                    kept = [ts[0]]
                    for t in ts[1:]:
                        if t >= kept[-1] + gap:
                            kept.append(t)
                    lists[k] = kept
        return lists

    def processes(self, world: World) -> list[Generator[simpy.Event, Any, None]]:
        """One driver that starts each viewer's process at its first arrival, and (rarely) the viewers
        whose first arrival is at time 0. A viewer without sessions gets no process."""
        index = self.population.index
        now: list[Generator[simpy.Event, Any, None]] = []
        later: list[tuple[float, str, str, Agent, list[float]]] = []
        for label, uid, agent in self.viewer_agents:
            arrivals = self.arrivals[index[uid]]
            if not arrivals:
                continue
            if arrivals[0] > 0.0:
                later.append((arrivals[0], label, uid, agent, arrivals))
            else:
                now.append(self.viewer(world, label, uid, agent, arrivals))
        later.sort(key=itemgetter(0))  # stable: viewers due at the same instant keep the agents' order
        return [self.driver(world, later), *now]

    def driver(self, world: World, due: list[tuple[float, str, str, Agent, list[float]]]
               ) -> Generator[simpy.Event, Any, None]:
        """Starts each viewer's process when its first session is due, instead of parking one process per
        viewer from the start (100k parked processes cost memory and a deep event queue). The log is the
        same: a start fires before every ordinary event of its instant, in the agents' order, as the
        viewers' own timeouts (all scheduled at time 0) did."""
        env = world.env
        for t, label, uid, agent, arrivals in due:
            if t > env.now:
                yield _Due(env, t)
            world.process(self.viewer(world, label, uid, agent, arrivals, started=True))

    # -- the viewer's days ------------------------------------------------------------------------
    def viewer(self, world: World, label: str, uid: str, agent: Agent, arrivals: list[float],
               started: bool = False) -> Generator[simpy.Event, Any, None]:
        """Sessions at the drawn times; a Poisson arrival during a session is dropped (the viewer is busy).
        ``started``: the driver starts the process at its first arrival, which is then due although it
        is not later than now."""
        fixed = self.config.sessions_per_user is not None
        n = 0
        for t in arrivals:
            if t > world.now:
                yield world.timeout(t - world.now)
            elif not (fixed or started and n == 0):
                continue
            n += 1
            yield from self.session(world, label, uid, agent, n)

    def session(self, world: World, label: str, uid: str, agent: Agent, n: int) -> Generator[simpy.Event, Any, None]:
        cfg, cat = self.config, self.population.catalogue
        rec = self.recommenders[label]
        aid = agent.id
        sid = f"{aid}#{n}"
        me = (aid,)
        start = world.emit(STARTED, {"session": sid, "arm": label, "user": uid, "n": n}, agent=aid)
        seen = self.watched.setdefault(aid, set())
        exclude = set(seen)
        watched_n, pages, reason = 0, 0, "max_pages"
        notice = self.notice_chance
        size = cfg.page_size
        stride = 3 * size + 1  # per page: noticing, then the policy's watch draws, rating noise and exit draw
        # common random numbers: one fixed block of uniforms per session from the viewer's own stream, so
        # the draws of every page (and of every later session) are the same whatever a recommender shows
        block: list[float] = agent.rng.random(cfg.max_pages * stride).tolist()
        for page in range(1, cfg.max_pages + 1):
            items = rec.recommend(uid, size, exclude)
            if not items:
                reason = "exhausted"
                break
            pages = page
            o = (page - 1) * stride
            noticed = [p for p in range(len(items)) if block[o + p] < notice[p]][: cfg.attention]
            draws = block[o + size: o + stride]
            shown = world.emit(SHOWN, {"session": sid, "arm": label, "page": page, "items": items,
                                                "noticed": noticed}, witnesses=me, causes=(start,))
            idx = [cat.index[items[p]] for p in noticed]
            ctx = {"session": sid, "page": page, "watched_in_session": watched_n, "items": [cat.public(i) for i in idx]}
            action: PageChoice = yield agent.decide(DecisionRequest(PAGE, PageChoice, ctx, [shown],
                                                                    {"items": idx, "draws": draws}))
            picked = {item: (action.ratings[j] if j < len(action.ratings) else None)
                      for j, item in enumerate(action.watch)}
            allowed = {items[p] for p in noticed}
            watched_page = []
            for pos, item in enumerate(items):
                if item not in picked or item not in allowed:
                    continue
                watched_page.append(item)
                w = world.emit(WATCHED, {"session": sid, "arm": label, "item": item,
                                              "title": cat.titles[cat.index[item]], "page": page, "position": pos},
                               witnesses=me, agent=aid, causes=(shown,))
                rec.update(Feedback(uid, item, "watched", None, world.now))
                r = picked[item]
                if r is not None and 1 <= r <= 5:
                    world.emit(RATED, {"session": sid, "arm": label, "item": item, "rating": int(r)},
                               witnesses=me, agent=aid, causes=(w,))
                    rec.update(Feedback(uid, item, "rated", float(r), world.now))
                seen.add(item)
            skipped = [it for it in items if it not in watched_page]
            if skipped:
                unnoticed = [items[p] for p in range(len(items)) if p not in noticed]
                world.emit(SKIPPED, {"session": sid, "arm": label, "page": page, "items": skipped,
                                          "unnoticed": unnoticed}, agent=aid, causes=(shown,))
                for it in skipped:
                    rec.update(Feedback(uid, it, "skipped", None, world.now))
            watched_n += len(watched_page)
            exclude.update(items)
            yield world.timeout(PAGE_SECONDS + WATCH_SECONDS * len(watched_page))
            if action.leave:
                reason = action.reason if action.reason != "none" else "left"
                break
        world.emit(ENDED, {"session": sid, "arm": label, "reason": reason, "pages": pages,
                                       "watched": watched_n}, agent=aid, causes=(start,))

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.recommender.metrics import recommender_metrics

        return recommender_metrics(log, self.config.alpha)
