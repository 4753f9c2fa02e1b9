"""Seeded population generator: sample N personas from stated distributions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from simworld.agents.persona import BigFive, Demographics, Persona

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")

_FIRST = (  # noqa: SIM905 - a word list reads better as one string
    "Ada Alan Amara Anika Aryan Beatriz Bilal Camila Chen Chiara Daniel Dara Diego Elena Emeka Farah Felix "
    "Grace Hana Hugo Ines Ivan Jamal Jia Jonas Kai Kamala Kenji Lara Leila Liam Lucia Malik Maya Mateo Mei "
    "Nadia Nikhil Noor Olga Omar Paulo Priya Quinn Rafael Rosa Sami Sara Tariq Tess Uma Victor Wen Yara Yusuf "
    "Zain Zoe"
).split()
_LAST = (  # noqa: SIM905
    "Abe Adeyemi Bauer Costa Dubois Eriksen Fischer Garcia Haddad Ibrahim Jensen Kowalski Lee Lindqvist "
    "Moreau Nakamura Novak Okafor Patel Quispe Rossi Santos Schmidt Silva Tanaka Ueda Varga Wang Weber "
    "Xu Yilmaz Zhou"
).split()


class Normal(BaseModel):
    """A normal distribution (clipped to the field's range where it has one)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    mean: float
    sd: float = Field(ge=0.0)


class LogNormal(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    median: float = Field(gt=0.0)
    sigma: float = Field(ge=0.0)


def _default_big_five() -> dict[str, Normal]:
    return {t: Normal(mean=0.5, sd=0.15) for t in TRAITS}


class PopulationSpec(BaseModel):
    """Distributions for every persona field the generator fills. Categorical weights need not sum to 1.
    A scenario that samples more (a bidder's budget) subclasses it with its own fields."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    big_five: dict[str, Normal] = Field(default_factory=_default_big_five)
    age: Normal = Normal(mean=44.0, sd=13.0)
    age_range: tuple[int, int] = (18, 90)
    gender: dict[str, float] = {"female": 0.49, "male": 0.49, "non-binary": 0.02}
    occupation: dict[str, float] = {
        "teacher": 1, "engineer": 1, "nurse": 1, "software developer": 1, "shop owner": 1,
        "accountant": 1, "electrician": 1, "doctor": 0.5, "artist": 0.5, "retired": 1,
    }
    education: dict[str, float] = {"secondary": 0.35, "vocational": 0.2, "bachelor": 0.3, "master": 0.12, "doctorate": 0.03}
    location: dict[str, float] = {"city centre": 0.35, "suburbs": 0.45, "countryside": 0.2}
    income: LogNormal = LogNormal(median=55_000.0, sigma=0.5)
    attention: int | None = Field(default=None, ge=1)

    @field_validator("big_five")
    @classmethod
    def _known_traits(cls, v: dict[str, Normal]) -> dict[str, Normal]:
        unknown = sorted(set(v) - set(TRAITS))
        if unknown:
            raise ValueError(f"unknown Big Five trait(s) {unknown}; use {list(TRAITS)}")
        return {**_default_big_five(), **v}

    @field_validator("age_range")
    @classmethod
    def _ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] > v[1] or v[0] < 0:
            raise ValueError(f"expected [youngest, oldest] with 0 <= youngest <= oldest, got {list(v)}")
        return v

    @field_validator("gender", "occupation", "education", "location")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return v


def _categorical(rng: np.random.Generator, weights: dict[str, float], n: int) -> list[str]:
    names = list(weights)
    p = np.asarray([weights[k] for k in names], dtype=float)
    return [names[i] for i in rng.choice(len(names), size=n, p=p / p.sum())]


@dataclass(frozen=True, slots=True)
class PersonaDraws:
    """The generator's random draws behind one persona that a role sampler may build on: ``income_z``
    is the standard normal behind the persona's log income, ``independent_z`` a second standard normal
    drawn beside it (mix the two for a role attribute correlated with income, such as a budget)."""

    income_z: float
    independent_z: float


#: ``sampler(persona, draws, rng) -> roles``: adds scenario roles to a generated persona.
RoleSampler = Callable[[Persona, PersonaDraws, np.random.Generator], dict[str, dict[str, Any]]]


def generate_population(
    spec: PopulationSpec,
    n: int,
    rng: np.random.Generator,
    id_prefix: str = "agent",
    role_sampler: RoleSampler | None = None,
) -> list[Persona]:
    """Sample ``n`` personas. ``role_sampler(persona, draws, rng)`` adds scenario roles; ``draws`` are
    the persona's :class:`PersonaDraws`, for roles that depend on the persona's income."""
    if n < 0:
        raise ValueError(f"cannot generate {n} personas")
    b5 = {t: np.clip(rng.normal(spec.big_five[t].mean, spec.big_five[t].sd, n), 0.0, 1.0) for t in TRAITS}
    lo, hi = spec.age_range
    ages = np.clip(np.rint(rng.normal(spec.age.mean, spec.age.sd, n)), lo, hi).astype(int)
    genders = _categorical(rng, spec.gender, n)
    occupations = _categorical(rng, spec.occupation, n)
    educations = _categorical(rng, spec.education, n)
    locations = _categorical(rng, spec.location, n)
    # Both normals are drawn whether or not a role sampler uses the second, so a population does not
    # depend on which scenario asked for it.
    income_z, independent_z = rng.standard_normal(n), rng.standard_normal(n)
    incomes = spec.income.median * np.exp(spec.income.sigma * income_z)
    first = rng.integers(0, len(_FIRST), n)
    last = rng.integers(0, len(_LAST), n)
    width = max(3, len(str(n - 1)))
    personas = []
    for i in range(n):
        persona = Persona(
            id=f"{id_prefix}{i:0{width}d}",
            name=f"{_FIRST[first[i]]} {_LAST[last[i]]}",
            demographics=Demographics(
                age=int(ages[i]),
                gender=genders[i],
                occupation=occupations[i],
                education=educations[i],
                location=locations[i],
                income=round(float(incomes[i]), 2),
            ),
            big_five=BigFive(**{t: round(float(b5[t][i]), 4) for t in TRAITS}),
            attention=spec.attention,
        )
        if role_sampler is not None:
            roles = role_sampler(persona, PersonaDraws(float(income_z[i]), float(independent_z[i])), rng)
            persona = persona.model_copy(update={"roles": roles})
        personas.append(persona)
    return personas
