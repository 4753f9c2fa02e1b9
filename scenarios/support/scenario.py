"""The emotional-support scenario: seekers talk with matched (or randomly assigned) supporters, or
recorded ESConv conversations are replayed through the same events and metrics."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import simpy
from simworld.agents import Agent, Cast, generate_population, read_personas
from simworld.agents.brains import Policy
from simworld.agents.persona import Persona
from simworld.scenarios.support import events
from simworld.scenarios.support.config import SupportConfig
from simworld.scenarios.support.dynamics import PARTS, cue, response, reveal_threshold
from simworld.scenarios.support.esconv import Conversation, load_esconv
from simworld.scenarios.support.matching import compatibility, match, random_assignment
from simworld.scenarios.support.policies import (
    FEEDBACK,
    RESPOND,
    SEEK,
    Feedback,
    SeekerTurn,
    SupportTurn,
    policies,
    seeker_policies,
    template_text,
)
from simworld.scenarios.support.roles import SeekerRole, SupporterRole, sample_seeker_role

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

T = TypeVar("T")
#: A simpy process of the scenario that returns ``T``.
Process = Generator[simpy.Event, Any, T]


@dataclass(frozen=True)
class SupportInputs:
    """What :meth:`SupportScenario.check` read: seekers and supporters from the persona file (None:
    generated at setup) and the recorded conversations to replay (None: simulate)."""

    seekers: list[Persona] | None
    supporters: list[Persona] | None
    conversations: list[Conversation] | None


@dataclass(frozen=True)
class Assignment:
    """A seeker's supporter, its arm, and their compatibility."""

    seeker: Agent
    arm: str
    fit: float


class SupportScenario(Scenario):
    """Emotional-support conversations (after ESConv and CharacterChat) with persona seekers and supporters."""

    name = "support"
    description = "Emotional-support conversations with ESConv strategies, persona matching and ESConv replay"
    Config = SupportConfig
    events = events.EVENTS
    panel = "support"
    config: SupportConfig
    inputs: SupportInputs

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> SupportInputs:
        cfg = self.config
        conversations = load_esconv(self.resolve_path(cfg.conversations)) if cfg.conversations is not None else None
        seekers: list[Persona] | None = None
        supporters: list[Persona] | None = None
        if cfg.personas is not None:
            path = self.resolve_path(cfg.personas)
            people = read_personas(path, {"seeker": SeekerRole, "supporter": SupporterRole})
            supporters = [p for p in people if "supporter" in p.roles]
            seekers = [p for p in people if "supporter" not in p.roles]
            if not supporters or not seekers:
                raise BadInput(str(path), "needs personas with roles.supporter and personas with roles.seeker")
            seekers, supporters = seekers[: cfg.n_seekers or len(seekers)], supporters[: cfg.n_supporters or len(supporters)]
        return SupportInputs(seekers, supporters, conversations)

    def participants(self, world: World) -> tuple[list[Persona], list[Persona]]:
        """The seekers and supporters: one pair per recorded conversation, from the persona file, or generated."""
        convs = self.inputs.conversations
        if convs is not None:
            return ([Persona(id=f"seeker{k:03d}", name=f"Seeker {c.id}") for k, c in enumerate(convs)],
                    [Persona(id=f"supporter{k:03d}", name=f"Supporter {c.id}", roles={"supporter": {}})
                     for k, c in enumerate(convs)])
        if self.inputs.seekers is not None and self.inputs.supporters is not None:
            return self.inputs.seekers, self.inputs.supporters
        cfg = self.config
        rng = world.rng("scenario:support:roles")
        seek = generate_population(cfg.population, cfg.n_seekers or 6, world.rng("scenario:support:seekers"), "seeker",
                                   lambda p, d, r: {"seeker": sample_seeker_role(rng)})
        sup = generate_population(cfg.population, cfg.n_supporters or 3, world.rng("scenario:support:supporters"),
                                  "supporter", lambda p, d, r: {"supporter": {}})
        return seek, sup

    def policy_of(self, persona: Persona) -> tuple[Policy, str]:
        """A supporter's rule policy (its role's, else the config's); the seekers' rule policy."""
        if "supporter" in persona.roles:
            name = persona.role("supporter", SupporterRole).policy or self.config.policy
            return policies.create(name), name
        return seeker_policies.create("persona"), "persona"

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        self.sessions_done = 0
        seekers, supporters = self.participants(world)
        agents = Cast(world, self.config).add_all(seekers + supporters, policy=self.policy_of)
        self.seekers: list[Agent] = agents[: len(seekers)]
        self.supporters: list[Agent] = agents[len(seekers):]
        self.queue: dict[str, list[Assignment]] = {a.id: [] for a in self.supporters}
        if self.inputs.conversations is None:
            self._assign(world)

    def _assign(self, world: World) -> None:
        """Split seekers into arms (``compare``: half matched, half random) and assign supporters."""
        cfg = self.config
        rng = world.rng("scenario:support:assign")
        n = len(self.seekers)
        if cfg.matching == "compare":
            order = rng.permutation(n)
            arm = {int(i): ("matched" if k % 2 == 0 else "random") for k, i in enumerate(order)}
        else:
            arm = {i: ("matched" if cfg.matching == "compatibility" else "random") for i in range(n)}
        sups = [a.persona for a in self.supporters]
        picks: dict[str, tuple[Agent, Assignment, float]] = {}  # seeker -> (supporter, assignment, best fit)
        for which in ("matched", "random"):
            idx = [i for i in range(n) if arm[i] == which]
            if not idx:
                continue
            capacity = cfg.capacity or len(idx)
            if capacity * len(sups) < len(idx):
                capacity = math.ceil(len(idx) / len(sups))
            if which == "matched":
                chosen = match([self.seekers[i].persona for i in idx], sups, capacity)
            else:
                chosen = random_assignment(len(idx), len(sups), capacity, rng)
            for i, j in zip(idx, chosen):
                seeker, sup = self.seekers[i], self.supporters[j]
                fit = compatibility(seeker.persona, sup.persona)
                best = max(compatibility(seeker.persona, p) for p in sups)
                picks[seeker.id] = (sup, Assignment(seeker, which, fit), best)
        pairs = {}
        for seeker in self.seekers:
            sup, assignment, best = picks[seeker.id]
            self.queue[sup.id].append(assignment)
            pairs[seeker.id] = {"supporter": sup.id, "arm": assignment.arm, "compatibility": assignment.fit, "best": best}
        self.assign_seq = world.log("support.assigned", {"matching": cfg.matching, "pairs": pairs})

    def processes(self, world: World) -> list[Process[None]]:
        if self.inputs.conversations is not None:
            return [self.replay(world, self.inputs.conversations)]
        return [self.supporter_shift(world, sup) for sup in self.supporters if self.queue[sup.id]]

    def progress(self, world: World) -> tuple[float, float]:
        return (self.sessions_done, len(self.seekers))

    # -- talk -----------------------------------------------------------------------------------
    def typing(self, text: str) -> float:
        return round(2.0 + len(text) / self.config.typing_speed, 1)

    def supporter_shift(self, world: World, sup: Agent) -> Process[None]:
        """A supporter sees its seekers one after another."""
        for a in self.queue[sup.id]:
            yield from self.session(world, sup, a.seeker, a.arm, a.fit)
            self.sessions_done += 1

    def session(self, world: World, sup: Agent, seeker: Agent, arm: str, fit: float) -> Process[None]:
        cfg = self.config
        role = seeker.persona.role("seeker", SeekerRole)
        b5 = seeker.persona.big_five
        rng = world.rng(f"scenario:support:noise:{seeker.id}")
        sid = f"session:{seeker.id}"
        tells = {"emotion_type": f"Honestly, it's {role.emotion_type}.", "problem_type": f"It's about {role.problem_type}.",
                 "situation": role.told_situation()}
        truth = {"emotion_type": role.emotion_type, "problem_type": role.problem_type, "situation": role.told_situation()}
        pair = [seeker.id, sup.id]
        start = world.emit("support.session_started",
                           events.session_started(sid, seeker.id, sup.id, arm, fit, role.problem_type, role.emotion_type,
                                                  role.intensity, role.told_situation()),
                           witnesses=pair, hidden=events.TRUTH, causes=(self.assign_seq,))
        # The seeker's own state, facts only it witnesses (the supporter learns what is disclosed).
        state = events.seeker_state(sid, seeker.id, role.problem_type, role.emotion_type, float(role.intensity),
                                    role.told_situation())
        world.emit("support.seeker_state", state, witnesses=[seeker.id], causes=(start,),
                   facts=events.seeker_facts(state))
        intensity, trust, told = float(role.intensity), 0.0, 0
        reason, resolved_turn, last, turns = "time", None, start, 0
        for turn in range(cfg.max_turns):
            said = cue(intensity, b5, rng)
            ctx = {"turn": turn, "intensity": intensity, "initial_intensity": float(role.intensity), "trust": trust,
                   "resolved_at": cfg.resolved_at, "cue": said,
                   "feeling": role.emotion_type if told >= 1 else "low", "problem_type": role.problem_type}
            act: SeekerTurn = yield seeker.decide(DecisionRequest(SEEK, SeekerTurn, ctx, [last]))
            new_parts = []
            while told < len(PARTS) and trust >= reveal_threshold(told, b5) and not act.end:
                new_parts.append(PARTS[told])
                told += 1
            words = " ".join([act.text or f"I feel {said}."] + [tells[p] for p in new_parts])
            yield world.timeout(self.typing(words))
            msg = world.say(seeker.id, [sup.id], words, causes=(last,), session=sid, cue=said)
            for part in new_parts:  # said, so a claim: the supporter believes it, each knows the other heard it
                world.emit("support.disclosed", events.disclosed(sid, seeker.id, part, truth[part]),
                           witnesses=pair, agent=seeker.id, causes=(msg,), hidden=events.CLAIMS)
            if act.end:
                reason = "resolved" if intensity <= cfg.resolved_at else "seeker_left"
                break
            sctx = {"seeker": seeker.id, "turn": turn, "explore_turns": cfg.explore_turns,
                    "comfort_turns": cfg.comfort_turns, "last_message": words}
            reply: SupportTurn = yield sup.decide(DecisionRequest(RESPOND, SupportTurn, sctx, [msg]))
            text = reply.text or template_text(reply.strategy, None, None, rng)
            yield world.timeout(self.typing(text))
            smsg = world.say(sup.id, [seeker.id], text, causes=(msg,), session=sid, strategy=reply.strategy)
            sseq = world.emit("support.strategy", events.strategy_used(sid, sup.id, seeker.id, reply.strategy, turn),
                              witnesses=pair, agent=sup.id, causes=(smsg,))
            turns = turn + 1
            d_int, d_trust = response(reply.strategy, b5, told, trust, fit)
            new = round(float(np.clip(intensity + d_int + rng.normal(0.0, cfg.noise), 1.0, 5.0)), 6)
            trust = round(float(np.clip(trust + d_trust, 0.0, 1.0)), 6)
            if new != intensity:
                world.emit("support.intensity", {"session": sid, "seeker": seeker.id, "previous": intensity,
                                                 "intensity": new, "level": round(new), "strategy": reply.strategy,
                                                 "trust": trust},
                           witnesses=[seeker.id], agent=seeker.id, causes=(sseq,),
                           facts={events.seeker_fact(seeker.id, "intensity"): new})
                intensity = new
            if resolved_turn is None and intensity <= cfg.resolved_at:
                resolved_turn = turns
            last = sseq
        fctx = {"initial_intensity": float(role.intensity), "intensity": intensity, "trust": trust}
        fb: Feedback = yield seeker.decide(DecisionRequest(FEEDBACK, Feedback, fctx, [last]))
        world.emit("support.feedback", events.feedback(sid, seeker.id, sup.id, fb.score),
                   witnesses=pair, agent=seeker.id, causes=(last,))
        world.emit("support.session_ended",
                   events.session_ended(sid, seeker.id, sup.id, arm, reason, turns, resolved_turn,
                                        float(role.intensity), intensity),
                   witnesses=pair, hidden=events.OUTCOME, causes=(start,))

    # -- replay of recorded conversations -------------------------------------------------------------
    def replay(self, world: World, conversations: list[Conversation]) -> Process[None]:
        """Each recorded conversation in turn, as the same events a simulated session writes."""
        for seeker, sup, conv in zip(self.seekers, self.supporters, conversations):
            sid = f"session:{conv.id}"
            pair = [seeker.id, sup.id]
            for label in conv.unknown_strategies:
                world.log("support.warning", {"session": sid, "problem": f"unknown strategy {label!r} read as Others"})
            start = world.emit("support.session_started",
                               events.session_started(sid, seeker.id, sup.id, "recorded", None, conv.problem_type,
                                                      conv.emotion_type, conv.initial_intensity, conv.situation),
                               witnesses=pair, hidden=events.TRUTH)
            state = events.seeker_state(sid, seeker.id, conv.problem_type, conv.emotion_type, conv.initial_intensity,
                                        conv.situation)
            world.emit("support.seeker_state", state, witnesses=[seeker.id], causes=(start,),
                       facts=events.seeker_facts(state))
            last, turns = start, 0
            for k, turn in enumerate(conv.turns):
                yield world.timeout(self.typing(turn.text))
                who, other = (seeker, sup) if turn.speaker == "seeker" else (sup, seeker)
                labels = {"strategy": turn.strategy} if turn.strategy else {}
                last = world.say(who.id, [other.id], turn.text, causes=(last,), session=sid, **labels)
                if turn.strategy:
                    world.emit("support.strategy", events.strategy_used(sid, sup.id, seeker.id, turn.strategy, turns),
                               witnesses=pair, agent=sup.id, causes=(last,))
                    turns += 1
                if turn.feedback is not None:
                    world.emit("support.feedback", events.feedback(sid, seeker.id, sup.id, turn.feedback, turn=k),
                               witnesses=pair, agent=seeker.id, causes=(last,))
            resolved = conv.final_intensity is not None and conv.final_intensity <= self.config.resolved_at
            world.emit("support.session_ended",
                       events.session_ended(sid, seeker.id, sup.id, "recorded", "recorded", turns,
                                            turns if resolved else None, conv.initial_intensity, conv.final_intensity),
                       witnesses=pair, hidden=events.OUTCOME, causes=(start,))
            self.sessions_done += 1

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.support.metrics import support_metrics

        return support_metrics(log)
