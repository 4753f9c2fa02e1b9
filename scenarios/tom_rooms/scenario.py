"""tom_rooms: agents, rooms, containers and objects, after ToMi and Hi-ToM but labelled right by construction.

Agents start in the hallway and walk into rooms; those in a room see where its objects are. Then, turn
by turn, one agent (chosen at random) acts: moves an object to another container of its room, looks
around, leaves, enters a room, tells someone here where an object is (in private or to all
here, truthfully or not as its persona leans), watches a room unseen from the hallway, or waits. Every
event names its witnesses (everyone at the place; watchers covertly) and states the facts it makes true,
so :mod:`simworld.analysis.tom` labels every question from the log, and :mod:`.story` tells it as text.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from simworld.agents import Agent, Cast, generate_population, read_personas
from simworld.agents.brain_config import assign_shares
from simworld.agents.brains import Policy
from simworld.agents.persona import Persona
from simworld.scenarios.tom_rooms.config import TomRoomsConfig
from simworld.scenarios.tom_rooms.events import EVENTS, HALLWAY
from simworld.scenarios.tom_rooms.metrics import tom_rooms_metrics
from simworld.scenarios.tom_rooms.policies import DECISION, Mind, RoomAction, fact_of, policies
from simworld.scenarios.tom_rooms.roles import TomRole, honesty

from simworld.decisions import DecisionRequest
from simworld.runlog import RunLog
from simworld.scenario import Scenario
from simworld.world import World

ROOMS = ("kitchen", "garden", "hall", "den", "attic", "cellar", "study", "pantry", "porch", "garage", "bedroom",
         "bathroom", "office", "nursery", "library", "studio")
COLOURS = ("red", "green", "blue", "yellow", "white", "black", "brown", "grey")
CONTAINERS = ("box", "basket", "drawer", "jar", "bag", "crate", "cupboard", "suitcase", "envelope", "bucket",
              "bottle", "chest")
OBJECTS = ("apple", "marble", "ball", "key", "coin", "ring", "book", "cup", "hat", "sock", "pen", "watch", "scarf",
           "lemon", "spoon", "doll")


def names(words: Sequence[str], n: int) -> list[str]:
    """``n`` distinct names from ``words``: the words, then ``word2``, ``word3``, ..."""
    out = []
    for i in range(n):
        word, round_ = words[i % len(words)], i // len(words)
        out.append(word if round_ == 0 else f"{word}{round_ + 1}")
    return out


@dataclass(frozen=True, slots=True)
class TomInputs:
    """What ``check`` read: the persona file's personas (None: generate them)."""

    personas: list[Persona] | None


class TomRoomsScenario(Scenario):
    """Agents, rooms, containers and objects; who saw what, who told whom (ToMi / Hi-ToM, labelled right)."""

    name = "tom_rooms"
    description = "Theory of mind: agents move objects between containers, come and go, tell (or lie), watch unseen"
    Config = TomRoomsConfig
    events = EVENTS
    panel = "tom_rooms"
    config: TomRoomsConfig
    inputs: TomInputs

    def check(self) -> TomInputs:
        cfg = self.config
        if cfg.personas is None:
            return TomInputs(None)
        return TomInputs(read_personas(self.resolve_path(cfg.personas), {"tom": TomRole}, at_least=cfg.n_agents,
                                       n_field="n_agents"))

    # -- setup ------------------------------------------------------------------------------------
    def setup(self, world: World) -> None:
        cfg = self.config
        if self.inputs.personas is not None:
            personas = self.inputs.personas[: cfg.n_agents or len(self.inputs.personas)]
        else:
            personas = generate_population(cfg.population, cfg.n_agents or 3, world.rng("scenario:tom_rooms:population"))
        roles = {p.id: p.role("tom", TomRole) for p in personas}
        assigned = assign_shares(cfg.strategy, len(personas), world.rng("scenario:tom_rooms:assign"))
        default_strategy = {p.id: s for p, s in zip(personas, assigned)}
        self.honesty = {p.id: honesty(p) for p in personas}
        self.minds: dict[str, Mind] = {}

        def policy(persona: Persona) -> tuple[Policy, str]:
            name = roles[persona.id].strategy or default_strategy[persona.id]
            mind: Mind = policies.get(name)(belief_orders=cfg.belief_orders)
            self.minds[persona.id] = mind
            return mind, name

        self.agents = Cast(world, cfg).add_all(personas, policy, brain=lambda p: roles[p.id].brain)
        self.by_id = {a.id: a for a in self.agents}
        rng = world.rng("scenario:tom_rooms:layout")
        rooms = names(ROOMS, cfg.rooms)
        pool = [f"{c} {k}" for k in CONTAINERS for c in COLOURS]
        n = cfg.rooms * cfg.containers
        kinds = [pool[i] for i in rng.permutation(len(pool))[:n]] if n <= len(pool) else names(pool, n)
        self.containers = {r: kinds[i * cfg.containers:(i + 1) * cfg.containers] for i, r in enumerate(rooms)}
        objects = names(OBJECTS, cfg.rooms * cfg.objects)
        self.object_room = {o: rooms[i // cfg.objects] for i, o in enumerate(objects)}
        self.where = {o: self.containers[r][int(rng.integers(cfg.containers))] for o, r in self.object_room.items()}
        self.place = {a.id: HALLWAY for a in self.agents}
        self.watchers: dict[str, list[str]] = {r: [] for r in rooms}
        self.watching: dict[str, str | None] = {a.id: None for a in self.agents}
        self.turns_rng = world.rng("scenario:tom_rooms:turns")
        self.done = 0
        self.last = -1

    def processes(self, world: World) -> list[Generator[Any, Any, None]]:
        return [self.story(world)]

    def progress(self, world: World) -> tuple[float, float]:
        return (self.done, self.config.steps)

    # -- places and witnesses ---------------------------------------------------------------------
    def at(self, place: str) -> list[str]:
        """Who is at ``place`` now, in the room's order."""
        return [a.id for a in self.agents if self.place[a.id] == place]

    def emit(self, world: World, kind: str, data: dict[str, Any], open_: Sequence[str], room: str | None,
             agent: str | None, facts: dict[str, Any] | None = None) -> int:
        """Log an event seen openly by ``open_`` and covertly by the watchers of ``room``."""
        seen = list(dict.fromkeys(open_))
        covert = [w for w in self.watchers.get(room or "", []) if w not in seen]
        self.last = world.emit(kind, data, witnesses=seen + covert, agent=agent, causes=self._causes(),
                               facts=facts, covert=covert)
        return self.last

    def _causes(self) -> tuple[int, ...]:
        return (self.last,) if self.last >= 0 else ()

    # -- the story --------------------------------------------------------------------------------
    def story(self, world: World) -> Generator[Any, Any, None]:
        cfg = self.config
        everyone = [a.id for a in self.agents]
        self.last = world.emit("tom.scene", {"rooms": self.containers, "objects": self.object_room,
                                             "present": everyone}, witnesses=everyone)
        self.last = world.emit("tom.placed", {"objects": dict(self.where)}, causes=(self.last,),
                               facts={fact_of(o): c for o, c in self.where.items()})
        rng = world.rng("scenario:tom_rooms:opening")
        rooms = list(self.containers)
        for who in everyone:
            self.enter(world, who, rooms[int(rng.integers(len(rooms)))])
        for obj, room in self.object_room.items():
            if self.at(room):
                self.emit(world, "tom.noticed", {"object": obj, "container": self.where[obj], "room": room},
                          self.at(room), room, None, {fact_of(obj): self.where[obj]})
        for step in range(cfg.steps):
            yield world.timeout(cfg.step_time)
            actor = self.agents[int(self.turns_rng.integers(len(self.agents)))]
            action = yield actor.decide(self.request(actor))
            self.apply(world, actor, action)
            self.done = step + 1
        self.last = world.log("tom.ended", {"steps": cfg.steps}, causes=self._causes())

    def request(self, agent: Agent) -> DecisionRequest:
        """What the agent sees now and may do."""
        cfg = self.config
        me = agent.id
        place = self.place[me]
        here = [a for a in self.at(place) if a != me]
        in_room = place != HALLWAY
        allowed = ["wait"]
        if in_room:
            allowed += ["leave", "move"] + (["look"] if cfg.looks else [])
        else:
            allowed.append("enter")
            if cfg.watchers:
                allowed.append("stop_watching" if self.watching[me] else "watch")
        if cfg.tells and here:
            allowed.append("tell")
        context = {
            "you": me, "place": place, "here": here, "watching": self.watching[me],
            "rooms": list(self.containers), "containers": self.containers[place] if in_room else [],
            "objects": [o for o, r in self.object_room.items() if r == place], "allowed": sorted(allowed),
        }
        return DecisionRequest(DECISION, RoomAction, context, list(self._causes()), {"honesty": self.honesty[me]})

    def apply(self, world: World, agent: Agent, a: RoomAction) -> None:
        """Carry out an action, or log why it could not be done (a model may ask for the impossible)."""
        me = agent.id
        place = self.place[me]
        why = self.impossible(me, place, a)
        if why is not None:
            self.emit(world, "tom.waited", {"who": me, "reason": why}, [me], None, me)
            return
        if a.act == "wait":
            self.emit(world, "tom.waited", {"who": me}, [me], None, me)
        elif a.act == "move" and a.object is not None and a.to is not None:
            self.where[a.object] = a.to
            self.emit(world, "tom.moved", {"who": me, "object": a.object, "to": a.to, "room": place},
                      self.at(place), place, me, {fact_of(a.object): a.to})
        elif a.act == "look":
            seen = {o: self.where[o] for o, r in self.object_room.items() if r == place}
            self.emit(world, "tom.looked", {"who": me, "room": place, "seen": seen}, self.at(place), place, me,
                      {fact_of(o): c for o, c in seen.items()})
        elif a.act == "leave":
            self.leave(world, me, place)
        elif a.act == "enter" and a.to is not None:
            self.enter(world, me, a.to)
        elif a.act == "watch" and a.to is not None:
            self.watching[me] = a.to
            self.watchers[a.to].append(me)
            self.emit(world, "tom.watching", {"who": me, "room": a.to}, [me], None, me)
        elif a.act == "stop_watching":
            self.stop_watching(world, me)
        elif a.act == "tell" and a.object is not None and a.claim is not None:
            self.tell(world, me, place, a)

    def impossible(self, me: str, place: str, a: RoomAction) -> str | None:
        """Why ``a`` cannot be done now (None: it can)."""
        in_room = place != HALLWAY
        if a.act in ("move", "look", "leave") and not in_room:
            return f"{a.act}: not in a room"
        if a.act in ("enter", "watch", "stop_watching") and in_room:
            return f"{a.act}: not in the hallway"
        if a.act == "move" and (self.object_room.get(a.object or "") != place or a.to not in self.containers[place]):
            return "move: no such object or container here"
        if a.act in ("enter", "watch") and a.to not in self.containers:
            return f"{a.act}: no such room"
        if a.act == "stop_watching" and self.watching[me] is None:
            return "stop_watching: not watching"
        if a.act == "tell":
            here = [x for x in self.at(place) if x != me]
            room = self.object_room.get(a.object or "")
            if not here or room is None or a.claim not in self.containers[room]:
                return "tell: nobody here, or no such object or container"
            if a.listener is not None and a.listener not in here:
                return "tell: the listener is not here"
        return None

    def enter(self, world: World, me: str, room: str) -> None:
        if self.watching[me] is not None:
            self.stop_watching(world, me)
        seen = self.at(HALLWAY)
        self.place[me] = room
        self.emit(world, "tom.entered", {"who": me, "room": room, "present": self.at(room)},
                  seen + self.at(room), room, me, {f"{me}.room": room})

    def leave(self, world: World, me: str, room: str) -> None:
        seen = self.at(room)
        self.place[me] = HALLWAY
        self.emit(world, "tom.left", {"who": me, "room": room, "present": self.at(HALLWAY)},
                  seen + self.at(HALLWAY), room, me, {f"{me}.room": HALLWAY})

    def stop_watching(self, world: World, me: str) -> None:
        room = self.watching[me]
        if room is None:
            return
        self.watching[me] = None
        self.watchers[room].remove(me)
        self.emit(world, "tom.stopped_watching", {"who": me, "room": room}, [me], None, me)

    def tell(self, world: World, me: str, place: str, a: RoomAction) -> None:
        """A tell is a ``message.sent`` whose ``claims`` say where the object is (true or not), to one
        listener in private or to everyone here. Watchers see through a window; they do not hear."""
        assert a.object is not None and a.claim is not None
        audience = [a.listener] if a.listener is not None else [x for x in self.at(place) if x != me]
        self.last = world.say(me, audience, f"The {a.object} is in the {a.claim}.", causes=self._causes(),
                              claims={fact_of(a.object): a.claim}, private=a.listener is not None, place=place)

    # -- metrics ----------------------------------------------------------------------------------
    def metrics(self, log: RunLog) -> dict[str, Any]:
        return tom_rooms_metrics(log)
