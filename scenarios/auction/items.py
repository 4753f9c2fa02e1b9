"""Houses for sale: generated from a seeded distribution or loaded from a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simworld.files import load_models

LOCATIONS = ("city centre", "suburbs", "countryside")
#: Price per square metre by location type (any currency).
_PRICE_PER_SQM = {"city centre": 5200.0, "suburbs": 3600.0, "countryside": 2400.0}


class House(BaseModel):
    """A lot. ``true_value`` is hidden from bidders and revealed after the sale."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    size_sqm: float = Field(gt=0)
    location: str = "suburbs"
    condition: float = Field(default=0.5, ge=0.0, le=1.0, description="0 needs work, 1 as new")
    school_rating: float = Field(default=5.5, ge=1.0, le=10.0)
    starting_price: float = Field(ge=0.0)
    true_value: float | None = Field(default=None, gt=0.0)
    reserve: float | None = Field(default=None, ge=0.0)

    def public(self) -> dict[str, object]:
        """What bidders see in the catalogue."""
        return self.model_dump(exclude={"true_value", "reserve"})


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


def load_houses(path: Path) -> list[House]:
    return load_models(path, "items", House, "item")
