"""The auction scenario: sequential house lots sold by an auctioneer process to persona bidders."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import Any

import numpy as np
from simworld.agents import Agent, generate_population, load_personas
from simworld.agents.brain_config import BrainFactory, assign_shares
from simworld.agents.persona import Persona
from simworld.memory import MemoryRole, MemorySystem
from simworld.scenarios.auction.bidders import BidderRole, persona_value, sample_bidder_role
from simworld.scenarios.auction.config import AuctionConfig
from simworld.scenarios.auction.items import House, generate_houses, iid_lots, load_houses
from simworld.scenarios.auction.strategies import (
    DUTCH,
    ENGLISH,
    SEALED,
    DutchAction,
    EnglishAction,
    SealedBid,
    policies,
)

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

_EPS = 1e-9
_UNIFORM_PRIOR = {"kind": "uniform01"}


class AuctionScenario(Scenario):
    """House auctions with persona bidders (after HARBOR): English, first-/second-price sealed, Dutch."""

    name = "auction"
    description = "House auctions (English, first/second-price sealed, Dutch) with persona bidders, after HARBOR"
    Config = AuctionConfig
    panel = "auction"
    config: AuctionConfig

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> None:
        cfg = self.config
        self._file_personas: list[Persona] | None = None
        self._file_houses: list[House] | None = None
        if cfg.personas is not None:
            path = self.resolve_path(cfg.personas)
            self._file_personas = load_personas(path, roles={"bidder": BidderRole, "memory": MemoryRole})
            if cfg.n_bidders is not None and cfg.n_bidders > len(self._file_personas):
                raise BadInput(
                    str(path), f"holds {len(self._file_personas)} personas but n_bidders is {cfg.n_bidders}"
                )
        if cfg.items is not None:
            path = self.resolve_path(cfg.items)
            self._file_houses = load_houses(path)
            if cfg.n_items is not None and cfg.n_items > len(self._file_houses):
                raise BadInput(str(path), f"holds {len(self._file_houses)} items but n_items is {cfg.n_items}")

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        if not hasattr(self, "_file_personas"):
            self.check()
        cfg = self.config
        if self._file_personas is not None:
            personas = self._file_personas[: cfg.n_bidders or len(self._file_personas)]
        else:
            personas = generate_population(
                cfg.population, cfg.n_bidders or 5, world.rng("scenario:auction:population"), "bidder",
                sample_bidder_role,
            )
        if self._file_houses is not None:
            houses = self._file_houses[: cfg.n_items or len(self._file_houses)]
        elif cfg.values == "iid_uniform":
            houses = iid_lots(cfg.n_items or 3)
        else:
            houses = generate_houses(cfg.n_items or 3, world.rng("scenario:auction:items"))
        self.houses = houses
        strategies = assign_shares(cfg.strategy, len(personas), world.rng("scenario:auction:assign"))
        brains = BrainFactory(world, cfg)
        kinds = brains.kinds(len(personas))
        memory = MemorySystem(cfg.memory).bind(world)
        self.bidders: list[Agent] = []
        self.roles: dict[str, BidderRole] = {}
        for persona, default_strategy, kind in zip(personas, strategies, kinds):
            role = persona.role("bidder", BidderRole)
            persona = persona.model_copy(update={"roles": {**persona.roles, "bidder": role.model_dump(mode="json")}})
            name = role.strategy or default_strategy
            agent = Agent(persona, brains.make(role.brain or kind, policies.create(name), name), memory=memory.stream(persona))
            world.add_agent(agent)
            self.bidders.append(agent)
            self.roles[agent.id] = role
        self.room = [a.id for a in self.bidders]
        iid = cfg.values == "iid_uniform"
        self.budget_left = {a.id: (math.inf if iid else self.roles[a.id].budget) for a in self.bidders}
        self.rng_values = world.rng("scenario:auction:values")
        self.rng_ties = world.rng("scenario:auction:ties")
        self._values: dict[str, dict[str, float]] = {}
        self.lots_done = 0
        self.lots_total = len(houses)

    def processes(self, world: World) -> list[Generator[Any, Any, Any]]:
        return [self.auctioneer(world)]

    def progress(self, world: World) -> tuple[float, float]:
        return (self.lots_done, self.lots_total)

    # -- helpers --------------------------------------------------------------------------------
    def values_for(self, house: House) -> dict[str, float]:
        """Each bidder's private value of a house (drawn once per house, kept across relistings)."""
        vals = self._values.get(house.id)
        if vals is None:
            if self.config.values == "iid_uniform":
                draws = self.rng_values.random(len(self.bidders))
                vals = {a.id: float(v) for a, v in zip(self.bidders, draws)}
            else:
                noise = self.rng_values.normal(0.0, 0.05, len(self.bidders))
                vals = {a.id: round(persona_value(house, self.roles[a.id], e), 2) for a, e in zip(self.bidders, noise)}
            self._values[house.id] = vals
        return vals

    def increment_for(self, listing: float) -> float:
        return max(self.config.increment * listing, self.config.min_increment)

    def reserve_for(self, house: House, listing: float) -> float:
        cfg = self.config
        if house.reserve is not None:
            return house.reserve
        if cfg.reserve_price is not None:
            return cfg.reserve_price
        if cfg.reserve_ratio is not None:
            return cfg.reserve_ratio * listing
        return 0.0

    def reaction_delay(self, agent: Agent) -> float:
        """Persona-dependent: extraverts are quicker, anxious bidders slower; rounded up to the resolution."""
        b5 = agent.persona.big_five
        median = self.config.reaction * math.exp(0.8 * (0.5 - b5.extraversion) + 0.4 * (b5.neuroticism - 0.5))
        d = median * math.exp(0.35 * float(agent.rng.standard_normal()))
        res = self.config.time_resolution
        return max(res, math.ceil(d / res - 1e-9) * res)

    def first_arrival(self, agents: list[Agent]) -> tuple[Agent, float, int]:
        """Who of ``agents`` gets their bid in first (ties broken at random), when, and how many tied."""
        delays = [self.reaction_delay(a) for a in agents]
        d = min(delays)
        tied = [a for a, x in zip(agents, delays) if x == d]
        pick = tied[0] if len(tied) == 1 else tied[int(self.rng_ties.integers(len(tied)))]
        return pick, d, len(tied)

    def requests(
        self, agents: list[Agent], decision: str, lot: dict[str, Any], cause: int, **state: Any
    ) -> list[tuple[Agent, DecisionRequest]]:
        action_type = {ENGLISH: EnglishAction, SEALED: SealedBid, DUTCH: DutchAction}[decision]
        shared = {k: v for k, v in lot.items() if k != "values"}
        vals = lot["values"]
        budget = self.budget_left
        return [
            (a, DecisionRequest(decision, action_type, {**shared, "value": vals[a.id], "budget_left": budget[a.id], **state}, [cause]))
            for a in agents
        ]

    def reject(self, world: World, agent: Agent, item: str, amount: float, cause: int) -> None:
        world.emit(
            "auction.rejected",
            {"item": item, "bidder": agent.id, "amount": amount, "reason": "over budget"},
            witnesses=(agent.id,),
            causes=(cause,),
        )

    # -- the auctioneer -------------------------------------------------------------------------
    def auctioneer(self, world: World) -> Generator[Any, Any, None]:
        cfg = self.config
        queue: deque[tuple[House, float, int]] = deque((h, h.starting_price, 0) for h in self.houses)
        lot_no = 0
        while queue:
            house, listing, relist = queue.popleft()
            lot_no += 1
            self.last_bid = None
            values = self.values_for(house)
            reserve = self.reserve_for(house, listing)
            increment = self.increment_for(listing)
            item = {**house.public(), "starting_price": listing}
            open_seq = world.emit(
                "auction.opened",
                {
                    "item": item, "lot": lot_no, "relist": relist, "format": cfg.format,
                    "increment": increment, "reserve": reserve, "n_bidders": len(self.room),
                },
                witnesses=self.room,
            )
            world.log("auction.valuations", {"item": house.id, "values": values}, causes=(open_seq,))
            prior = _UNIFORM_PRIOR if cfg.values == "iid_uniform" else {
                "kind": "quantiles", "q": np.quantile(np.fromiter(values.values(), float), np.linspace(0, 1, 101)).tolist()
            }
            lot = {
                "format": cfg.format, "item": item, "lot": lot_no, "increment": increment, "reserve": reserve,
                "min_bid": max(listing, reserve),
                "n_bidders": len(self.room), "_value_prior": prior, "values": values,
            }
            if cfg.format == "english":
                winner, price = yield from self.english(world, lot, listing, open_seq)
            elif cfg.format == "dutch":
                winner, price = yield from self.dutch(world, lot, listing, open_seq)
            else:
                winner, price = yield from self.sealed(world, lot, listing, open_seq)
            if winner is not None and price is not None and price >= reserve - _EPS:
                world.emit(
                    "auction.sold",
                    {
                        "item": house.id, "lot": lot_no, "winner": winner, "price": price,
                        "winner_value": values[winner], "true_value": house.true_value,
                    },
                    witnesses=self.room,
                    agent=winner,
                    causes=(self.last_bid,) if self.last_bid is not None else (open_seq,),
                    hidden=("winner_value",),
                )
                self.budget_left[winner] -= price
            else:
                reason = "no bids" if winner is None else "reserve not met"
                world.emit(
                    "auction.unsold",
                    {"item": house.id, "lot": lot_no, "reason": reason, "highest": price},
                    witnesses=self.room,
                    causes=(open_seq,),
                )
                if cfg.discount > 0 and relist < cfg.max_relists:
                    queue.append((house, round(listing * (1.0 - cfg.discount), 6), relist + 1))
                    self.lots_total += 1
            self.lots_done += 1
            if queue and cfg.item_gap > 0:
                yield world.timeout(cfg.item_gap)

    def english(self, world: World, lot: dict[str, Any], listing: float, open_seq: int):  # type: ignore[no-untyped-def]
        """Open ascending: each round asks everyone but the leader; the first bid heard wins the round;
        those who pass are out; the hammer falls after a round with no new bid."""
        item, inc = lot["item"]["id"], lot["increment"]
        active = list(self.bidders)
        leader: str | None = None
        price: float | None = None
        ask = listing
        while True:
            contenders = [a for a in active if a.id != leader]
            if not contenders:
                break
            ask_seq = world.emit(
                "auction.ask", {"item": item, "ask": ask, "leader": leader, "price": price},
                witnesses=self.room, causes=(open_seq,),
            )
            actions = yield world.decide_many(
                self.requests(contenders, ENGLISH, lot, ask_seq, ask=ask, price=price, leader=leader)
            )
            bidders, dropped = [], []
            for agent, action in zip(contenders, actions):
                if action.choice == "pass":
                    dropped.append(agent.id)
                elif ask > self.budget_left[agent.id] + _EPS:
                    self.reject(world, agent, item, ask, ask_seq)
                    dropped.append(agent.id)
                else:
                    bidders.append(agent)
            if dropped:
                world.emit(
                    "auction.dropped", {"item": item, "price": ask, "bidders": dropped},
                    witnesses=self.room, causes=(ask_seq,),
                )
                out = set(dropped)
                active = [a for a in active if a.id not in out]
            if not bidders:
                yield world.timeout(self.config.round_timeout)
                break
            winner, delay, tied = self.first_arrival(bidders)
            yield world.timeout(delay)
            self.last_bid = world.emit(
                "auction.bid", {"item": item, "bidder": winner.id, "amount": ask, "tied": tied},
                witnesses=self.room, agent=winner.id, causes=(ask_seq,),
            )
            leader, price = winner.id, ask
            ask = round(ask + inc, 9)
        return leader, price

    def sealed(self, world: World, lot: dict[str, Any], listing: float, open_seq: int):  # type: ignore[no-untyped-def]
        """First- or second-price sealed bids: everyone bids once within the window; bids are private
        until (optionally) revealed after the sale."""
        cfg = self.config
        item = lot["item"]["id"]
        floor = max(listing, lot["reserve"])
        actions = yield world.decide_many(self.requests(self.bidders, SEALED, lot, open_seq))
        arrivals = []
        for i, (agent, action) in enumerate(zip(self.bidders, actions)):
            if action.amount is None:
                continue
            if action.amount > self.budget_left[agent.id] + _EPS:
                self.reject(world, agent, item, action.amount, open_seq)
                continue
            arrivals.append((min(self.reaction_delay(agent), cfg.bid_window), i, agent, action.amount))
        arrivals.sort(key=lambda x: (x[0], x[1]))
        t0 = world.now
        bids: list[tuple[float, int, str]] = []
        for delay, i, agent, amount in arrivals:
            wait = t0 + delay - world.now
            if wait > 0:
                yield world.timeout(wait)
            seq = world.emit("auction.bid", {"item": item, "bidder": agent.id, "amount": amount},
                             witnesses=(agent.id,), agent=agent.id, causes=(open_seq,))
            if amount >= floor - _EPS:
                bids.append((amount, i, agent.id, seq))
        rest = t0 + cfg.bid_window - world.now
        if rest > 0:
            yield world.timeout(rest)
        if cfg.reveal_bids:
            world.emit("auction.bids_revealed", {"item": item, "bids": {b[2]: b[0] for b in sorted(bids, key=lambda b: b[1])}},
                       witnesses=self.room, causes=(open_seq,))
        if not bids:
            return None, None
        top = max(b[0] for b in bids)
        tied = [b for b in bids if b[0] == top]
        winner = tied[0] if len(tied) == 1 else tied[int(self.rng_ties.integers(len(tied)))]
        self.last_bid = winner[3]
        if cfg.format == "first_price":
            return winner[2], top
        others = sorted((b[0] for b in bids if b is not winner), reverse=True)
        return winner[2], max(others[0] if others else floor, floor)

    def dutch(self, world: World, lot: dict[str, Any], listing: float, open_seq: int):  # type: ignore[no-untyped-def]
        """Descending clock: the first bidder to accept buys at the clock price."""
        cfg = self.config
        item, step = lot["item"]["id"], lot["increment"]
        clock = listing * cfg.dutch_start if listing > 0 else 1.0
        floor = lot["reserve"]
        while clock >= floor - _EPS and clock > 0:
            clock_seq = world.emit("auction.clock", {"item": item, "price": clock}, witnesses=self.room,
                                   causes=(open_seq,))
            actions = yield world.decide_many(self.requests(self.bidders, DUTCH, lot, clock_seq, clock=clock))
            takers = []
            for agent, action in zip(self.bidders, actions):
                if action.choice != "accept":
                    continue
                if clock > self.budget_left[agent.id] + _EPS:
                    self.reject(world, agent, item, clock, clock_seq)
                else:
                    takers.append(agent)
            if takers:
                winner, delay, tied = self.first_arrival(takers)
                yield world.timeout(delay)
                self.last_bid = world.emit(
                    "auction.bid", {"item": item, "bidder": winner.id, "amount": clock, "tied": tied},
                    witnesses=self.room, agent=winner.id, causes=(clock_seq,),
                )
                return winner.id, clock
            yield world.timeout(cfg.round_timeout)
            clock = round(clock - step, 9)
        return None, None

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.auction.metrics import auction_metrics

        return auction_metrics(log)
