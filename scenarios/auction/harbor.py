"""The ``preset: harbor`` of the auction: bidder and house files in the shape of HARBOR's own pools
(``bidder_pool.jsonl``, ``house_pool.jsonl``) load as they are, and bidders form typed beliefs about each
rival's budget and top priority.

What the preset reads (a field the record already has in simworld's shape, e.g. through a config ``map``,
is never overwritten; every other field of the record is kept as an extra field):

==========================  ==========================================================================
HARBOR bidder field          simworld
==========================  ==========================================================================
``name`` ("Bidder 0")        ``id``: the name with each run of characters an id cannot hold as ``_``
                             ("Bidder_0"); ``name`` stays the name
``persona`` (free text)      ``description`` (what model bidders are told; moved, not copied)
``budget``                   ``roles.bidder.budget``
``overestimate_percent``     ``roles.bidder.overestimate`` = percent / 100
``is_profiler``              ``roles.bidder.strategy`` = ``profiler`` when true (else the config's)
``trait``                    ``roles.bidder.priority`` (the top priority category) and
                             ``roles.bidder.priorities`` = {trait: 1.0}: other categories weigh 0
==========================  ==========================================================================

==========================  ==========================================================================
HARBOR house field           simworld
==========================  ==========================================================================
``name`` ("Home 1")          ``id`` ("Home_1", as above); ``name`` stays
``id`` (a category number)   ``category_id`` (HARBOR's ``id`` is shared by the houses of a category)
``price``                    ``starting_price``
``desc``                     ``description``
``trait``                    ``category``
``true_value``               ``true_value`` (as is)
==========================  ==========================================================================

A house's private value to a bidder follows the weight of its category in the bidder's priorities
(:func:`~simworld.scenarios.auction.valuation.persona_value`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, create_model, model_validator
from simworld.agents import Persona, TypedBelief, load_personas
from simworld.memory import MemoryRole
from simworld.scenarios.auction.items import House
from simworld.scenarios.auction.roles import BidderRole

from simworld.errors import BadInput
from simworld.files import DataFile

_NOT_ID = re.compile(r"[^A-Za-z0-9_.:-]+")


def slug(name: str) -> str:
    """An id from a display name: each run of characters an id cannot hold becomes ``_`` ("Home 1" -> "Home_1")."""
    return _NOT_ID.sub("_", name.strip()).strip("_") or "_"


def _bidder_record(rec: dict[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    name = out.get("name")
    if "id" not in out and isinstance(name, str):
        out["id"] = slug(name)
    if "persona" in out and not out.get("description"):
        out["description"] = out.pop("persona")
    roles = dict(out.get("roles") or {}) if isinstance(out.get("roles", {}), dict) else out.get("roles")
    if not isinstance(roles, dict):
        return out  # let validation report it
    bidder = roles.get("bidder", {})
    if not isinstance(bidder, dict):
        return out
    bidder = dict(bidder)
    if "budget" in out:
        bidder.setdefault("budget", out["budget"])
    pct = out.get("overestimate_percent")
    if isinstance(pct, (int, float)) and not isinstance(pct, bool) and abs(pct) < 1e300:
        bidder.setdefault("overestimate", pct / 100.0)
    elif pct is not None:
        bidder.setdefault("overestimate", pct)  # not a number: the role's validation names the problem
    if out.get("is_profiler") is True:
        bidder.setdefault("strategy", "profiler")
    trait = out.get("trait")
    if isinstance(trait, str) and trait:
        bidder.setdefault("priority", trait)
        bidder.setdefault("priorities", {trait: 1.0})
    roles["bidder"] = bidder
    out["roles"] = roles
    return out


def _house_record(rec: dict[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    name = out.get("name")
    if isinstance(name, str) and not isinstance(out.get("id"), str):
        if "id" in out:
            out.setdefault("category_id", out["id"])
        out["id"] = slug(name)
    for theirs, ours in (("price", "starting_price"), ("desc", "description"), ("trait", "category")):
        if theirs in out and ours not in out:
            out[ours] = out.pop(theirs)
    return out


class HarborHouse(House):
    """A house read from a HARBOR house record (see the module's table)."""

    @model_validator(mode="before")
    @classmethod
    def _from_harbor(cls, value: Any) -> Any:
        return _house_record(value) if isinstance(value, dict) else value


def load_harbor_bidders(path: str | Path | DataFile, at_least: int | None = None,
                        n_field: str = "n_bidders") -> list[Persona]:
    """Bidders from a file of HARBOR bidder records (a config map applies first), ``roles.bidder`` and
    ``roles.memory`` validated; every problem comes back in one BadInput (file, record, field)."""
    loaded = load_personas(path, {"bidder": BidderRole, "memory": MemoryRole}, prepare=_bidder_record)
    if at_least is not None and at_least > len(loaded):
        file = path.path if isinstance(path, DataFile) else path
        raise BadInput(str(file), f"holds {len(loaded)} personas but {n_field} is {at_least}")
    return loaded


class RivalBelief(TypedBelief):
    """What a bidder believes about a rival: its budget for the whole auction and its top priority."""

    budget: float | None = Field(default=None, ge=0.0, description="their total budget for the whole auction")
    priority: str | None = Field(default=None, max_length=128,
                                 description="the house category they want most")


@lru_cache(maxsize=64)
def rival_belief(categories: tuple[str, ...], keys: tuple[str, ...] = ("budget", "priority")) -> type[TypedBelief]:
    """The typed belief a model brain forms about each rival: :class:`RivalBelief` with only ``keys``, and
    ``priority`` restricted to ``categories`` (the lots' categories), so a model can only name a category
    that exists (unrestricted when there are none)."""
    if keys == ("budget", "priority") and not categories:
        return RivalBelief
    fields: dict[str, Any] = {}
    if "budget" in keys:
        fields["budget"] = (float | None, RivalBelief.model_fields["budget"])
    if "priority" in keys:
        choice: Any = Literal[categories] if categories else str  # a Literal of runtime values: Any for mypy
        what = "the house category they want most" + (": " + ", ".join(categories) if categories else "")
        fields["priority"] = (choice | None, Field(default=None, description=what))
    model: type[TypedBelief] = create_model(
        "RivalBelief", __base__=TypedBelief, __doc__=RivalBelief.__doc__, **fields)
    return model


def harbor_house_record(rec: dict[str, Any]) -> dict[str, Any]:
    """A HARBOR house record in simworld's shape (the table above): for ``load_houses(prepare=...)``."""
    return _house_record(rec)
