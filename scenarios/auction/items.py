"""Houses for sale: generated from a seeded distribution or loaded from a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simworld.files import DataFile, FieldMap, load_models

LOCATIONS = ("city centre", "suburbs", "countryside")
#: Price per square metre by location type (any currency).
_PRICE_PER_SQM = {"city centre": 5200.0, "suburbs": 3600.0, "countryside": 2400.0}


#: Fields a house file may leave out that the catalogue then does not show (older logs never had them).
_SHOWN_WHEN_SET = ("size_sqm", "category", "description")


class House(BaseModel):
    """A lot. ``true_value`` is hidden from bidders and revealed after the sale.

    Fields beyond the known ones (a study's own attributes) are kept and shown in the catalogue, so model
    bidders see them, as they see ``description``; rule policies read them from the lot's ``item``."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$", max_length=128)
    size_sqm: float | None = Field(default=None, gt=0, description="living area; None: valued without the size term")
    category: str | None = Field(default=None, max_length=128,
                                 description="the kind of buyer the house suits (HARBOR's trait); bidders' priorities weigh it")
    description: str | None = Field(default=None, description="free text the catalogue shows (model bidders read it)")
    location: str = "suburbs"
    condition: float = Field(default=0.5, ge=0.0, le=1.0, description="0 needs work, 1 as new")
    school_rating: float = Field(default=5.5, ge=1.0, le=10.0)
    starting_price: float = Field(ge=0.0)
    true_value: float | None = Field(default=None, gt=0.0)
    reserve: float | None = Field(default=None, ge=0.0)

    def public(self) -> dict[str, object]:
        """What bidders see in the catalogue."""
        shown = self.model_dump(exclude={"true_value", "reserve"})
        for key in _SHOWN_WHEN_SET:
            if shown[key] is None:
                del shown[key]
        return shown


def generate_houses(n: int, rng: np.random.Generator, id_prefix: str = "house") -> list[House]:
    """Seeded houses: size log-normal around 120 m2, market value from location, size, condition and
    schools, starting price 75-90% of the market value."""
    width = max(2, len(str(n - 1)))
    out = []
    for i in range(n):
        loc = LOCATIONS[int(rng.choice(3, p=[0.35, 0.45, 0.2]))]
        size = float(np.clip(120.0 * np.exp(rng.normal(0.0, 0.3)), 35.0, 400.0))
        condition = float(rng.beta(2.5, 2.0))
        school = float(np.clip(rng.normal(6.0, 1.8), 1.0, 10.0))
        value = (
            _PRICE_PER_SQM[loc] * size * (0.7 + 0.6 * condition) * (0.9 + 0.02 * school) * np.exp(rng.normal(0, 0.1))
        )
        start = round(value * rng.uniform(0.75, 0.9), -3)
        out.append(
            House(
                id=f"{id_prefix}{i:0{width}d}",
                size_sqm=round(size, 1),
                location=loc,
                condition=round(condition, 3),
                school_rating=round(school, 1),
                starting_price=start,
                true_value=round(float(value), 2),
            )
        )
    return out


def iid_lots(n: int) -> list[House]:
    """Lots for the analytic mode: values are drawn per bidder, so the lot itself carries nothing."""
    width = max(2, len(str(n - 1)))
    return [House(id=f"lot{i:0{width}d}", size_sqm=1.0, starting_price=0.0) for i in range(n)]


def load_houses(path: str | Path | DataFile, field_map: FieldMap | None = None,
                model: type[House] = House,
                prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> list[House]:
    """Houses from a YAML/JSON/JSONL file (a path, or a :class:`~simworld.files.DataFile` with a field map;
    ``field_map`` adds to its map). Every problem of the file (up to a limit) comes back in one BadInput,
    each naming the file, the record and the field. ``model`` may be a House subclass that reads another
    tool's shape (see :mod:`.harbor`)."""
    if isinstance(path, DataFile):
        field_map = {**path.map, **(field_map or {})}
        path = path.path
    houses: list[Any] = load_models(Path(path), "items", model, "item", field_map=field_map, prepare=prepare)
    return houses
