"""What an agent believes about each fact at a point of the run, next to reality: the knowledge view.

The server answers ``/api/knowledge`` from one :class:`simworld.tom.Knowledge` per run, built on first
use (:meth:`RunView.knowledge`) from the events that state facts or claims (found by a byte search of the
log, so a run without facts answers at once), ``agent.joined`` and ``agent.perceived``. The cursor is a
row of the log: the engine is given each event's row as its time, so an answer "at seq S" holds every
event up to S and none after it, also among the many events a scenario logs at one simulated time.

The answer (:meth:`RunKnowledge.answer`, the contract of ``/api/knowledge``):

- ``run_facts``: how many facts the whole run states or claims (0: the run has none, the view hides);
- ``seq``: the event the answer stands at (null before the first);
- ``stated``: the facts stated or claimed up to the cursor whose name contains ``fact`` (all when not
  given); ``scanned``: how many of them were looked at (at most ``MAX_SCAN``, in name order);
  ``false`` and ``unknown``: the agent's false and unknown beliefs among those;
- ``total``: the facts left after ``only`` (``false``, ``unknown`` or ``known``), of which ``facts`` is
  the page ``offset`` .. ``offset + limit`` (``limit`` at most ``MAX_LIMIT``), in name order;
- ``about``: the agents whose beliefs the agent's second-order beliefs are about (``about=B,C``, at
  most ``MAX_ABOUT``; by default the first ``MAX_ABOUT`` other agents; none with ``second=0``);
  ``others``: how many other agents there are;
- each fact: ``fact``, ``reality`` and ``reality_seq`` (the value at the cursor and the event that made
  it so; null before it is first stated), ``belief`` and ``seq`` (the agent's belief and the event it
  rests on; null: unknown), ``false`` (the belief is known and differs from reality, as in
  :meth:`Knowledge.false_beliefs`; values compare as JSON), and ``second``: per agent B of ``about``,
  what the agent believes B believes (``belief``, ``seq``, ``false``) and what B believes (``theirs``);
- ``note``: why there is nothing to show (no witnesses, an agent the log never names), else null.

An exported page has no server: :func:`knowledge_timelines` computes ahead, per agent and fact, the
points where its belief (and reality) change, which ``LocalApi.knowledge`` in ``static/js/api.js``
evaluates at the cursor. It is bounded by ``EXPORT_BUDGET`` engine queries: past that, second-order
beliefs (then all beliefs) are left out of the page with a note.
"""

from __future__ import annotations

import gc
import mmap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from simworld.errors import BadInput
from simworld.tom import Knowledge
from simworld.viewer.index import QueryError, RunIndex, int_param

if TYPE_CHECKING:
    from simworld.viewer.run import RunView

#: The most facts one answer lists, and the default.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
#: The most agents one answer gives second-order beliefs about.
MAX_ABOUT = 8
#: The most facts one answer evaluates (for its counts and the ``only`` filter): narrow with ``fact``.
MAX_SCAN = 5000
#: The most engine queries an exported page's timelines may take.
EXPORT_BUDGET = 400_000
ONLY = ("false", "unknown", "known")
#: Keys whose presence marks a line that may state facts or claims (a cheap pre-filter; parsing decides).
_MARKERS = (b'"facts"', b'"claims"')


@dataclass(frozen=True)
class KnowledgeQuery:
    """The parameters of ``/api/knowledge`` (see the module docstring)."""

    agent: str
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    about: tuple[str, ...] | None = None  # None: the default others
    second: bool = True
    only: str | None = None
    match: str = ""

    @classmethod
    def parse(cls, params: dict[str, str]) -> KnowledgeQuery:
        agent = params.get("agent")
        if not agent:
            raise QueryError("agent is required")
        limit = int_param(params, "limit")
        only = params.get("only") or None
        if only is not None and only not in ONLY:
            raise QueryError("only must be false, unknown or known")
        second = params.get("second", "1")
        if second not in ("0", "1"):
            raise QueryError("second must be 0 or 1")
        about = None
        raw = params.get("about")
        if raw and raw != "*":
            about = tuple(dict.fromkeys(a for a in raw.split(",") if a))
            if len(about) > MAX_ABOUT:
                raise QueryError(f"about names at most {MAX_ABOUT} agents")
        return cls(
            agent=agent,
            offset=max(0, int_param(params, "offset") or 0),
            limit=min(MAX_LIMIT, max(0, DEFAULT_LIMIT if limit is None else limit)),
            about=about,
            second=second == "1",
            only=only,
            match=params.get("fact", ""),
        )


def same(a: Any, b: Any) -> bool:
    """Whether two logged values are the same JSON value (``1`` and ``True`` are not)."""
    if type(a) is str and type(b) is str:
        return a == b
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)


def is_false(belief: Any, reality: Any) -> bool:
    """A known belief that differs from reality (reality may be unknown, as in ``false_beliefs``)."""
    return belief is not None and not same(belief, reality)


def fact_rows(index: RunIndex) -> np.ndarray:
    """Rows whose line holds a ``"facts"`` or ``"claims"`` key (or such a string: parsing decides)."""
    if index.n == 0 or index.size == 0:
        return np.empty(0, np.int64)
    hits: list[int] = []
    with open(index.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for marker in _MARKERS:
            pos = mm.find(marker)
            while pos != -1:
                hits.append(pos)
                end = mm.find(b"\n", pos)
                if end == -1:
                    break
                pos = mm.find(marker, end)
    if not hits:
        return np.empty(0, np.int64)
    offsets, lengths = index.cols.offsets, index.cols.lengths
    at = np.asarray(hits, np.int64)
    rows = np.searchsorted(offsets, at, "right") - 1
    inside = rows >= 0
    rows, at = rows[inside], at[inside]
    rows = rows[at < offsets[rows] + lengths[rows]]  # not in a corrupt line the index skipped
    return np.unique(rows)


def _strings(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def _engine_event(ev: dict[str, Any], row: int) -> dict[str, Any] | None:
    """The event as the engine reads it, with its row as its time; None when it tells the engine nothing.
    (A log line's parts may be anything: only the shapes the engine expects are passed on.)"""
    data = ev.get("data")
    if not isinstance(data, dict):
        return None
    kind, agent = ev["kind"], ev.get("agent")
    out: dict[str, Any] = {"seq": ev["seq"], "t": float(row), "kind": kind, "agent": agent,
                           "witnesses": ev.get("witnesses") or []}
    if kind == "agent.joined":
        if not isinstance(agent, str):
            return None
        persona = data.get("persona")
        policy = data.get("policy")
        out["data"] = {"persona": persona if isinstance(persona, dict) else {},
                       "policy": policy if isinstance(policy, str) else None}
    elif kind == "agent.perceived":
        missed = data.get("missed")
        if not isinstance(agent, str) or not isinstance(missed, list):
            return None
        out["data"] = {"missed": [m for m in missed if type(m) is int]}
    else:
        facts, claims = data.get("facts"), data.get("claims")
        d: dict[str, Any] = {}
        if isinstance(facts, dict) and facts:
            d["facts"] = facts
        if isinstance(claims, dict) and claims:
            d["claims"] = claims
            if isinstance(data.get("sender"), str):
                d["sender"] = data["sender"]
        if not d:
            return None
        covert = _strings(data.get("covert"))
        if covert:
            d["covert"] = covert
        out["data"] = d
    return out


class RunKnowledge:
    """The knowledge engine over one run, with rows as times, and what the view asks of it."""

    def __init__(self, index: RunIndex) -> None:
        self.index = index
        self.engine: Knowledge | None = None
        self.note: str | None = None
        #: fact -> the first row that states or claims it
        self.first_row: dict[str, int] = {}
        self.rows = fact_rows(index)
        self._known: frozenset[str] = frozenset()
        if not len(self.rows):
            self.facts: list[str] = []
            return
        rows = np.union1d(self.rows, np.union1d(index.rows_of_kind("agent.joined"), index.rows_of_kind("agent.perceived")))
        gc_was_on = gc.isenabled()
        gc.disable()  # many small containers that all live on: collections would only walk them again (5x)
        try:
            events = list(self._events(rows))
            for e in events:
                for key in ("facts", "claims"):
                    for name in e["data"].get(key) or ():
                        self.first_row.setdefault(name, int(e["t"]))
            if self.first_row:
                try:
                    self.engine = Knowledge(events, source=str(index.path))
                except BadInput as err:
                    self.note = err.problem
        finally:
            if gc_was_on:
                gc.enable()
        self.facts = sorted(self.first_row) if self.engine is not None else []
        self._known = frozenset(self.agents)

    def _events(self, rows: np.ndarray) -> Iterator[dict[str, Any]]:
        for row, ev in zip(rows.tolist(), self.index.events(rows)):
            got = _engine_event(ev, row)
            if got is not None:
                yield got

    @property
    def agents(self) -> tuple[str, ...]:
        return self.engine.agents if self.engine is not None else ()

    def default_about(self, agent: str) -> list[str]:
        """The agents second-order beliefs are about unless the query names them."""
        return [a for a in self.agents if a != agent][:MAX_ABOUT]

    def belief(self, chain: Sequence[str], fact: str, row: int) -> tuple[Any, int | None]:
        """(value, seq of the event it rests on) of the chain's belief at ``row``; (None, None): unknown."""
        assert self.engine is not None
        known = self._known
        if any(a not in known for a in chain):  # an agent the facts never name believes nothing
            return None, None
        got = self.engine.belief_of(chain, fact, float(row))
        return (None, None) if got is None else (got.value, got.seq)

    def answer(self, q: KnowledgeQuery, row: int, seq: int | None) -> dict[str, Any]:
        """The answer at row ``row`` (the event ``seq``): see the module docstring."""
        out: dict[str, Any] = {"agent": q.agent, "seq": seq, "run_facts": len(self.facts), "stated": 0, "scanned": 0,
                               "false": 0, "unknown": 0, "total": 0, "offset": q.offset, "limit": q.limit,
                               "about": [], "others": 0, "facts": [], "note": self.note}
        engine = self.engine
        if engine is None:
            return out
        needle = q.match.lower()
        stated = [f for f in self.facts if self.first_row[f] <= row and needle in f.lower()]
        known = q.agent in self._known
        if not known and self.note is None:
            out["note"] = f"{q.agent} witnessed no event that states a fact: it believes nothing"
        about = (list(q.about) if q.about is not None else self.default_about(q.agent)) if q.second else []
        others = len(engine.agents) - (1 if known else 0)
        out.update(stated=len(stated), scanned=min(len(stated), MAX_SCAN), about=about, others=others)
        rows: list[dict[str, Any]] = []
        for fact in stated[:MAX_SCAN]:
            reality = engine.reality(fact, float(row))
            belief, rests = self.belief((q.agent,), fact, row)
            false = is_false(belief, reality)
            out["false"] += false
            out["unknown"] += belief is None
            if not _wanted(q.only, belief, false):
                continue
            rows.append({"fact": fact, "reality": reality, "reality_seq": engine.reality_seq(fact, float(row)),
                         "belief": belief, "seq": rests, "false": false})
        out["total"] = len(rows)
        page = rows[q.offset : q.offset + q.limit]
        for item in page:
            item["second"] = [self._second(q.agent, b, item["fact"], item["reality"], row) for b in about]
        out["facts"] = page
        return out

    def _second(self, agent: str, other: str, fact: str, reality: Any, row: int) -> dict[str, Any]:
        if other == agent:
            belief, rests = None, None  # what A believes A believes is what A believes: not a second order
        else:
            belief, rests = self.belief((agent, other), fact, row)
        theirs, _ = self.belief((other,), fact, row)
        return {"about": other, "belief": belief, "seq": rests, "false": is_false(belief, reality), "theirs": theirs}


def _wanted(only: str | None, belief: Any, false: bool) -> bool:
    """Whether a fact passes the ``only`` filter."""
    if only == "false":
        return false
    if only == "unknown":
        return belief is None
    if only == "known":
        return belief is not None
    return True


# -- the exported page ---------------------------------------------------------------------------------
class _Values:
    """Distinct values, shared by every timeline of the page (compared as JSON, like :func:`same`)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[bytes, int] = {}

    def add(self, value: Any) -> int | None:
        if value is None:
            return None
        key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self.values)
            self.values.append(value)
        return i


def _changes(points: Iterable[tuple[int, int | None, int | None]]) -> list[list[int | None]]:
    """``[row, value, seq]`` where (value, seq) differs from the point before (the first: from unknown)."""
    out: list[list[int | None]] = []
    last: tuple[int | None, int | None] = (None, None)
    for row, value, seq in points:
        if (value, seq) != last:
            out.append([row, value, seq])
            last = (value, seq)
    return out


def knowledge_timelines(view: RunView) -> dict[str, Any]:
    """What the exported page's knowledge view needs, per fact and agent (see the module docstring):

    ``facts`` (sorted) with their ``first`` rows; ``values``; ``reality[i]``: the change points of fact
    ``facts[i]``; ``agents``; ``beliefs[agent][i]`` and ``second[agent][other][i]``: the change points of
    the agent's belief (and of what it believes ``other`` believes) about fact ``i``, for the others in
    ``about[agent]`` (the server's default). A change point is ``[row, value index or null, seq or null]``;
    a fact missing from a timeline is unknown throughout.
    """
    rk = view.knowledge()
    engine = rk.engine
    out: dict[str, Any] = {"run_facts": len(rk.facts), "note": rk.note, "facts": rk.facts,
                           "first": [rk.first_row[f] for f in rk.facts], "values": [], "reality": [], "agents": [],
                           "beliefs": {}, "about": {}, "second": {}, "second_note": None}
    if engine is None:
        return out
    fact_no = {f: i for i, f in enumerate(rk.facts)}
    # the rows each agent witnessed, per fact: a chain's belief can change only there
    seen: dict[str, dict[int, list[int]]] = {a: {} for a in engine.agents}
    for e in rk._events(rk.rows):
        names = {*(e["data"].get("facts") or ()), *(e["data"].get("claims") or ())}
        row = int(e["t"])
        for who in dict.fromkeys(e["witnesses"]):
            mine = seen.get(who)
            if mine is None:
                continue
            for name in names:
                mine.setdefault(fact_no[name], []).append(row)
    about = {a: rk.default_about(a) for a in engine.agents}
    first_work = sum(len(rows) for mine in seen.values() for rows in mine.values())
    second_work = sum(len(rows) * len(about[a]) for a, mine in seen.items() for rows in mine.values())
    values = _Values()
    out["reality"] = [
        _changes((int(o.t), values.add(o.value), o.seq) for o in engine.occurrences(f)) for f in rk.facts
    ]
    out["agents"] = list(engine.agents)
    if first_work > EXPORT_BUDGET:
        out["note"] = (f"this run has too many beliefs to export ({first_work:,} events witnessed about facts); "
                       "use simworld replay for the knowledge view")
        out["values"] = values.values
        return out

    def timeline(chain: tuple[str, ...], fact: str, rows: list[int]) -> list[list[int | None]]:
        points = []
        for row in rows:
            value, rests = rk.belief(chain, fact, row)
            points.append((row, values.add(value), rests))
        return _changes(points)

    for a, mine in seen.items():
        out["beliefs"][a] = {str(i): timeline((a,), rk.facts[i], rows) for i, rows in mine.items()}
    if first_work + second_work > EXPORT_BUDGET:
        out["second_note"] = "second-order beliefs are not in this exported page (too many); use simworld replay"
    else:
        out["about"] = about
        for a, mine in seen.items():
            out["second"][a] = {b: {str(i): timeline((a, b), rk.facts[i], rows) for i, rows in mine.items()}
                                for b in about[a]}
    out["values"] = values.values
    return out
