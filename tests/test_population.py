"""The seeded population generator, checked statistically at fixed seeds.

Tolerances: with N = 20,000 personas a sample mean is within 5 standard errors (sd / sqrt(N)) of the
spec's mean, a sample sd within 5% of the spec's sd, and a Pearson correlation within 0.03 of the
configured one (its standard error here is (1 - rho^2) / sqrt(N) < 0.008; smaller checks state their
own). Categorical frequencies pass a
chi-square goodness-of-fit test at p > 0.001. The seeds are fixed, so these checks are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats
from simworld.agents import Persona, PopulationSpec, generate_population
from simworld.agents.population import TRAITS, PersonaDraws
from simworld.scenarios.auction import BidderPopulation, BidderRole, BudgetSpec, sample_bidder_role

N = 20_000


def _capture_draws(persona: Persona, draws: PersonaDraws, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    return {"draws": {"income_z": draws.income_z, "independent_z": draws.independent_z}}


def _population(spec: PopulationSpec, seed: int, n: int = N, **kw) -> list[Persona]:
    return generate_population(spec, n, np.random.default_rng(seed), **kw)


@pytest.fixture(scope="module")
def spec() -> BidderPopulation:
    """The auction's population: the generic spec plus a budget correlated with income."""
    return BidderPopulation.model_validate(
        {
            "big_five": {"openness": {"mean": 0.3, "sd": 0.1}, "neuroticism": {"mean": 0.65, "sd": 0.08}},
            "age": {"mean": 40, "sd": 10},
            "age_range": [21, 75],
            "gender": {"female": 0.5, "male": 0.45, "non-binary": 0.05},
            "education": {"secondary": 2, "bachelor": 1, "master": 1},  # weights need not sum to 1
            "income": {"median": 40_000, "sigma": 0.6},
            "budget": {"median": 300_000, "sigma": 0.4, "correlation": 0.6},
        }
    )


@pytest.fixture(scope="module")
def people(spec) -> list[Persona]:
    return _population(spec, seed=2024, role_sampler=_capture_draws)


def test_big_five_means_and_sds_match_the_spec(spec, people):
    for trait in TRAITS:
        xs = np.array([getattr(p.big_five, trait) for p in people])
        want = spec.big_five[trait]
        assert xs.min() >= 0.0 and xs.max() <= 1.0
        assert abs(xs.mean() - want.mean) < 5 * want.sd / math.sqrt(N), trait
        assert xs.std(ddof=1) == pytest.approx(want.sd, rel=0.05), trait
    # traits the spec does not mention keep the default N(0.5, 0.15)
    assert spec.big_five["agreeableness"].mean == 0.5 and spec.big_five["agreeableness"].sd == 0.15


def test_big_five_is_clipped_to_unit_interval():
    """A wide trait distribution piles up at the bounds instead of leaving [0, 1]."""
    spec = PopulationSpec.model_validate({"big_five": {"extraversion": {"mean": 0.9, "sd": 0.3}}})
    n = 5000
    xs = np.array([p.big_five.extraversion for p in _population(spec, seed=5, n=n)])
    assert xs.min() >= 0.0 and xs.max() <= 1.0
    expected_at_top = 1.0 - stats.norm.cdf((1.0 - 0.9) / 0.3)  # P(X > 1) = 0.369
    share = float(np.mean(xs == 1.0))
    assert abs(share - expected_at_top) < 5 * math.sqrt(expected_at_top * (1 - expected_at_top) / n)


@pytest.mark.parametrize("field", ["gender", "occupation", "education", "location"])
def test_categorical_frequencies_match_weights(spec, people, field):
    weights = getattr(spec, field)
    names = list(weights)
    seen = [getattr(p.demographics, field) for p in people]
    assert set(seen) <= set(names)
    observed = np.array([seen.count(k) for k in names])
    p = np.array([weights[k] for k in names], dtype=float)
    expected = p / p.sum() * N
    result = stats.chisquare(observed, expected)
    assert result.pvalue > 0.001, (field, dict(zip(names, observed)), expected)


def test_categorical_weights_matter():
    """Not just a uniform draw: a 9:1 split comes out near 9:1."""
    spec = PopulationSpec(gender={"a": 9, "b": 1})
    genders = [p.demographics.gender for p in _population(spec, seed=1, n=5000)]
    assert genders.count("a") / 5000 == pytest.approx(0.9, abs=0.02)


def test_ages(spec, people):
    ages = np.array([p.demographics.age for p in people])
    assert ages.dtype.kind == "i"
    assert ages.min() >= 21 and ages.max() <= 75
    assert abs(ages.mean() - 40) < 0.5  # clipping at 21 (1.9 sd below) lifts the mean by about 0.1
    assert ages.std() == pytest.approx(10, rel=0.05)


def _bidders(spec: BidderPopulation, seed: int, n: int) -> list[Persona]:
    def sampler(persona: Persona, draws: PersonaDraws, rng: np.random.Generator) -> dict[str, dict[str, object]]:
        return sample_bidder_role(persona, draws, rng, budget=spec.budget)

    return _population(spec, seed=seed, n=n, role_sampler=sampler)


def _log_income_budget(people: list[Persona]) -> tuple[np.ndarray, np.ndarray]:
    income = np.log([p.demographics.income for p in people])
    budget = np.log([p.role("bidder", BidderRole).budget for p in people])
    return income, budget


def test_the_generator_hands_role_samplers_the_normal_behind_each_income(spec, people):
    """log income = log median + sigma * income_z exactly (up to the income's rounding to cents), and the
    second draw is an independent standard normal (N = 20,000: |r| < 0.03, mean within 5 SE, sd within 5%)."""
    income_z = np.array([p.roles["draws"]["income_z"] for p in people])
    other = np.array([p.roles["draws"]["independent_z"] for p in people])
    incomes = np.array([p.demographics.income for p in people])
    assert incomes == pytest.approx(spec.income.median * np.exp(spec.income.sigma * income_z), abs=0.005)
    assert abs(stats.pearsonr(income_z, other).statistic) < 0.03
    assert abs(other.mean()) < 5 / math.sqrt(N) and other.std(ddof=1) == pytest.approx(1.0, rel=0.05)


def test_log_budget_correlates_with_log_income(spec):
    income, budget = _log_income_budget(_bidders(spec, seed=2024, n=N))  # spec: correlation 0.6, N = 20,000
    assert abs(stats.pearsonr(income, budget).statistic - 0.6) < 0.03
    # each marginal is the stated log-normal (budgets are rounded to cents, far below these tolerances)
    assert np.exp(np.median(income)) == pytest.approx(40_000, rel=0.03)
    assert income.std() == pytest.approx(0.6, rel=0.05)
    assert np.exp(np.median(budget)) == pytest.approx(300_000, rel=0.03)
    assert budget.std() == pytest.approx(0.4, rel=0.05)


@pytest.mark.parametrize("rho", [0.0, -0.5, 1.0])
def test_other_correlations(spec, rho):
    """N = 5,000: the standard error of r is at most 1 / sqrt(5000) = 0.014; tolerance 0.05."""
    spec = spec.model_copy(update={"budget": spec.budget.model_copy(update={"correlation": rho})})
    income, budget = _log_income_budget(_bidders(spec, seed=77, n=5000))
    assert abs(stats.pearsonr(income, budget).statistic - rho) < 0.05


def test_bidder_roles_from_the_auction_sampler_carry_the_correlated_budget():
    """Without a budget spec the sampler uses the default one (correlation 0.7)."""
    people = _population(PopulationSpec(), seed=3, n=3000, role_sampler=sample_bidder_role)
    roles = [p.role("bidder", BidderRole) for p in people]
    income = np.log([p.demographics.income for p in people])
    budget = np.log([r.budget for r in roles])
    assert abs(stats.pearsonr(income, budget).statistic - 0.7) < 0.05  # SE (1 - 0.49) / sqrt(3000) = 0.009
    assert all(-1.0 <= r.risk_attitude <= 1.0 for r in roles)


def test_the_generic_spec_has_no_budget_and_the_bidder_population_adds_one():
    assert "budget" not in PopulationSpec.model_fields
    with pytest.raises(ValidationError):
        PopulationSpec.model_validate({"budget": {"median": 1}})
    assert BidderPopulation.model_validate({"budget": {"median": 1}}).budget == BudgetSpec(median=1)


def test_same_seed_same_personas_different_seed_different(spec):
    a = _bidders(spec, seed=9, n=200)
    b = _bidders(spec, seed=9, n=200)
    c = _bidders(spec, seed=10, n=200)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b]
    assert [p.id for p in a] == [p.id for p in c]  # ids depend on position only
    differ = sum(x.model_dump() != y.model_dump() for x, y in zip(a, c))
    assert differ == 200


def test_ids_names_and_attention():
    people = generate_population(PopulationSpec(attention=2), 1200, np.random.default_rng(0), id_prefix="p")
    ids = [p.id for p in people]
    assert ids[0] == "p0000" and ids[-1] == "p1199" and len(set(ids)) == 1200
    assert all(len(p.name.split()) == 2 for p in people)
    assert all(p.attention == 2 for p in people)
    assert generate_population(PopulationSpec(), 0, np.random.default_rng(0)) == []
    assert generate_population(PopulationSpec(), 3, np.random.default_rng(0))[0].id == "agent000"


@pytest.mark.parametrize(
    "bad, where",
    [
        ({"big_five": {"opennes": {"mean": 0.5, "sd": 0.1}}}, "big_five"),
        ({"big_five": {"openness": {"mean": 0.5, "sd": -0.1}}}, "big_five.openness.sd"),
        ({"gender": {"f": -1, "m": 2}}, "gender"),
        ({"location": {}}, "location"),
        ({"age_range": [60, 20]}, "age_range"),
        ({"budget": {"correlation": 1.5}}, "budget.correlation"),
        ({"income": {"median": 0, "sigma": 0.5}}, "income.median"),
    ],
)
def test_bad_specs_are_rejected(bad, where):
    with pytest.raises(ValidationError) as info:
        BidderPopulation.model_validate(bad)
    assert ".".join(str(x) for x in info.value.errors()[0]["loc"]) == where


def test_negative_n_is_refused():
    with pytest.raises(ValueError, match="-1"):
        generate_population(PopulationSpec(), -1, np.random.default_rng(0))
