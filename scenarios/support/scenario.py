"""The emotional-support scenario: seekers talk with matched (or randomly assigned) supporters, or
recorded ESConv conversations are replayed through the same events and metrics."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
from simworld.agents import Agent, generate_population, load_personas
from simworld.agents.brain_config import BrainFactory
from simworld.agents.persona import Persona
from simworld.memory import MemoryRole, MemorySystem
from simworld.scenarios.support.config import SupportConfig, SupporterRole
from simworld.scenarios.support.esconv import Conversation, load_esconv
from simworld.scenarios.support.matching import compatibility, match, random_assignment
from simworld.scenarios.support.seeker import (
    FEEDBACK,
    PARTS,
    SEEK,
    Feedback,
    SeekerRole,
    SeekerTurn,
    cue,
    response,
    reveal_threshold,
    sample_seeker_role,
    seeker_policies,
)
from simworld.scenarios.support.strategies import RESPOND, SupportTurn, policies, template_text

from simworld.decisions import DecisionRequest
from simworld.errors import BadInput
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

_TRUTH = ("problem_type", "emotion_type", "intensity", "situation")


class SupportScenario(Scenario):
    """Emotional-support conversations (after ESConv and CharacterChat) with persona seekers and supporters."""

    name = "support"
    description = "Emotional-support conversations with ESConv strategies, persona matching and ESConv replay"
    Config = SupportConfig
    config: SupportConfig

    # -- inputs ---------------------------------------------------------------------------------
    def check(self) -> None:
        cfg = self.config
        self._file_personas: list[Persona] | None = None
        self._conversations: list[Conversation] | None = None
        if cfg.conversations is not None:
            self._conversations = load_esconv(self.resolve_path(cfg.conversations))
        if cfg.personas is not None:
            path = self.resolve_path(cfg.personas)
            people = load_personas(path, roles={"seeker": SeekerRole, "supporter": SupporterRole, "memory": MemoryRole})
            n_sup = sum("supporter" in p.roles for p in people)
            if n_sup == 0 or n_sup == len(people):
                raise BadInput(str(path), "needs personas with roles.supporter and personas with roles.seeker")
            self._file_personas = people

    def _personas(self, world: World) -> tuple[list[Persona], list[Persona]]:
        cfg = self.config
        if self._file_personas is not None:
            sup = [p for p in self._file_personas if "supporter" in p.roles]
            seek = [p for p in self._file_personas if "supporter" not in p.roles]
            return seek[: cfg.n_seekers or len(seek)], sup[: cfg.n_supporters or len(sup)]
        rng = world.rng("scenario:support:roles")
        seek = generate_population(cfg.population, cfg.n_seekers or 6, world.rng("scenario:support:seekers"), "seeker",
                                   lambda p, d, r: {"seeker": sample_seeker_role(rng)})
        sup = generate_population(cfg.population, cfg.n_supporters or 3, world.rng("scenario:support:supporters"),
                                  "supporter", lambda p, d, r: {"supporter": {}})
        return seek, sup

    # -- setup ----------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        if not hasattr(self, "_conversations"):
            self.check()
        cfg = self.config
        self.sessions_done = 0
        brains = BrainFactory(world, cfg)
        memory = MemorySystem(cfg.memory).bind(world)
        if self._conversations is not None:
            seekers = [Persona(id=f"seeker{k:03d}", name=f"Seeker {c.id}") for k, c in enumerate(self._conversations)]
            supporters = [Persona(id=f"supporter{k:03d}", name=f"Supporter {c.id}", roles={"supporter": {}})
                          for k, c in enumerate(self._conversations)]
        else:
            seekers, supporters = self._personas(world)
        kinds = brains.kinds(len(seekers) + len(supporters))
        self.seekers: list[Agent] = []
        self.supporters: list[Agent] = []
        for persona, kind in zip(seekers + supporters, kinds):
            if "supporter" in persona.roles:
                name = persona.role("supporter", SupporterRole).policy or cfg.policy
                agent = Agent(persona, brains.make(kind, policies.create(name), name), memory=memory.stream(persona))
                self.supporters.append(agent)
            else:
                agent = Agent(persona, brains.make(kind, seeker_policies.create("persona"), "persona"),
                              memory=memory.stream(persona))
                self.seekers.append(agent)
            world.add_agent(agent)
        if self._conversations is None:
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
        self.queue: dict[str, list[tuple[Agent, str, float]]] = {a.id: [] for a in self.supporters}
        record: dict[str, Any] = {}
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
                record[seeker.id] = {"supporter": sup.id, "arm": which, "compatibility": fit, "best": best}
        for seeker in self.seekers:
            r = record[seeker.id]
            self.queue[r["supporter"]].append((seeker, r["arm"], r["compatibility"]))
        self.assign_seq = world.log("support.assigned", {"matching": cfg.matching,
                                                         "pairs": {s.id: record[s.id] for s in self.seekers}})

    def processes(self, world: World) -> list[Generator[Any, Any, Any]]:
        if self._conversations is not None:
            return [self.replay(world)]
        return [self.supporter_shift(world, sup) for sup in self.supporters if self.queue[sup.id]]

    def progress(self, world: World) -> tuple[float, float]:
        return (self.sessions_done, len(self.seekers))

    # -- talk -----------------------------------------------------------------------------------
    def say(self, world: World, sender: str, to: str, text: str, causes: tuple[int, ...], **extra: Any) -> int:
        return world.emit("message.sent", {"sender": sender, "audience": [to], "text": text, **extra},
                          witnesses=[sender, to], agent=sender, causes=causes)

    def typing(self, text: str) -> float:
        return round(2.0 + len(text) / self.config.typing_speed, 1)

    def supporter_shift(self, world: World, sup: Agent) -> Generator[Any, Any, None]:
        """A supporter sees its seekers one after another."""
        for seeker, arm, fit in self.queue[sup.id]:
            yield from self.session(world, sup, seeker, arm, fit)
            self.sessions_done += 1

    def session(self, world: World, sup: Agent, seeker: Agent, arm: str, fit: float):  # type: ignore[no-untyped-def]
        cfg = self.config
        role = seeker.persona.role("seeker", SeekerRole)
        b5 = seeker.persona.big_five
        rng = world.rng(f"scenario:support:noise:{seeker.id}")
        sid = f"session:{seeker.id}"
        truth = {"problem_type": role.problem_type, "emotion_type": role.emotion_type, "intensity": role.intensity,
                 "situation": role.situation or f"It is about {role.problem_type}."}
        pair = [seeker.id, sup.id]
        start = world.emit("support.session_started", {"session": sid, "seeker": seeker.id, "supporter": sup.id,
                                                       "arm": arm, "compatibility": fit, **truth},
                           witnesses=pair, hidden=_TRUTH, causes=(self.assign_seq,))
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
            tells = {"emotion_type": f"Honestly, it's {role.emotion_type}.",
                     "problem_type": f"It's about {role.problem_type}.", "situation": truth["situation"]}
            words = " ".join([act.text or f"I feel {said}."] + [tells[p] for p in new_parts])
            yield world.timeout(self.typing(words))
            msg = self.say(world, seeker.id, sup.id, words, (last,), session=sid, cue=said)
            for part in new_parts:
                world.emit("support.disclosed", {"session": sid, "seeker": seeker.id, "part": part, "value": truth[part]},
                           witnesses=pair, agent=seeker.id, causes=(msg,))
            if act.end:
                reason = "resolved" if intensity <= cfg.resolved_at else "seeker_left"
                break
            sctx = {"seeker": seeker.id, "turn": turn, "explore_turns": cfg.explore_turns,
                    "comfort_turns": cfg.comfort_turns, "last_message": words}
            reply: SupportTurn = yield sup.decide(DecisionRequest(RESPOND, SupportTurn, sctx, [msg]))
            text = reply.text or template_text(reply.strategy, None, None, rng)
            yield world.timeout(self.typing(text))
            smsg = self.say(world, sup.id, seeker.id, text, (msg,), session=sid, strategy=reply.strategy)
            sseq = world.emit("support.strategy", {"session": sid, "supporter": sup.id, "seeker": seeker.id,
                                                   "strategy": reply.strategy, "turn": turn},
                              witnesses=pair, agent=sup.id, causes=(smsg,))
            turns = turn + 1
            d_int, d_trust = response(reply.strategy, b5, told, trust, fit)
            new = round(float(np.clip(intensity + d_int + rng.normal(0.0, cfg.noise), 1.0, 5.0)), 6)
            trust = round(float(np.clip(trust + d_trust, 0.0, 1.0)), 6)
            if new != intensity:
                world.emit("support.intensity", {"session": sid, "seeker": seeker.id, "previous": intensity,
                                                 "intensity": new, "level": round(new), "strategy": reply.strategy,
                                                 "trust": trust}, witnesses=[seeker.id], agent=seeker.id, causes=(sseq,))
                intensity = new
            if resolved_turn is None and intensity <= cfg.resolved_at:
                resolved_turn = turns
            last = sseq
        fctx = {"initial_intensity": float(role.intensity), "intensity": intensity, "trust": trust}
        fb: Feedback = yield seeker.decide(DecisionRequest(FEEDBACK, Feedback, fctx, [last]))
        world.emit("support.feedback", {"session": sid, "seeker": seeker.id, "supporter": sup.id, "score": fb.score},
                   witnesses=pair, agent=seeker.id, causes=(last,))
        world.emit("support.session_ended", {
            "session": sid, "seeker": seeker.id, "supporter": sup.id, "arm": arm, "reason": reason, "turns": turns,
            "resolved_turn": resolved_turn, "initial_intensity": float(role.intensity), "final_intensity": intensity,
        }, witnesses=pair, hidden=("initial_intensity", "final_intensity"), causes=(start,))

    # -- replay of recorded conversations -------------------------------------------------------------
    def replay(self, world: World) -> Generator[Any, Any, None]:
        """Each recorded conversation in turn, as the same events a simulated session writes."""
        assert self._conversations is not None
        for seeker, sup, conv in zip(self.seekers, self.supporters, self._conversations):
            sid = f"session:{conv.id}"
            pair = [seeker.id, sup.id]
            for label in conv.unknown_strategies:
                world.log("support.warning", {"session": sid, "problem": f"unknown strategy {label!r} read as Others"})
            start = world.emit("support.session_started", {
                "session": sid, "seeker": seeker.id, "supporter": sup.id, "arm": "recorded", "compatibility": None,
                "problem_type": conv.problem_type, "emotion_type": conv.emotion_type,
                "intensity": conv.initial_intensity, "situation": conv.situation}, witnesses=pair, hidden=_TRUTH)
            last, turns = start, 0
            for k, turn in enumerate(conv.turns):
                yield world.timeout(self.typing(turn.text))
                who, other = (seeker, sup) if turn.speaker == "seeker" else (sup, seeker)
                extra = {"strategy": turn.strategy} if turn.strategy else {}
                last = self.say(world, who.id, other.id, turn.text, (last,), session=sid, **extra)
                if turn.strategy:
                    world.emit("support.strategy", {"session": sid, "supporter": sup.id, "seeker": seeker.id,
                                                    "strategy": turn.strategy, "turn": turns},
                               witnesses=pair, agent=sup.id, causes=(last,))
                    turns += 1
                if turn.feedback is not None:
                    world.emit("support.feedback", {"session": sid, "seeker": seeker.id, "supporter": sup.id,
                                                    "score": turn.feedback, "turn": k},
                               witnesses=pair, agent=seeker.id, causes=(last,))
            resolved = (conv.final_intensity is not None and conv.final_intensity <= self.config.resolved_at)
            world.emit("support.session_ended", {
                "session": sid, "seeker": seeker.id, "supporter": sup.id, "arm": "recorded", "reason": "recorded",
                "turns": turns, "resolved_turn": turns if resolved else None,
                "initial_intensity": conv.initial_intensity, "final_intensity": conv.final_intensity,
            }, witnesses=pair, hidden=("initial_intensity", "final_intensity"), causes=(start,))
            self.sessions_done += 1

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        from simworld.scenarios.support.metrics import support_metrics

        return support_metrics(log)
