"""The knowledge engine: what each agent believes, and believes others believe (to order 4), derived
from the witness sets of a run log.

Facts and claims
    An event states facts as ``data.facts`` (``{"apple.container": "box"}``): reality at time t is the
    value the last such event up to t stated. An event may instead (or also) carry ``data.claims`` of
    the same shape: what was *said* (a tell, ``world.say(..., claims={...})``). A claim changes no
    reality, only the beliefs of those who hear it.

The rule (what a chain believes about a fact at time t)
    A chain ``[c0, c1, ..., cn]`` reads "what c0 believes c1 believes ... cn believes" (order n + 1, at
    most 4). Its value is the one stated by the latest event up to t that the whole chain *shares*:

    1. c0 witnessed it: c0 is among its ``witnesses`` and did not miss it (``agent.perceived`` lists the
       seqs an agent's attention missed; a missed event is not witnessed).
    2. Every later member witnessed it openly: ci is a witness and not in ``data.covert``. Witnesses are
       co-present, each sees the others observe the event (common observation), except the covert ones,
       whom nobody else knows about (a watcher behind a window). So a covert witness is left out of
       every chain where someone else models it, while a covert c0 still knows what the others saw.
    3. Attention misses are private: nobody else knows that ci missed the event, so a miss removes it
       from the chains that start with ci only.
    4. A claim is shared like a fact (rules 1-3), and a hearer takes it in unless the hearer knows
       something the speaker does not: its belief rests on an event it did not see the speaker witness
       openly. Nobody takes in their own claim. So a private tell (``message.sent`` to one listener,
       witnessed by the two) to a listener who was away sets its belief to what was said (a lie makes a
       false belief), while a listener who stayed after the teller left keeps what it saw. Higher orders
       follow the same rule along the chain: the teller expects to be believed (``[teller, listener]``
       rests on events the teller witnessed), and a hearer who took the claim in takes the teller to
       believe it (``[listener, teller]``).
    5. Leaving and entering only change the witness sets of later events: an agent who comes back
       resumes witnessing and learns nothing of what happened while it was away.

    A chain that shares no event about the fact does not know it: its belief is ``None`` (unknown).

Cost: one pass over the log that keeps only the events with facts or claims (witness sets interned),
then per query a backward scan over the events the chain's first member witnessed, indexed lazily per
(fact, agent).
"""

from __future__ import annotations

import os
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from simworld.errors import BadInput
from simworld.runlog import RunLog, load_run

#: The highest order a chain may have (what c0 believes c1 believes c2 believes c3 believes).
MAX_ORDER = 4

#: A chain of agent ids: ``("anne", "sally")`` is what anne believes sally believes.
Chain = tuple[str, ...]

RawEvent = Mapping[str, Any]


class _Fact:
    """Every event about one fact, in log order, as parallel lists (claims included)."""

    __slots__ = ("by_agent", "covert", "missed", "real_seqs", "real_ts", "real_values", "seqs", "speakers", "ts",
                 "values", "wits")

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.ts: list[float] = []
        self.values: list[Any] = []
        self.wits: list[frozenset[str]] = []
        self.covert: list[frozenset[str] | None] = []
        self.missed: list[frozenset[str] | None] = []
        self.speakers: list[str | None] = []  # the speaker of a claim; None for a fact
        self.real_seqs: list[int] = []
        self.real_ts: list[float] = []
        self.real_values: list[Any] = []
        #: agent -> indices of the events it witnessed (built on first use)
        self.by_agent: dict[str, list[int]] = {}

    def witnessed(self, agent: str) -> list[int]:
        got = self.by_agent.get(agent)
        if got is None:
            got = [i for i, (w, m) in enumerate(zip(self.wits, self.missed)) if agent in w and not (m and agent in m)]
            self.by_agent[agent] = got
        return got


@dataclass(frozen=True, slots=True)
class Belief:
    """A chain's belief about a fact: the value and the seq of the event it rests on."""

    chain: Chain
    fact: str
    value: Any
    seq: int


@dataclass(frozen=True, slots=True)
class FalseBelief:
    """A chain whose belief differs from reality at the time asked."""

    chain: Chain
    fact: str
    believed: Any
    actual: Any
    seq: int


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An event that stated a fact (not a claim): when, what, and who witnessed it (misses removed)."""

    seq: int
    t: float
    fact: str
    value: Any
    witnesses: frozenset[str]


class Knowledge:
    """The knowledge engine over one run log (a :class:`RunLog`, a run directory, or raw event dicts).

    ``reality(fact, t)``, ``belief(chain, fact, t)``, ``knows(agent, fact, t)`` and
    ``false_beliefs(t, max_order)`` answer by the rule in this module's docstring; ``t=None`` is the end
    of the log. Unknown agents or facts, an order above 4 and a log without witnesses are
    :class:`BadInput` (one line on the command line, exit 2).
    """

    def __init__(self, log: RunLog | str | os.PathLike[str] | Iterable[RawEvent], source: str | None = None) -> None:
        if isinstance(log, (str, os.PathLike)):
            log = load_run(log)
        if isinstance(log, RunLog):
            self.source = source or str(log.path / "events.jsonl")
            events: Iterable[RawEvent] = log.iter_raw()
        else:
            self.source = source or "log"
            events = log
        self._facts: dict[str, _Fact] = {}
        self.names: dict[str, str] = {}  # agent id -> persona name
        self.personas: dict[str, dict[str, Any]] = {}
        #: What each model-brain agent was told about its persona (``agent.joined``), when the log has it.
        self.persona_texts: dict[str, str] = {}
        self.policies: dict[str, str | None] = {}
        self.end: float = 0.0
        self._read(events)

    # -- reading ---------------------------------------------------------------------------------
    def _read(self, events: Iterable[RawEvent]) -> None:
        facts = self._facts
        sets: dict[tuple[str, ...], frozenset[str]] = {}
        agents: set[str] = set()
        missed: dict[int, list[str]] = {}  # seq -> the agents whose attention missed it
        witnessed_any = False
        t = 0.0
        for e in events:
            t = e["t"]
            wit = e.get("witnesses")
            if wit:
                witnessed_any = True
            data = e.get("data")
            if not data:
                continue
            kind = e["kind"]
            if kind == "agent.joined":
                who = e["agent"]
                persona = data.get("persona") or {}
                self.names[who] = str(persona.get("name") or who)
                self.personas[who] = persona
                self.policies[who] = data.get("policy")
                if isinstance(data.get("persona_text"), str):
                    self.persona_texts[who] = data["persona_text"]
                agents.add(who)
                continue
            if kind == "agent.perceived":
                for s in data.get("missed") or ():
                    missed.setdefault(s, []).append(e["agent"])
                continue
            stated = data.get("facts")
            said = data.get("claims")
            if not stated and not said:
                continue
            key = tuple(wit) if wit else ()
            ws = sets.get(key)
            if ws is None:
                ws = sets[key] = frozenset(key)
                agents.update(key)
            cov = data.get("covert")
            cov_set = frozenset(cov) if cov else None
            seq = e["seq"]
            for claim, mapping in ((False, stated), (True, said)):
                if not mapping:
                    continue
                speaker = (data.get("sender") or e.get("agent") or "") if claim else None
                for name, value in mapping.items():
                    f = facts.get(name)
                    if f is None:
                        f = facts[name] = _Fact()
                    f.seqs.append(seq)
                    f.ts.append(t)
                    f.values.append(value)
                    f.wits.append(ws)
                    f.covert.append(cov_set)
                    f.missed.append(None)
                    f.speakers.append(speaker)
                    if not claim:
                        f.real_seqs.append(seq)
                        f.real_ts.append(t)
                        f.real_values.append(value)
        if missed:  # agent.perceived comes after the event it missed: mark the entries afterwards
            for f in facts.values():
                for i, seq in enumerate(f.seqs):
                    who = missed.get(seq)
                    if who:
                        f.missed[i] = frozenset(who)
        if not witnessed_any:
            raise BadInput(self.source, "no event has witnesses: theory of mind needs to know who perceived what")
        self.end = float(t)
        self.agents: tuple[str, ...] = tuple(sorted(agents))
        self._known = frozenset(self.agents)
        for a in self.agents:
            self.names.setdefault(a, a)

    # -- checking queries ----------------------------------------------------------------------------
    @property
    def facts(self) -> list[str]:
        """Every fact the log states or claims, sorted."""
        return sorted(self._facts)

    def _fact(self, fact: str) -> _Fact:
        f = self._facts.get(fact)
        if f is None:
            known = ", ".join(self.facts[:8]) + (" ..." if len(self._facts) > 8 else "")
            raise BadInput("fact", f"unknown fact {fact!r} (the log states: {known or 'no facts'})")
        return f

    def check_chain(self, chain: str | Sequence[str]) -> Chain:
        """The chain as a tuple, checked: 1 to 4 known agents, no agent next to itself."""
        c = (chain,) if isinstance(chain, str) else tuple(chain)
        if not c:
            raise BadInput("chain", "a belief needs at least one agent")
        if len(c) > MAX_ORDER:
            raise BadInput("chain", f"order {len(c)} is above the highest order, {MAX_ORDER}")
        known = self._known
        for a in c:
            if a not in known:
                listed = ", ".join(self.agents[:8]) + (" ..." if len(self.agents) > 8 else "")
                raise BadInput("chain", f"unknown agent {a!r} (agents: {listed})")
        for a, b in pairwise(c):
            if a == b:
                raise BadInput("chain", f"{a!r} follows itself (what {a} believes {a} believes is what {a} believes)")
        return c

    def _cut(self, ts: list[float], t: float | None) -> int:
        """How many entries lie at or before ``t``."""
        return len(ts) if t is None else bisect_right(ts, t)

    # -- queries -----------------------------------------------------------------------------------
    def reality(self, fact: str, t: float | None = None) -> Any:
        """The true value of ``fact`` at time ``t`` (the end when None); None before it was first stated."""
        f = self._fact(fact)
        n = self._cut(f.real_ts, t)
        return f.real_values[n - 1] if n else None

    def reality_seq(self, fact: str, t: float | None = None) -> int | None:
        """The seq of the event that made ``fact`` what it is at ``t``."""
        f = self._fact(fact)
        n = self._cut(f.real_ts, t)
        return f.real_seqs[n - 1] if n else None

    def initial(self, fact: str) -> Any:
        """The first value the log states for ``fact`` (what it was at the beginning)."""
        f = self._fact(fact)
        return f.real_values[0] if f.real_values else None

    def belief(self, chain: str | Sequence[str], fact: str, t: float | None = None) -> Any:
        """What chain[0] believes (chain[0] believes chain[1] believes, ...) about ``fact`` at ``t``;
        None when the chain never shared an event about it."""
        found = self.belief_of(chain, fact, t)
        return None if found is None else found.value

    def belief_of(self, chain: str | Sequence[str], fact: str, t: float | None = None) -> Belief | None:
        """Like :meth:`belief`, with the seq of the event the belief rests on."""
        c = self.check_chain(chain)
        f = self._fact(fact)
        idx = f.witnessed(c[0])
        hi = bisect_right(idx, self._cut(f.ts, t) - 1)
        i = self._latest(f, c, idx, hi)
        return None if i is None else Belief(c, fact, f.values[i], f.seqs[i])

    @staticmethod
    def _visible(f: _Fact, i: int, chain: Chain) -> bool:
        """Whether every member after the first openly witnessed event ``i`` (rule 2)."""
        w, cov = f.wits[i], f.covert[i]
        for c in chain[1:]:
            if c not in w or (cov is not None and c in cov):
                return False
        return True

    def _latest(self, f: _Fact, chain: Chain, idx: list[int], hi: int) -> int | None:
        """The event the chain's belief rests on, among ``idx[:hi]`` (events chain[0] witnessed)."""
        for j in range(hi - 1, -1, -1):
            i = idx[j]
            if self._visible(f, i, chain):
                # the common case, a fact, settles it; a claim depends on what the chain believed before
                return i if f.speakers[i] is None else self._replay(f, chain, idx, hi)
        return None

    def _replay(self, f: _Fact, chain: Chain, idx: list[int], hi: int) -> int | None:
        """Rule 4 forwards over ``idx[:hi]``, for the chain and each of its prefixes at once: a claim is
        taken in by the prefix's last member unless it is the speaker's own belief, or the member's
        belief rests on an event the speaker did not openly witness (it knows something the speaker
        does not); a member models the speaker as believing the claim when the one before it took it in."""
        n = len(chain)
        rests: list[int | None] = [None] * n  # rests[k]: the event chain[:k + 1]'s belief rests on
        took = [False] * n
        for j in range(hi):
            i = idx[j]
            speaker = f.speakers[i]
            w, cov = f.wits[i], f.covert[i]
            for k in range(n):
                member = chain[k]
                if k and (member not in w or (cov is not None and member in cov)):
                    break  # a member who did not openly witness it: neither it nor longer prefixes count it
                if speaker is None:
                    rests[k] = i
                    continue
                if member == speaker:
                    took[k] = k > 0 and took[k - 1]
                else:
                    prior = rests[k]
                    if prior is None:
                        took[k] = True
                    else:
                        hidden = f.covert[prior]
                        took[k] = speaker in f.wits[prior] and not (hidden is not None and speaker in hidden)
                if took[k]:
                    rests[k] = i
        return rests[-1]

    def knows(self, agent: str, fact: str, t: float | None = None) -> bool:
        """Whether ``agent`` believes the true value of ``fact`` at ``t``."""
        b = self.belief((agent,), fact, t)
        return b is not None and b == self.reality(fact, t)

    def beliefs(self, fact: str, order: int, t: float | None = None, limit: int | None = None,
                rng: random.Random | None = None) -> Iterator[Belief]:
        """Every chain of ``order`` members with a belief about ``fact`` at ``t`` (unknown ones left out).

        Chains are found depth first, extending a chain only by agents who openly witnessed an event it
        shares. With ``limit`` at most that many are given; ``rng`` shuffles the agents at every depth
        so that a limited walk is a seeded sample rather than the alphabetically first chains."""
        if not 1 <= order <= MAX_ORDER:
            raise BadInput("orders", f"order {order} is outside 1..{MAX_ORDER}")
        f = self._fact(fact)
        stop = self._cut(f.ts, t)
        found = 0

        hi0 = 0  # how many events the chain's first member witnessed up to t

        def extend(chain: Chain, shared: list[int]) -> Iterator[Belief]:
            nonlocal found
            if len(chain) == order:
                last = shared[-1] if f.speakers[shared[-1]] is None else self._replay(f, chain, f.witnessed(chain[0]), hi0)
                if last is not None:
                    found += 1
                    yield Belief(chain, fact, f.values[last], f.seqs[last])
                return
            nxt: set[str] = set()
            for i in shared:
                cov = f.covert[i]
                nxt.update(f.wits[i] if cov is None else f.wits[i] - cov)
            nxt.discard(chain[-1])
            members = sorted(nxt)
            if rng is not None:
                rng.shuffle(members)
            for m in members:
                if limit is not None and found >= limit:
                    return
                keep = [i for i in shared if m in f.wits[i] and m not in (f.covert[i] or ())]
                if keep:
                    yield from extend((*chain, m), keep)

        firsts = list(self.agents)
        if rng is not None:
            rng.shuffle(firsts)
        for a in firsts:
            if limit is not None and found >= limit:
                return
            idx = f.witnessed(a)
            hi0 = bisect_right(idx, stop - 1)
            shared = idx[:hi0]
            if shared:
                yield from extend((a,), shared)

    def false_beliefs(self, t: float | None = None, max_order: int = 2) -> list[FalseBelief]:
        """Every chain up to ``max_order`` whose belief (known, not None) differs from reality at ``t``."""
        if not 1 <= max_order <= MAX_ORDER:
            raise BadInput("max_order", f"order {max_order} is outside 1..{MAX_ORDER}")
        out = []
        for fact in self.facts:
            actual = self.reality(fact, t)
            for order in range(1, max_order + 1):
                for b in self.beliefs(fact, order, t):
                    if b.value != actual:
                        out.append(FalseBelief(b.chain, fact, b.value, actual, b.seq))
        return out

    # -- what probes need ----------------------------------------------------------------------------
    def values(self, fact: str) -> list[Any]:
        """Every value ``fact`` took or was claimed to take, in order of first appearance."""
        f = self._fact(fact)
        out: list[Any] = []
        for v in f.values:
            if v not in out:
                out.append(v)
        return out

    def occurrences(self, fact: str, t: float | None = None) -> list[Occurrence]:
        """The events that stated ``fact`` (claims left out) up to ``t``, with who witnessed each."""
        f = self._fact(fact)
        stop = self._cut(f.ts, t)
        out = []
        for i in range(stop):
            if f.speakers[i] is None:
                m = f.missed[i]
                out.append(Occurrence(f.seqs[i], f.ts[i], fact, f.values[i], f.wits[i] - m if m else f.wits[i]))
        return out

    def name(self, agent: str) -> str:
        """The agent's persona name (its id when it never joined)."""
        return self.names.get(agent, agent)
