"""What an agent may do each turn, and the rule policies: persona, random, honest, deceiver.

Every policy keeps a :class:`Mind`: beliefs built from what the agent perceives alone (events carry no
facts for their witnesses), by the same rule as :mod:`simworld.tom.knowledge`: where each object
is, where it thinks each co-present agent thinks it is, and who openly saw what it learned (to weigh a
claim: a claim is taken in unless the hearer knows something the speaker did not see). Changes are
logged as ``belief.updated``: about the object (key ``container``) and, to order 2, about an agent (key
``<object>.container``), so that the log holds every agent's explicit beliefs with their causes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from simworld.agents.brains import PolicyRegistry
from simworld.scenarios.tom_rooms.events import HALLWAY

from simworld.decisions import DecisionRequest

if TYPE_CHECKING:
    from simworld.agents.beliefs import Beliefs
    from simworld.agents.persona import Persona
    from simworld.memory import Memory

    from simworld.events import WorldEvent

policies = PolicyRegistry("tom_rooms")

DECISION = "tom.act"
Act = Literal["move", "leave", "enter", "tell", "look", "watch", "stop_watching", "wait"]


class RoomAction(BaseModel):
    """One turn: ``move`` an object of this room to ``to`` (a container here); ``leave`` the room;
    ``enter`` room ``to``; ``tell`` about ``object`` that it is in ``claim`` (to ``listener`` alone, or to
    everyone here when None); ``look`` around the room; ``watch`` room ``to`` unseen from the hallway;
    ``stop_watching``; ``wait``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    act: Act
    object: str | None = None
    to: str | None = None
    listener: str | None = None
    claim: str | None = None
    rationale: str = ""


_WAIT = RoomAction(act="wait")


def fact_of(obj: str) -> str:
    """The fact an object's place is logged under."""
    return f"{obj}.container"


class Mind:
    """An agent's model of the rooms, from its own observations (see the module docstring)."""

    def __init__(self, belief_orders: int = 2) -> None:
        self.belief_orders = belief_orders
        self.place = HALLWAY
        self.watching: str | None = None
        self.rooms: dict[str, list[str]] = {}
        self.object_room: dict[str, str] = {}
        self.present: dict[str, set[str]] = {}  # place -> who is there, as far as this agent has seen
        self.first: dict[str, str] = {}  # object -> container
        self.first_src: dict[str, frozenset[str]] = {}  # object -> who openly saw what the belief rests on
        self.second: dict[tuple[str, str], str] = {}  # (agent, object) -> container it thinks the agent thinks
        self.second_src: dict[tuple[str, str], frozenset[str]] = {}

    # -- perceiving ------------------------------------------------------------------------------
    def observe(self, persona: Persona, event: WorldEvent, beliefs: Beliefs, rng: np.random.Generator) -> None:
        kind, d, me = event.kind, event.data, persona.id
        if kind == "tom.scene":
            self.rooms = d["rooms"]
            self.object_room = d["objects"]
            self.present[HALLWAY] = set(d["present"])
        elif kind == "tom.entered":
            if d["who"] == me:
                self.place = d["room"]
                self.watching = None
            self.present[d["room"]] = set(d["present"])
            self.present.setdefault(HALLWAY, set()).discard(d["who"])
        elif kind == "tom.left":
            if d["who"] == me:
                self.place = HALLWAY
            self.present[HALLWAY] = set(d["present"])
            self.present.setdefault(d["room"], set()).discard(d["who"])
        elif kind in ("tom.noticed", "tom.moved"):
            self._saw(me, d["object"], d["container"] if kind == "tom.noticed" else d["to"], d["room"], event, beliefs)
        elif kind == "tom.looked":
            for obj, container in d["seen"].items():
                self._saw(me, obj, container, d["room"], event, beliefs)
        elif kind == "tom.watching" and d["who"] == me:
            self.watching = d["room"]
        elif kind == "tom.stopped_watching" and d["who"] == me:
            self.watching = None
        elif kind == "message.sent" and d.get("claims"):
            self._heard(me, d, event, beliefs)

    def _open(self, place: str) -> frozenset[str]:
        """Who openly witnesses what happens at ``place``, as this agent knows (itself, unless it watches)."""
        return frozenset(self.present.get(place, ()))

    def _saw(self, me: str, obj: str, container: str, room: str, event: WorldEvent, beliefs: Beliefs) -> None:
        seen_by = self._open(room)
        self._first(obj, container, seen_by, 1.0, event, beliefs)
        for other in seen_by:
            if other != me:
                self._second(other, obj, container, seen_by, event, beliefs)

    def _heard(self, me: str, d: dict[str, Any], event: WorldEvent, beliefs: Beliefs) -> None:
        speaker = d["sender"]
        heard_by = frozenset([speaker, *d["audience"]]) if d.get("private") else self._open(d["place"])
        for fact, value in d["claims"].items():
            obj = fact.rsplit(".", 1)[0]
            took = False
            if speaker != me:
                src = self.first_src.get(obj)
                took = src is None or speaker in src
                if took:
                    self._first(obj, value, heard_by, 0.6, event, beliefs)
            for other in heard_by:
                if other == me:
                    continue
                if other == speaker:
                    adopt = took  # a hearer who took the claim in takes the speaker to believe it
                else:
                    src = self.second_src.get((other, obj))
                    adopt = src is None or speaker in src
                if adopt:
                    self._second(other, obj, value, heard_by, event, beliefs)

    def _first(self, obj: str, container: str, src: frozenset[str], confidence: float, event: WorldEvent,
               beliefs: Beliefs) -> None:
        self.first_src[obj] = src
        if self.first.get(obj) != container:
            self.first[obj] = container
            if self.belief_orders >= 1:
                beliefs.update(obj, "container", container, confidence, causes=(event.seq,))

    def _second(self, other: str, obj: str, container: str, src: frozenset[str], event: WorldEvent,
                beliefs: Beliefs) -> None:
        key = (other, obj)
        self.second_src[key] = src
        if self.second.get(key) != container:
            self.second[key] = container
            if self.belief_orders >= 2:
                beliefs.update(other, fact_of(obj), container, 0.8, causes=(event.seq,), item=obj)

    # -- choosing --------------------------------------------------------------------------------
    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> RoomAction:
        raise NotImplementedError(f"{type(self).__name__} must choose an action")

    def options(self, obs: DecisionRequest) -> dict[str, float]:
        """The acts possible now (the context's ``allowed``), each with weight 1; telling needs a belief."""
        return {a: 1.0 for a in obs.context["allowed"] if a != "tell" or self.first}

    def act(self, kind: str, persona: Persona, obs: DecisionRequest, rng: np.random.Generator,
            truthful: float) -> RoomAction:
        c = obs.context
        if kind == "move":
            obj = str(rng.choice(sorted(c["objects"])))
            targets = [x for x in c["containers"] if x != self.first.get(obj)] or list(c["containers"])
            return RoomAction(act="move", object=obj, to=str(rng.choice(targets)))
        if kind == "enter":
            return RoomAction(act="enter", to=str(rng.choice(sorted(c["rooms"]))))
        if kind == "watch":
            return RoomAction(act="watch", to=str(rng.choice(sorted(c["rooms"]))))
        if kind == "look":
            return RoomAction(act="look")
        if kind == "tell":
            return self.tell(persona, obs, rng, truthful)
        if kind == "leave":
            return RoomAction(act="leave")
        if kind == "stop_watching":
            return RoomAction(act="stop_watching")
        return _WAIT

    def tell(self, persona: Persona, obs: DecisionRequest, rng: np.random.Generator, truthful: float) -> RoomAction:
        """Tell someone here about an object: preferably one it thinks believes otherwise (or nothing);
        truthfully with probability ``truthful``, else naming another container of the object's room.
        Introverts whisper to one listener; extraverts tell everyone here."""
        here = sorted(obs.context["here"])
        pairs = [(p, o) for p in here for o in sorted(self.first) if self.second.get((p, o)) != self.first[o]]
        if not pairs:
            pairs = [(p, o) for p in here for o in sorted(self.first)]
        listener, obj = pairs[int(rng.integers(len(pairs)))]
        believed = self.first[obj]
        claim = believed
        if rng.random() >= truthful:
            others = [x for x in self.rooms.get(self.object_room.get(obj, ""), []) if x != believed]
            if others:
                claim = str(rng.choice(others))
        private = rng.random() < 1.0 - 0.6 * persona.big_five.extraversion
        return RoomAction(act="tell", object=obj, claim=claim, listener=listener if private else None)


def _pick(weights: dict[str, float], rng: np.random.Generator) -> str:
    names = sorted(weights)
    w = np.asarray([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


class PersonaPolicy(Mind):
    """Acts as the persona leans: conscientious agents tidy (move), open ones look and peek, extraverts
    talk and roam, anxious ones watch; a tell is truthful with the persona's honesty
    (:func:`simworld.scenarios.tom_rooms.roles.honesty`, given as ``policy_hints["honesty"]``)."""

    honesty_override: float | None = None

    def weights(self, persona: Persona, obs: DecisionRequest) -> dict[str, float]:
        b5 = persona.big_five
        lean = {"move": 0.6 + b5.conscientiousness, "look": 0.3 + b5.openness, "leave": 0.2 + 0.6 * b5.extraversion,
                "enter": 0.6 + b5.extraversion, "tell": 0.2 + 1.2 * b5.extraversion, "watch": 0.1 + b5.neuroticism,
                "stop_watching": 0.4, "wait": 0.3}
        return {k: lean[k] for k in self.options(obs)}

    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> RoomAction:
        truthful = self.honesty_override
        if truthful is None:
            truthful = float(observation.policy_hints.get("honesty", 0.75))
        return self.act(_pick(self.weights(persona, observation), rng), persona, observation, rng, truthful)


class HonestPolicy(PersonaPolicy):
    """The persona policy, never lying."""

    honesty_override = 1.0


class DeceiverPolicy(PersonaPolicy):
    """The persona policy, always lying when it tells."""

    honesty_override = 0.0


class RandomPolicy(Mind):
    """Any possible act, uniformly; a tell is a lie half the time (the baseline)."""

    def __call__(self, persona: Persona, observation: DecisionRequest, memories: Memory, beliefs: Beliefs,
                 rng: np.random.Generator) -> RoomAction:
        return self.act(_pick(self.options(observation), rng), persona, observation, rng, 0.5)


# Classes are registered so that every agent gets its own Mind (policies.get(name)(belief_orders=...)).
policies.register("persona", PersonaPolicy)
policies.register("honest", HonestPolicy)
policies.register("deceiver", DeceiverPolicy)
policies.register("random", RandomPolicy)
