"""The auction scenario: sequential house lots sold by an auctioneer process to persona bidders."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from functools import partial
from typing import Any

from simworld.agents import Agent, Cast, generate_population, read_personas
from simworld.agents.brain_config import assign_shares
from simworld.agents.brains import Policy
from simworld.agents.persona import Persona
from simworld.scenarios.auction.config import AuctionConfig
from simworld.scenarios.auction.events import EVENTS, value_fact
from simworld.scenarios.auction.harbor import HarborHouse, harbor_house_record, load_harbor_bidders, rival_belief
from simworld.scenarios.auction.items import House, generate_houses, iid_lots, load_houses
from simworld.scenarios.auction.metrics import auction_metrics
from simworld.scenarios.auction.policies import ACTION_TYPES, DUTCH, ENGLISH, SEALED, Profiler, policies
from simworld.scenarios.auction.roles import BidderRole, sample_bidder_role
from simworld.scenarios.auction.valuation import Valuations

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

_EPS = 1e-9

#: What a lot's bidding ends with: the winner and the price, or (None, None) without a valid bid.
Outcome = tuple[str | None, float | None]


def standing(item: str, amount: float, bidder: str) -> dict[str, Any]:
    """The facts a bid the room hears states: the lot's standing high bid and who holds it."""
    return {f"{item}.high_bid": amount, f"{item}.high_bidder": bidder}


@dataclass(frozen=True, slots=True)
class AuctionInputs:
    """What ``check`` read from the files the config names (None: generate instead)."""

    personas: list[Persona] | None
    houses: list[House] | None


@dataclass(frozen=True, slots=True)
class Lot:
    """A listing on sale: what every bidder is told, each bidder's private value, and the hints only rule
    policies get."""

    item: str
    listing: float
    increment: float
    reserve: float
    context: dict[str, Any]
    values: dict[str, float]
    hints: dict[str, Any]


class AuctionScenario(Scenario):
    """House auctions with persona bidders (after HARBOR): English, first-/second-price sealed, Dutch."""

    name = "auction"
    description = "House auctions (English, first/second-price sealed, Dutch) with persona bidders, after HARBOR"
    Config = AuctionConfig
    events = EVENTS
    panel = "auction"
    config: AuctionConfig
    inputs: AuctionInputs

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> AuctionInputs:
        cfg = self.config
        personas = houses = None
        harbor = cfg.preset == "harbor"
        if cfg.personas is not None:
            source = self.resolve_path(cfg.personas)
            if harbor:
                personas = load_harbor_bidders(source, at_least=cfg.n_bidders, n_field="n_bidders")
            else:
                personas = read_personas(source, {"bidder": BidderRole}, at_least=cfg.n_bidders, n_field="n_bidders")
        if cfg.items is not None:
            items = self.resolve_path(cfg.items)
            houses = load_houses(items, model=HarborHouse if harbor else House,
                                 prepare=harbor_house_record if harbor else None)
            if cfg.n_items is not None and cfg.n_items > len(houses):
                raise BadInput(str(items), f"holds {len(houses)} items but n_items is {cfg.n_items}")
        return AuctionInputs(personas, houses)

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        cfg = self.config
        if self.inputs.personas is not None:
            personas = self.inputs.personas[: cfg.n_bidders or len(self.inputs.personas)]
        else:
            personas = generate_population(
                cfg.population, cfg.n_bidders or 5, world.rng("scenario:auction:population"), "bidder",
                partial(sample_bidder_role, budget=cfg.population.budget),
            )
        if self.inputs.houses is not None:
            self.houses = self.inputs.houses[: cfg.n_items or len(self.inputs.houses)]
        elif cfg.values == "iid_uniform":
            self.houses = iid_lots(cfg.n_items or 3)
        else:
            self.houses = generate_houses(cfg.n_items or 3, world.rng("scenario:auction:items"))

        # The logged persona carries its full bidder role, defaults filled in.
        self.roles: dict[str, BidderRole] = {}
        bidders: list[Persona] = []
        for persona in personas:
            role = self.roles[persona.id] = persona.role("bidder", BidderRole)
            bidders.append(persona.model_copy(update={"roles": {**persona.roles, "bidder": role.logged()}}))
        assigned = assign_shares(cfg.strategy, len(bidders), world.rng("scenario:auction:assign"))
        default_strategy = {p.id: s for p, s in zip(bidders, assigned)}
        profiled = cfg.profiled()

        def policy(persona: Persona) -> tuple[Policy, str]:
            name = self.roles[persona.id].strategy or default_strategy[persona.id]
            made = policies.create(name)
            if profiled and isinstance(made, Profiler):
                made.profile_rivals(profiled)
            return made, name

        # Model brains' theory of mind answers the same typed beliefs (priority: one of the lots' categories).
        categories = tuple(sorted({h.category for h in self.houses if h.category is not None}))
        belief_model = rival_belief(categories, profiled) if profiled else None
        cast = Cast(world, cfg, belief_model=belief_model)
        self.bidders = cast.add_all(bidders, policy, brain=lambda p: self.roles[p.id].brain)
        self.room = [a.id for a in self.bidders]
        iid = cfg.values == "iid_uniform"
        self.budget_left = {a.id: (math.inf if iid else self.roles[a.id].budget) for a in self.bidders}
        self.valuations = Valuations(cfg.values, self.room, self.roles, world.rng("scenario:auction:values"))
        self.rng_ties = world.rng("scenario:auction:ties")
        self.last_bid: int | None = None
        self.lots_done = 0
        self.lots_total = len(self.houses)

    def processes(self, world: World) -> list[Generator[Any, Any, Any]]:
        return [self.auctioneer(world)]

    def progress(self, world: World) -> tuple[float, float]:
        return (self.lots_done, self.lots_total)

    # -- helpers --------------------------------------------------------------------------------
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
        self, agents: list[Agent], decision: str, lot: Lot, cause: int, **state: Any
    ) -> list[tuple[Agent, DecisionRequest]]:
        """One decision request per bidder: the lot as announced, the bidder's own value and budget left,
        and the round's ``state`` (ask, clock); the value prior goes to rule policies only."""
        action_type = ACTION_TYPES[decision]
        shared, vals, budget, hints = lot.context, lot.values, self.budget_left, lot.hints
        return [
            (a, DecisionRequest(decision, action_type, {**shared, "value": vals[a.id], "budget_left": budget[a.id], **state},
                                [cause], hints))
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
            values = self.valuations.of(house)
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
            val_seq = world.log("auction.valuations", {"item": house.id, "values": values}, causes=(open_seq,))
            for bidder, value in values.items():
                # Each bidder learns its own value, a fact no rival witnesses (one event per bidder and lot).
                world.emit("auction.value", {"item": house.id, "bidder": bidder, "value": value},
                           witnesses=(bidder,), causes=(val_seq,), facts={value_fact(bidder, house.id): value})
            context = {
                "format": cfg.format, "item": item, "lot": lot_no, "increment": increment, "reserve": reserve,
                "min_bid": max(listing, reserve), "n_bidders": len(self.room),
            }
            lot = Lot(house.id, listing, increment, reserve, context, values,
                      {"value_prior": self.valuations.prior(values)})
            if cfg.format == "english":
                winner, price = yield from self.english(world, lot, open_seq)
            elif cfg.format == "dutch":
                winner, price = yield from self.dutch(world, lot, open_seq)
            else:
                winner, price = yield from self.sealed(world, lot, open_seq)
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
                    facts={f"{house.id}.status": "sold", f"{house.id}.price": price, f"{house.id}.winner": winner},
                )
                self.budget_left[winner] -= price
            else:
                reason = "no bids" if winner is None else "reserve not met"
                world.emit(
                    "auction.unsold",
                    {"item": house.id, "lot": lot_no, "reason": reason, "highest": price},
                    witnesses=self.room,
                    causes=(open_seq,),
                    facts={f"{house.id}.status": "unsold"},  # no price or winner: None would read as unknown
                )
                if cfg.discount > 0 and relist < cfg.max_relists:
                    queue.append((house, round(listing * (1.0 - cfg.discount), 6), relist + 1))
                    self.lots_total += 1
            self.lots_done += 1
            if queue and cfg.item_gap > 0:
                yield world.timeout(cfg.item_gap)

    def english(self, world: World, lot: Lot, open_seq: int) -> Generator[Any, Any, Outcome]:
        """Open ascending: each round asks everyone but the leader; the first bid heard wins the round;
        those who pass are out; the hammer falls after a round with no new bid."""
        item, inc = lot.item, lot.increment
        active = list(self.bidders)
        leader: str | None = None
        price: float | None = None
        ask = lot.listing
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
                witnesses=self.room, agent=winner.id, causes=(ask_seq,), facts=standing(item, ask, winner.id),
            )
            leader, price = winner.id, ask
            ask = round(ask + inc, 9)
        return leader, price

    def sealed(self, world: World, lot: Lot, open_seq: int) -> Generator[Any, Any, Outcome]:
        """First- or second-price sealed bids: everyone bids once within the window; bids are private
        until (optionally) revealed after the sale."""
        cfg = self.config
        item = lot.item
        floor = max(lot.listing, lot.reserve)
        actions = yield world.decide_many(self.requests(self.bidders, SEALED, lot, open_seq))
        arrivals: list[tuple[float, int, Agent, float]] = []
        for i, (agent, action) in enumerate(zip(self.bidders, actions)):
            if action.amount is None:
                continue
            if action.amount > self.budget_left[agent.id] + _EPS:
                self.reject(world, agent, item, action.amount, open_seq)
                continue
            arrivals.append((min(self.reaction_delay(agent), cfg.bid_window), i, agent, action.amount))
        arrivals.sort(key=lambda x: (x[0], x[1]))
        t0 = world.now
        bids: list[tuple[float, int, str, int]] = []  # (amount, position in the room, bidder, seq)
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

    def dutch(self, world: World, lot: Lot, open_seq: int) -> Generator[Any, Any, Outcome]:
        """Descending clock: the first bidder to accept buys at the clock price."""
        cfg = self.config
        item, step = lot.item, lot.increment
        clock = lot.listing * cfg.dutch_start if lot.listing > 0 else 1.0
        floor = lot.reserve
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
                    witnesses=self.room, agent=winner.id, causes=(clock_seq,), facts=standing(item, clock, winner.id),
                )
                return winner.id, clock
            yield world.timeout(cfg.round_timeout)
            clock = round(clock - step, 9)
        return None, None

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        return auction_metrics(log)
