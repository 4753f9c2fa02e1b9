"""A custom scenario in one file: players with personas bet on coin flips.

Run it with::

    simworld run examples/coin_game.py --seed 1 --set rounds=20 --set n_players=6
    simworld run examples/coin_game.py --set brain=llm --set model.base_url=http://127.0.0.1:8000/v1
    python examples/coin_game.py

Everything a built-in scenario uses is public: a pydantic config (every field settable from YAML or
``--set``; ``BrainSettings`` adds the ``brain``, ``model`` and ``memory`` blocks), typed payloads for the
events it logs, ``check`` that loads its input files before anything is written, ``setup`` that creates
agents (``Cast`` gives each one the memory and brain the config asks for), a simpy process that drives
the world and asks agents for decisions, and ``metrics`` computed from the run log alone (so
``simworld analyze --scenario examples/coin_game.py`` can recompute them later).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from simworld.agents import Cast, Persona, PopulationSpec, generate_population, read_personas
from simworld.agents.brain_config import BrainSettings

import simworld as sw
from simworld.decisions import DecisionRequest
from simworld.events import Payload
from simworld.files import DataFile


class Round(Payload):
    """A new round begins."""

    kind = "coin.round"
    round: int


class Placed(Payload):
    """A player's bet, seen by that player only."""

    kind = "coin.bet"
    round: int
    call: Literal["heads", "tails"]
    stake: float


class Flipped(Payload):
    """The coin lands."""

    kind = "coin.flipped"
    round: int
    outcome: Literal["heads", "tails"]


class Settled(Payload):
    """A player's winnings (or loss) for the round and their wealth after it."""

    kind = "coin.settled"
    round: int
    delta: float
    wealth: float


class Bet(BaseModel):
    """What a player may do each round: call a side and stake part of their wealth (0 sits out)."""

    model_config = ConfigDict(extra="forbid")
    call: Literal["heads", "tails"]
    stake: float = Field(ge=0.0)


class GamblerRole(BaseModel):
    """``roles.gambler`` of a persona file (optional: generated personas get one from their traits)."""

    model_config = ConfigDict(extra="forbid")
    wealth: float = Field(default=100.0, gt=0.0)
    boldness: float | None = Field(default=None, ge=0.0, le=1.0, description="share of wealth staked")


def bold_policy(persona: Persona, observation: DecisionRequest, memories: Any, beliefs: Any, rng: Any) -> Bet:
    """Extraverts and open players stake more, anxious ones less; the call is a coin flip of their own,
    except that 'gamblers' fallacy' players (low conscientiousness) bet against the last outcome."""
    c = observation.context
    b5 = persona.big_five
    role = GamblerRole.model_validate(persona.roles.get("gambler", {}))
    bold = role.boldness if role.boldness is not None else (
        0.1 + 0.3 * b5.extraversion + 0.2 * b5.openness - 0.2 * b5.neuroticism
    )
    bold = min(1.0, max(0.0, bold))
    last = c.get("last_outcome")
    if last is not None and b5.conscientiousness < 0.4:
        call = "tails" if last == "heads" else "heads"
    else:
        call = "heads" if rng.random() < 0.5 else "tails"
    return Bet(call=call, stake=round(min(c["wealth"], c["wealth"] * bold), 2))


class CoinGameConfig(BrainSettings):
    n_players: int = Field(default=4, ge=1, le=100_000)
    rounds: int = Field(default=10, ge=1)
    p_heads: float = Field(default=0.5, ge=0.0, le=1.0, description="the coin's bias")
    payout: float = Field(default=1.0, gt=0.0, description="winnings per unit staked")
    start_wealth: float = Field(default=100.0, gt=0.0)
    round_time: float = Field(default=1.0, gt=0.0, description="simulated time between flips")
    personas: DataFile | None = Field(default=None, description="persona file; default: generated (or {file: F, map: {field: their_field}})")
    population: PopulationSpec = Field(default_factory=PopulationSpec)


class CoinGame(sw.Scenario):
    """Players bet on coin flips; bolder personas stake more of their wealth."""

    name = "coin_game"
    description = "Persona players bet on a (possibly biased) coin, round after round"
    Config = CoinGameConfig
    events = (Round, Placed, Flipped, Settled)
    config: CoinGameConfig
    inputs: list[Persona] | None

    def check(self) -> list[Persona] | None:
        """Load inputs up front, so bad files are reported (exit 2) before anything is written; what this
        returns is ``self.inputs`` in ``setup``."""
        if self.config.personas is None:
            return None
        return read_personas(self.resolve_path(self.config.personas), {"gambler": GamblerRole},
                             at_least=self.config.n_players, n_field="n_players")

    def setup(self, world: sw.World) -> None:
        cfg = self.config
        if self.inputs is not None:
            personas = self.inputs[: cfg.n_players]
        else:
            personas = generate_population(cfg.population, cfg.n_players, world.rng("scenario:coin:population"), "player")
        cast = Cast(world, cfg)  # each agent's memory and brain (rule, llm, local or shares) from the config
        self.players = cast.add_all(personas, policy=lambda persona: (bold_policy, "bold"))
        self.wealth = {p.id: GamblerRole.model_validate(p.persona.roles["gambler"]).wealth
                       if "gambler" in p.persona.roles else cfg.start_wealth for p in self.players}
        self.coin = world.rng("scenario:coin:flips")
        self.rounds_done = 0

    def processes(self, world: sw.World) -> list[Generator[Any, Any, None]]:
        return [self.croupier(world)]

    def progress(self, world: sw.World) -> tuple[float, float]:
        return (self.rounds_done, self.config.rounds)

    def croupier(self, world: sw.World) -> Generator[Any, Any, None]:
        cfg = self.config
        room = [p.id for p in self.players]
        last: str | None = None
        for r in range(1, cfg.rounds + 1):
            opened = world.emit("coin.round", {"round": r}, witnesses=room)
            playing = [p for p in self.players if self.wealth[p.id] > 0]
            requests = [
                (p, DecisionRequest("coin.bet", Bet, {"round": r, "wealth": self.wealth[p.id], "last_outcome": last},
                                    [opened]))
                for p in playing
            ]
            bets = yield world.decide_many(requests)  # every player decides at the same simulated instant
            for player, bet in zip(playing, bets):
                stake = min(bet.stake, self.wealth[player.id])
                world.emit("coin.bet", {"round": r, "call": bet.call, "stake": stake},
                           witnesses=(player.id,), agent=player.id, causes=(opened,))
            yield world.timeout(cfg.round_time)
            outcome = "heads" if self.coin.random() < cfg.p_heads else "tails"
            flip = world.emit("coin.flipped", {"round": r, "outcome": outcome}, witnesses=room, causes=(opened,))
            for player, bet in zip(playing, bets):
                stake = min(bet.stake, self.wealth[player.id])
                delta = stake * cfg.payout if bet.call == outcome else -stake
                self.wealth[player.id] = round(self.wealth[player.id] + delta, 6)
                world.emit("coin.settled", {"round": r, "delta": delta, "wealth": self.wealth[player.id]},
                           witnesses=(player.id,), agent=player.id, causes=(flip,))
            last = outcome
            self.rounds_done = r

    def metrics(self, log: sw.RunLog) -> dict[str, Any]:
        start: dict[str, float] = {}
        final: dict[str, float] = {}
        staked: dict[str, float] = defaultdict(float)
        calls: dict[str, int] = defaultdict(int)
        flips: dict[str, int] = defaultdict(int)
        start_wealth = log.config.get("start_wealth", 100.0)
        for e in log.events():
            if e.kind == "agent.joined":
                role = e.data["persona"].get("roles", {}).get("gambler")
                start[e.agent] = float(role.get("wealth", 100.0)) if role else start_wealth
                final[e.agent] = start[e.agent]
            elif e.kind == "coin.bet":
                staked[e.agent] += e.data["stake"]
                calls[e.data["call"]] += 1
            elif e.kind == "coin.flipped":
                flips[e.data["outcome"]] += 1
            elif e.kind == "coin.settled":
                final[e.agent] = e.data["wealth"]
        n_flips = sum(flips.values())
        return {
            "players": len(start),
            "rounds": n_flips,
            "heads_share": flips["heads"] / n_flips if n_flips else None,
            "calls": dict(sorted(calls.items())),
            "total_staked": round(sum(staked.values()), 6),
            "wealth_start": round(sum(start.values()), 6),
            "wealth_end": round(sum(final.values()), 6),
            "broke": sum(1 for w in final.values() if w <= 0),
            "final_wealth": dict(sorted(final.items())),
        }


if __name__ == "__main__":  # `python examples/coin_game.py`; importing the file (simworld run) starts nothing
    result = sw.run(CoinGame, seed=1, out="runs", overrides={"rounds": 20, "n_players": 6})
    print(result.path, result.metrics["wealth_end"])
