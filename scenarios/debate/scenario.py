"""The debate scenario: a moderator process, debaters and an audience on an influence network."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
from simworld.agents import Agent, generate_population, load_personas
from simworld.agents.brain_config import BrainFactory
from simworld.agents.persona import Persona
from simworld.memory import MemoryRole, MemorySystem
from simworld.scenarios.debate import dynamics
from simworld.scenarios.debate.config import DebateConfig, DebateRole
from simworld.scenarios.debate.floor import first_interruption, speaking_order, speech_time
from simworld.scenarios.debate.moves import (
    ARGUE,
    PRIVATE,
    VOTE,
    Argument,
    PrivateMessage,
    Vote,
    argument_shift,
    move_strength,
    policies,
    template_text,
)
from simworld.scenarios.debate.network import build_graph, influence_weights, load_edges, parse_edges

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

MODERATOR = "moderator"


class DebateScenario(Scenario):
    """Moderated debates: typed argument moves, interruptions, reactions, private messages, and opinion
    dynamics (DeGroot, Friedkin-Johnsen, Hegselmann-Krause, Deffuant, or argument-driven)."""

    name = "debate"
    description = "Moderated debates with persona debaters and audience; opinion dynamics on an influence network"
    Config = DebateConfig
    config: DebateConfig

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> None:
        cfg = self.config
        self._file_personas: list[Persona] | None = None
        if cfg.personas is not None:
            path = self.resolve_path(cfg.personas)
            self._file_personas = load_personas(path, roles={"debate": DebateRole, "memory": MemoryRole})
            n_deb = sum(p.role("debate", DebateRole).part == "debater" for p in self._file_personas)
            if n_deb < 2:
                raise BadInput(str(path), f"needs at least 2 personas with roles.debate.part: debater, found {n_deb}")
        if cfg.network == "file" and cfg.network_file is not None:
            self._network_path = self.resolve_path(cfg.network_file)
            parse_edges(self._network_path)  # format errors now, before anything is written

    def _personas(self, world: World) -> tuple[list[Persona], list[Persona]]:
        cfg = self.config
        if self._file_personas is not None:
            deb = [p for p in self._file_personas if p.role("debate", DebateRole).part == "debater"]
            aud = [p for p in self._file_personas if p.role("debate", DebateRole).part == "audience"]
            return deb[: cfg.n_debaters or len(deb)], aud[: cfg.n_audience if cfg.n_audience is not None else len(aud)]
        deb = generate_population(cfg.population, cfg.n_debaters or 4, world.rng("scenario:debate:debaters"), "debater")
        n_aud = 8 if cfg.n_audience is None else cfg.n_audience
        aud = generate_population(cfg.population, n_aud, world.rng("scenario:debate:audience"), "audience")
        return deb, aud

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        if not hasattr(self, "_file_personas"):
            self.check()
        cfg = self.config
        debaters, audience = self._personas(world)
        self.props = [(f"p{i + 1}", text) for i, text in enumerate(cfg.propositions)]
        brains = BrainFactory(world, cfg)
        memory = MemorySystem(cfg.memory).bind(world)
        everyone = debaters + audience
        kinds = brains.kinds(len(everyone))
        self.agents: list[Agent] = []
        for persona, kind in zip(everyone, kinds):
            agent = Agent(persona, brains.make(kind, policies.create("persona"), "persona"), memory=memory.stream(persona))
            world.add_agent(agent)
            self.agents.append(agent)
        self.ids = [a.id for a in self.agents]
        self.index = {a: i for i, a in enumerate(self.ids)}
        self.debaters = self.agents[: len(debaters)]
        self.audience = self.agents[len(debaters):]
        self.is_debater = {a.id: i < len(debaters) for i, a in enumerate(self.agents)}
        self.present = {a: True for a in self.ids}
        self.epoch = {a: 0 for a in self.ids}
        self.finished = False
        self.rounds_done = 0
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
                role = agent.persona.role("debate", DebateRole)
                given = role.stances.get(pid, role.stance)
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
        edges = load_edges(self._network_path, self.ids) if cfg.network == "file" else None
        g = build_graph(cfg.network, self.ids, world.rng("scenario:debate:network"), cfg.small_world_k,
                        cfg.small_world_p, cfg.scale_free_m, edges)
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

    def processes(self, world: World) -> list[Generator[Any, Any, Any]]:
        procs = [self.moderator(world)]
        if self.config.leave_rate > 0:
            procs += [self.wanderer(world, a) for a in self.audience]
        return procs

    def progress(self, world: World) -> tuple[float, float]:
        return (self.rounds_done, self.config.rounds * len(self.props))

    # -- presence and talk ------------------------------------------------------------------------
    def room(self) -> list[str]:
        return [a for a in self.ids if self.present[a]]

    def say(self, world: World, sender: str, text: str, audience: list[str], witnesses: list[str],
            causes: tuple[int, ...] = (), **extra: Any) -> int:
        return world.emit("message.sent", {"sender": sender, "audience": audience, "text": text, **extra},
                          witnesses=witnesses, agent=None if sender == MODERATOR else sender, causes=causes)

    def wanderer(self, world: World, agent: Agent) -> Generator[Any, Any, None]:
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
    def moderator(self, world: World) -> Generator[Any, Any, None]:
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
            self.say(world, MODERATOR, f"Tonight's motion: {text}", self.room(), self.room(), (open_seq,))
            last: dict[str, Any] | None = None
            for rnd in range(cfg.rounds):
                rseq = world.emit("debate.round", {"proposition": pid, "round": rnd}, witnesses=self.room(), causes=(open_seq,))
                order = speaking_order([a for a in self.debaters if self.side[pid][a.id] > 0],
                                       [a for a in self.debaters if self.side[pid][a.id] < 0], rnd)
                for turn, speaker in enumerate(order):
                    last = yield from self.turn(world, pid, text, rnd, turn, speaker, last, rseq, timing, irng, qrng)
                if cfg.private_messages:
                    yield from self.private_round(world, pid, text, rseq)
                if cfg.update_rule != "argument":
                    for step in range(cfg.network_steps):
                        self.network_step(world, pid, rnd, step, drng)
                world.emit("debate.round_closed", {"proposition": pid, "round": rnd}, witnesses=self.room(), causes=(rseq,))
                self.rounds_done += 1
                if cfg.break_time > 0:
                    yield world.timeout(cfg.break_time)
            yield from self.vote(world, pid, open_seq)
        self.finished = True

    def turn(self, world: World, pid: str, text: str, rnd: int, turn: int, speaker: Agent, last: dict[str, Any] | None,
             rseq: int, timing: np.random.Generator, irng: np.random.Generator, qrng: np.random.Generator):  # type: ignore[no-untyped-def]
        """One speaker's turn: the floor, the argument (maybe cut off or interrupted), reactions."""
        cfg = self.config
        side = self.side[pid][speaker.id]
        addressed = self.room()
        floor = self.say(world, MODERATOR, f"The floor goes to {speaker.persona.name}.", addressed, addressed, (rseq,))
        ctx = {"proposition": text, "proposition_id": pid, "side": side, "round": rnd, "turn": rnd * 100 + turn,
               "opinion": float(self.x[pid][self.index[speaker.id]]),
               "opponent_spoke": last is not None and last["side"] != side,
               "last_argument": None if last is None else {k: last[k] for k in ("speaker", "move", "text")}}
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
        msg = self.say(world, speaker.id, words, addressed, heard, (floor,), proposition=pid, move=act.move)
        mseq = world.emit("debate.move", {"proposition": pid, "speaker": speaker.id, "move": act.move, "side": side,
                                          "strength": strength, "duration": spoke, "cut": cut,
                                          "interrupted_by": inter[0].id if inter else None, "round": rnd},
                          witnesses=heard, agent=speaker.id, causes=(msg,))
        self.strength_total["for" if side > 0 else "against"] += strength
        self.hear_move(pid, speaker.id, act.move, strength, heard, mseq)
        self.react(world, pid, speaker.id, side, heard, mseq)
        if cut and not inter:
            self.say(world, MODERATOR, "Time, thank you.", self.room(), self.room(), (mseq,))
        if inter:
            other, _ = inter
            iseq = world.emit("debate.interrupted", {"proposition": pid, "speaker": speaker.id, "by": other.id, "at": spoke},
                              witnesses=self.room(), agent=other.id, causes=(mseq,))
            oside = self.side[pid][other.id]
            addressed = self.room()
            started = {a: self.epoch[a] for a in addressed}
            yield world.timeout(5.0)
            heard = [a for a in self.room() if started.get(a) == self.epoch[a]]
            words2 = template_text("rebuttal", text, oside, qrng)
            m2 = self.say(world, other.id, words2, addressed, heard, (iseq,), proposition=pid, move="rebuttal")
            s2 = 0.5 * move_strength("rebuttal", other.persona.big_five)
            mv2 = world.emit("debate.move", {"proposition": pid, "speaker": other.id, "move": "rebuttal", "side": oside,
                                             "strength": s2, "duration": 5.0, "cut": False, "interrupted_by": None,
                                             "round": rnd, "interjection": True},
                             witnesses=heard, agent=other.id, causes=(m2,))
            self.strength_total["for" if oside > 0 else "against"] += s2
            self.hear_move(pid, other.id, "rebuttal", s2, heard, mv2)
            self.say(world, MODERATOR, "Please let the speaker finish.", self.room(), self.room(), (mv2,))
        return {"speaker": speaker.id, "move": act.move, "text": words, "side": side}

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

    def private_round(self, world: World, pid: str, text: str, rseq: int):  # type: ignore[no-untyped-def]
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
            seq = self.say(world, d.id, words, [act.to], [d.id, act.to], (rseq,), proposition=pid, private=True)
            s = 0.5 * move_strength("appeal", d.persona.big_five)
            mseq = world.emit("debate.move", {"proposition": pid, "speaker": d.id, "move": "appeal", "side": self.side[pid][d.id],
                                              "strength": s, "duration": 0.0, "cut": False, "interrupted_by": None,
                                              "private": True}, witnesses=[d.id, act.to], agent=d.id, causes=(seq,))
            self.hear_move(pid, d.id, "appeal", s, [act.to], mseq)

    def vote(self, world: World, pid: str, open_seq: int):  # type: ignore[no-untyped-def]
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
        self.say(world, MODERATOR, f"The audience votes {tally['for']} for, {tally['against']} against: "
                 f"the motion is {'carried' if audience_winner == 'for' else 'not carried'}.", self.room(), self.room(), (vseq,))

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.debate.metrics import debate_metrics

        return debate_metrics(log, self.config.consensus_tol)
