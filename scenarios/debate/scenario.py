"""The debate scenario: a moderator process, debaters and an audience on an influence network."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import simpy
from simworld.agents import Agent, Cast, generate_population, read_personas
from simworld.agents.persona import Persona
from simworld.scenarios.debate import dynamics
from simworld.scenarios.debate.config import DebateConfig
from simworld.scenarios.debate.events import EVENTS, move_data, opinion_fact
from simworld.scenarios.debate.floor import first_interruption, speaking_order, speech_time
from simworld.scenarios.debate.network import build_graph, influence_weights, load_edges
from simworld.scenarios.debate.persuasion import argument_shift, move_strength
from simworld.scenarios.debate.policies import (
    ARGUE,
    PRIVATE,
    VOTE,
    Argument,
    PrivateMessage,
    Vote,
    policies,
    template_text,
)
from simworld.scenarios.debate.roles import DebateRole

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

MODERATOR = "moderator"
T = TypeVar("T")
#: A simpy process of the debate that returns ``T``.
Process = Generator[simpy.Event, Any, T]


def population_ids(prefix: str, n: int) -> list[str]:
    """The ids :func:`simworld.agents.generate_population` gives ``n`` personas with ``prefix``."""
    width = max(3, len(str(n - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(n)]


@dataclass(frozen=True)
class Spoken:
    """The last argument of a round, as the next speaker hears it."""

    speaker: str
    move: str
    text: str
    side: float

    def heard(self) -> dict[str, str]:
        return {"speaker": self.speaker, "move": self.move, "text": self.text}


@dataclass(frozen=True)
class DebateInputs:
    """What :meth:`DebateScenario.check` read: the participants from the persona file (None: generated at
    setup) and the network file's edges as (listener, speaker, weight), both ways for an undirected file."""

    debaters: list[Persona] | None
    audience: list[Persona] | None
    edges: list[tuple[str, str, float]] | None


class DebateScenario(Scenario):
    """Moderated debates: typed argument moves, interruptions, reactions, private messages, and opinion
    dynamics (DeGroot, Friedkin-Johnsen, Hegselmann-Krause, Deffuant, or argument-driven)."""

    name = "debate"
    description = "Moderated debates with persona debaters and audience; opinion dynamics on an influence network"
    Config = DebateConfig
    events = EVENTS
    panel = "debate"
    config: DebateConfig
    inputs: DebateInputs

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> DebateInputs:
        cfg = self.config
        debaters: list[Persona] | None = None
        audience: list[Persona] | None = None
        if cfg.personas is not None:
            path = self.resolve_path(cfg.personas)
            people = read_personas(path, {"debate": DebateRole})
            deb = [p for p in people if p.role("debate", DebateRole).part == "debater"]
            aud = [p for p in people if p.role("debate", DebateRole).part == "audience"]
            if len(deb) < 2:
                raise BadInput(str(path), f"needs at least 2 personas with roles.debate.part: debater, found {len(deb)}")
            debaters = deb[: cfg.n_debaters or len(deb)]
            audience = aud[: cfg.n_audience if cfg.n_audience is not None else len(aud)]
            ids = [p.id for p in debaters + audience]
        else:
            ids = population_ids("debater", self.n_debaters()) + population_ids("audience", self.n_audience())
        edges = None
        if cfg.network == "file" and cfg.network_file is not None:
            edges = load_edges(self.resolve_path(cfg.network_file), ids)
        return DebateInputs(debaters, audience, edges)

    def n_debaters(self) -> int:
        return self.config.n_debaters or 4

    def n_audience(self) -> int:
        return 8 if self.config.n_audience is None else self.config.n_audience

    def participants(self, world: World) -> tuple[list[Persona], list[Persona]]:
        """The debaters and the audience: from the persona file, or generated."""
        if self.inputs.debaters is not None and self.inputs.audience is not None:
            return self.inputs.debaters, self.inputs.audience
        cfg = self.config
        deb = generate_population(cfg.population, self.n_debaters(), world.rng("scenario:debate:debaters"), "debater")
        aud = generate_population(cfg.population, self.n_audience(), world.rng("scenario:debate:audience"), "audience")
        return deb, aud

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        cfg = self.config
        debaters, audience = self.participants(world)
        self.props = [(f"p{i + 1}", text) for i, text in enumerate(cfg.propositions)]
        policy = policies.create("persona")
        self.agents: list[Agent] = Cast(world, cfg).add_all(debaters + audience, policy=lambda p: (policy, "persona"))
        self.ids = [a.id for a in self.agents]
        self.index = {a: i for i, a in enumerate(self.ids)}
        self.debaters = self.agents[: len(debaters)]
        self.audience = self.agents[len(debaters):]
        self.is_debater = {a.id: i < len(debaters) for i, a in enumerate(self.agents)}
        self.present = {a: True for a in self.ids}
        self.epoch = {a: 0 for a in self.ids}
        self.finished = False
        self.rounds_done = 0
        self.strength_total = {"for": 0.0, "against": 0.0}
        self._initial_opinions(world)
        self._network(world)

    def _initial_opinions(self, world: World) -> None:
        cfg = self.config
        rng = world.rng("scenario:debate:stances")
        self.side: dict[str, dict[str, float]] = {}
        self.x: dict[str, np.ndarray] = {}
        for pid, _text in self.props:
            x = np.zeros(len(self.ids))
            sides: dict[str, float] = {}
            for i, agent in enumerate(self.agents):
                given = agent.persona.role("debate", DebateRole).initial(pid)
                if self.is_debater[agent.id]:
                    side = 1.0 if i % 2 == 0 else -1.0
                    drawn = side * float(rng.uniform(0.5, 1.0))
                    x[i] = drawn if given is None else given
                    sides[agent.id] = 1.0 if x[i] >= 0 else -1.0
                else:
                    drawn = float(np.clip(rng.normal(0.0, cfg.audience_spread), -0.95, 0.95))
                    x[i] = drawn if given is None else given
            self.side[pid] = sides
            self.x[pid] = x
        self.x0 = {pid: x.copy() for pid, x in self.x.items()}

    def _network(self, world: World) -> None:
        cfg = self.config
        g = build_graph(cfg.network, self.ids, world.rng("scenario:debate:network"), cfg.small_world_k,
                        cfg.small_world_p, cfg.scale_free_m, self.inputs.edges)
        personas = {a.id: a.persona for a in self.agents}
        boost = {a.id: cfg.debater_influence for a in self.debaters}
        self.W = influence_weights(g, self.ids, personas, cfg.self_weight, boost)
        self.A = (self.W > 0).astype(float)
        np.fill_diagonal(self.A, 1.0)
        openness = np.array([a.persona.big_five.openness for a in self.agents])
        self.s = np.clip(cfg.stubbornness * 2.0 * (1.0 - openness), 0.0, 1.0)
        self.network_seq = world.log("debate.network", {
            "nodes": self.ids,
            "parts": {a: ("debater" if self.is_debater[a] else "audience") for a in self.ids},
            "graph": cfg.network,
            "edges": [[a, b, float(d.get("weight", 1.0))] for a, b, d in sorted(g.edges(data=True))],
            "weights": self.W.tolist(),
            "stubbornness": self.s.tolist(),
            "initial": {pid: x.tolist() for pid, x in self.x0.items()},
            "sides": self.side,
            "propositions": {pid: text for pid, text in self.props},
            "rule": cfg.update_rule, "epsilon": cfg.epsilon, "mu": cfg.mu,
        })
        for pid, _ in self.props:
            for i, agent in enumerate(self.agents):
                agent.beliefs.update(pid, "opinion", float(self.x0[pid][i]), abs(float(self.x0[pid][i])),
                                     causes=(self.network_seq,), rule="initial", by={})

    def processes(self, world: World) -> list[Process[None]]:
        procs = [self.moderator(world)]
        if self.config.leave_rate > 0:
            procs += [self.wanderer(world, a) for a in self.audience]
        return procs

    def progress(self, world: World) -> tuple[float, float]:
        return (self.rounds_done, self.config.rounds * len(self.props))

    # -- presence and talk ------------------------------------------------------------------------
    def room(self) -> list[str]:
        return [a for a in self.ids if self.present[a]]

    def announce(self, world: World, text: str, cause: int) -> int:
        """The moderator (not an agent: no acting agent on the line) speaks to everyone in the room."""
        room = self.room()
        return world.say(MODERATOR, room, text, witnesses=room, causes=(cause,))

    def wanderer(self, world: World, agent: Agent) -> Process[None]:
        """An audience member who now and then leaves the room and comes back later."""
        cfg = self.config
        rng = world.rng(f"scenario:debate:presence:{agent.id}")
        rate = cfg.leave_rate * (1.5 - agent.persona.big_five.conscientiousness)
        while True:
            yield world.timeout(round(float(rng.exponential(1.0 / rate)), 1) + 0.1)
            if self.finished:
                return
            self.present[agent.id] = False
            self.epoch[agent.id] += 1
            world.emit("debate.left", {"who": agent.id}, witnesses=self.room() + [agent.id], agent=agent.id)
            yield world.timeout(round(float(rng.exponential(cfg.away_time)), 1) + 0.1)
            if self.finished:
                return
            self.present[agent.id] = True
            world.emit("debate.rejoined", {"who": agent.id}, witnesses=self.room(), agent=agent.id)

    # -- opinions ---------------------------------------------------------------------------------
    def set_opinion(self, pid: str, i: int, value: float, by: dict[str, float], rule: str, causes: tuple[int, ...]) -> None:
        old = float(self.x[pid][i])
        if value == old:
            return
        self.x[pid][i] = value
        self.agents[i].beliefs.update(pid, "opinion", float(value), abs(float(value)), causes=causes,
                                      rule=rule, delta=float(value - old), by=by)

    def hear_move(self, pid: str, speaker: str, move: str, strength: float, listeners: list[str], seq: int) -> None:
        """The argument-driven rule: every listener who heard the move updates."""
        if self.config.update_rule != "argument":
            return
        side = self.side[pid][speaker]
        for who in listeners:
            if who == speaker:
                continue
            i = self.index[who]
            x = float(self.x[pid][i])
            d = argument_shift(move, strength, self.agents[i].persona.big_five, x, side, self.config.persuasion_rate)
            if self.is_debater[who]:
                d *= 0.3  # debaters are committed to their side
            if d != 0.0:
                self.set_opinion(pid, i, x + d, {speaker: d}, "argument", (seq,))
        if move == "concession":  # conceding a point softens the speaker's own view a little
            i = self.index[speaker]
            x = float(self.x[pid][i])
            self.set_opinion(pid, i, float(np.clip(x - 0.1 * strength * side, -1, 1)), {speaker: -0.1 * strength * side},
                             "argument", (seq,))

    def deliver(self, world: World, pid: str, speaker: Agent, move: str, strength: float, duration: float,
                heard: list[str], said: int, rnd: int, *, cut: bool = False, interrupted_by: str | None = None,
                interjection: bool = False, private: bool = False) -> int:
        """Log a move (``debate.move``, caused by the utterance ``said``), add its strength to the side's
        score unless it was a private word, and let those who ``heard`` it update their opinions."""
        side = self.side[pid][speaker.id]
        # The opinion the speaker expresses, a fact those who heard the move witness.
        expressed = {opinion_fact(speaker.id, pid): float(self.x[pid][self.index[speaker.id]])}
        seq = world.emit("debate.move", move_data(pid, speaker.id, move, side, strength, duration, rnd, cut=cut,
                                                  interrupted_by=interrupted_by, interjection=interjection,
                                                  private=private),
                         witnesses=heard, agent=speaker.id, causes=(said,), facts=expressed)
        if not private:
            self.strength_total["for" if side > 0 else "against"] += strength
        self.hear_move(pid, speaker.id, move, strength, heard, seq)
        return seq

    def network_step(self, world: World, pid: str, rnd: int, step: int, rng: np.random.Generator) -> None:
        cfg = self.config
        x = self.x[pid]
        data: dict[str, Any] = {"proposition": pid, "round": rnd, "step": step, "rule": cfg.update_rule}
        if cfg.update_rule == "degroot":
            new, C = dynamics.degroot(self.W, x)
        elif cfg.update_rule == "friedkin_johnsen":
            new, C = dynamics.friedkin_johnsen(self.W, x, self.x0[pid], self.s)
        elif cfg.update_rule == "hegselmann_krause":
            new, C = dynamics.hegselmann_krause(self.A, x, cfg.epsilon)
        else:
            pairs = dynamics.random_pairs(self.A, cfg.deffuant_pairs or len(self.ids), rng)
            data["pairs"] = [[self.ids[i], self.ids[j]] for i, j in pairs]
            new, C = dynamics.deffuant(x, pairs, cfg.epsilon, cfg.mu)
        seq = world.log("debate.step", data)
        for i in range(len(self.ids)):
            row = C[i]
            by = {self.ids[j]: float(row[j]) for j in np.flatnonzero(np.abs(row) > 1e-15)}
            self.set_opinion(pid, i, float(new[i]), by, cfg.update_rule, (seq,))

    # -- the moderator ----------------------------------------------------------------------------
    def moderator(self, world: World) -> Process[None]:
        cfg = self.config
        timing = world.rng("scenario:debate:timing")
        irng = world.rng("scenario:debate:interrupt")
        drng = world.rng("scenario:debate:deffuant")
        qrng = world.rng("scenario:debate:quality")
        for pid, text in self.props:
            self.strength_total = {"for": 0.0, "against": 0.0}
            open_seq = world.emit("debate.opened", {"proposition": pid, "text": text, "rounds": cfg.rounds,
                                                     "debaters": {a.id: self.side[pid][a.id] for a in self.debaters}},
                                  witnesses=self.room(), causes=(self.network_seq,))
            self.announce(world, f"Tonight's motion: {text}", open_seq)
            last: Spoken | None = None
            for rnd in range(cfg.rounds):
                rseq = world.emit("debate.round", {"proposition": pid, "round": rnd}, witnesses=self.room(), causes=(open_seq,))
                order = speaking_order([a for a in self.debaters if self.side[pid][a.id] > 0],
                                       [a for a in self.debaters if self.side[pid][a.id] < 0], rnd)
                for turn, speaker in enumerate(order):
                    last = yield from self.turn(world, pid, text, rnd, turn, speaker, last, rseq, timing, irng, qrng)
                if cfg.private_messages:
                    yield from self.private_round(world, pid, text, rnd, rseq)
                if cfg.update_rule != "argument":
                    for step in range(cfg.network_steps):
                        self.network_step(world, pid, rnd, step, drng)
                world.emit("debate.round_closed", {"proposition": pid, "round": rnd}, witnesses=self.room(), causes=(rseq,))
                self.rounds_done += 1
                if cfg.break_time > 0:
                    yield world.timeout(cfg.break_time)
            yield from self.vote(world, pid, open_seq)
        self.finished = True

    def turn(self, world: World, pid: str, text: str, rnd: int, turn: int, speaker: Agent, last: Spoken | None,
             rseq: int, timing: np.random.Generator, irng: np.random.Generator,
             qrng: np.random.Generator) -> Process[Spoken]:
        """One speaker's turn: the floor, the argument (maybe cut off or interrupted), reactions."""
        cfg = self.config
        side = self.side[pid][speaker.id]
        addressed = self.room()
        floor = self.announce(world, f"The floor goes to {speaker.persona.name}.", rseq)
        ctx = {"proposition": text, "proposition_id": pid, "side": side, "round": rnd, "turn": rnd * 100 + turn,
               "opinion": float(self.x[pid][self.index[speaker.id]]),
               "opponent_spoke": last is not None and last.side != side,
               "last_argument": None if last is None else last.heard()}
        act: Argument = yield speaker.decide(DecisionRequest(ARGUE, Argument, ctx, [floor]))
        words = act.text or template_text(act.move, text, side, qrng)
        duration = speech_time(speaker.persona.big_five, cfg.speak_time, timing)
        cut = duration > cfg.turn_limit
        duration = min(duration, cfg.turn_limit)
        opponents = [(a, a.persona.big_five) for a in self.debaters if self.side[pid][a.id] != side]
        inter = first_interruption(opponents, duration, cfg.interruptions, irng) if cfg.interruptions > 0 else None
        spoke = inter[1] if inter else duration
        started = {a: self.epoch[a] for a in addressed}
        yield world.timeout(spoke)
        heard = [a for a in self.room() if started.get(a) == self.epoch[a]]
        quality = float(np.exp(0.15 * qrng.standard_normal()))
        strength = min(1.0, move_strength(act.move, speaker.persona.big_five) * quality * math.sqrt(spoke / duration))
        msg = world.say(speaker.id, addressed, words, heard, (floor,), proposition=pid, move=act.move)
        mseq = self.deliver(world, pid, speaker, act.move, strength, spoke, heard, msg, rnd, cut=cut,
                            interrupted_by=inter[0].id if inter else None)
        self.react(world, pid, speaker.id, side, heard, mseq)
        if cut and not inter:
            self.announce(world, "Time, thank you.", mseq)
        if inter:
            other, _ = inter
            iseq = world.emit("debate.interrupted", {"proposition": pid, "speaker": speaker.id, "by": other.id, "at": spoke},
                              witnesses=self.room(), agent=other.id, causes=(mseq,))
            addressed = self.room()
            started = {a: self.epoch[a] for a in addressed}
            yield world.timeout(5.0)
            heard = [a for a in self.room() if started.get(a) == self.epoch[a]]
            words2 = template_text("rebuttal", text, self.side[pid][other.id], qrng)
            m2 = world.say(other.id, addressed, words2, heard, (iseq,), proposition=pid, move="rebuttal")
            s2 = 0.5 * move_strength("rebuttal", other.persona.big_five)
            mv2 = self.deliver(world, pid, other, "rebuttal", s2, 5.0, heard, m2, rnd, interjection=True)
            self.announce(world, "Please let the speaker finish.", mv2)
        return Spoken(speaker.id, act.move, words, side)

    def react(self, world: World, pid: str, speaker: str, side: float, heard: list[str], cause: int) -> None:
        if not self.config.reactions:
            return
        applause, boos = [], []
        for who in heard:
            if self.is_debater[who]:
                continue
            i = self.index[who]
            agree = float(self.x[pid][i]) * side
            b5 = self.agents[i].persona.big_five
            if agree > 0.3 - 0.2 * b5.extraversion:
                applause.append(who)
            elif agree < -0.4 and b5.agreeableness < 0.45:
                boos.append(who)
        if applause or boos:
            world.emit("debate.reaction", {"proposition": pid, "speaker": speaker, "applause": applause, "boo": boos},
                       witnesses=self.room(), causes=(cause,))

    def private_round(self, world: World, pid: str, text: str, rnd: int, rseq: int) -> Process[None]:
        """At the break each debater may lobby one undecided audience member in the room, in private."""
        undecided = [a.id for a in self.audience if self.present[a.id] and abs(float(self.x[pid][self.index[a.id]])) < 0.3]
        reqs = [(d, DecisionRequest(PRIVATE, PrivateMessage, {"proposition": text, "proposition_id": pid,
                                                              "side": self.side[pid][d.id], "undecided": undecided}, [rseq]))
                for d in self.debaters]
        acts: list[PrivateMessage] = yield world.decide_many(reqs)
        for d, act in zip(self.debaters, acts):
            if act.to is None or act.to not in self.index or act.to == d.id or not self.present[act.to]:
                continue
            words = act.text or "A word in private: please think it over."
            said = world.say(d.id, [act.to], words, causes=(rseq,), proposition=pid, private=True)
            strength = 0.5 * move_strength("appeal", d.persona.big_five)
            self.deliver(world, pid, d, "appeal", strength, 0.0, [d.id, act.to], said, rnd, private=True)

    def vote(self, world: World, pid: str, open_seq: int) -> Process[None]:
        """The audience in the room votes; the moderator scores the delivered arguments."""
        voters = [a for a in self.audience if self.present[a.id]]
        reqs = [(a, DecisionRequest(VOTE, Vote, {"proposition_id": pid, "opinion": float(self.x[pid][self.index[a.id]])},
                                    [open_seq])) for a in voters]
        acts: list[Vote] = yield world.decide_many(reqs)
        votes = {a.id: v.vote for a, v in zip(voters, acts)}
        tally = {k: sum(1 for v in votes.values() if v == k) for k in ("for", "against", "undecided")}
        audience_winner = "for" if tally["for"] > tally["against"] else "against" if tally["against"] > tally["for"] else "tie"
        st = self.strength_total
        moderator_winner = "for" if st["for"] > st["against"] else "against" if st["against"] > st["for"] else "tie"
        vseq = world.emit("debate.verdict", {"proposition": pid, "votes": votes, "tally": tally,
                                             "audience_winner": audience_winner, "moderator_winner": moderator_winner,
                                             "strength": dict(st)}, witnesses=self.room(), causes=(open_seq,))
        self.announce(world, f"The audience votes {tally['for']} for, {tally['against']} against: "
                      f"the motion is {'carried' if audience_winner == 'for' else 'not carried'}.", vseq)

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.debate.metrics import debate_metrics

        return debate_metrics(log, self.config.consensus_tol)
