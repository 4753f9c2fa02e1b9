"""``simworld.analysis.personas``: expertise advantage, robustness, fidelity and paraphrase variance with
bootstrap CIs, on tables with known effects and end to end on a model-backed persona sweep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from openai_server import ScriptedServer
from simworld.analysis.personas import (
    Results,
    expertise_advantage,
    fidelity,
    load_results,
    paraphrase_variance,
    robustness,
)

from simworld.errors import BadInput
from simworld.sweep import run_sweep

DATA_SEEDS = range(6)


def table(levels: dict[str, float], key: str, n: int, noise: float, data_seed: int,
          other: dict[str, float] | None = None) -> Results:
    """Rows of a sweep: ``n`` seeds x each level (metric = 10 + the level's effect + a per-seed offset +
    noise), optionally crossed with another swept key that shifts the metric a lot."""
    rng = np.random.default_rng(data_seed)
    rows = []
    for seed in range(n):
        offset = rng.normal(0, 1.0)  # shared by every arm of this seed: pairing removes it
        for fmt, shift in (other or {"-": 0.0}).items():
            for level, effect in levels.items():
                rows.append({"run_id": f"{level}-{fmt}-{seed}", "arm": level, key: level, "format": fmt,
                             "seed": seed, "status": "completed",
                             "score": 10.0 + shift + effect + offset + rng.normal(0, noise)})
    return Results([key, "format"], rows)


@pytest.mark.parametrize("data_seed", DATA_SEEDS)
def test_expertise_advantage_is_the_paired_difference_within_each_context(data_seed):
    # tolerance: the per-pair noise sd is 0.5 * sqrt(2) over 30 seeds x 2 formats (se ~0.065); 0.25 is ~4 se
    res = table({"none": 0.0, "mathematician": 2.0}, "persona.occupation", 30, 0.5, data_seed,
                other={"english": 0.0, "dutch": 100.0})
    eff = expertise_advantage(res, "score", "persona.occupation", expert="mathematician", baseline="none")
    assert eff.n == 60 and eff.value == pytest.approx(2.0, abs=0.25)
    assert eff.ci_low < eff.value < eff.ci_high and eff.ci_low > 1.5 and eff.ci_high < 2.5


def test_expertise_advantage_cis_cover_the_truth_at_the_stated_rate():
    """95% intervals over six data sets: all but at most one cover the true effect (P(>=5 of 6) ~ 0.97)."""
    covered = 0
    for data_seed in DATA_SEEDS:
        res = table({"none": 0.0, "expert": 0.7}, "persona", 20, 1.0, data_seed)
        eff = expertise_advantage(res, "score", "persona", expert="expert")
        covered += eff.ci_low <= 0.7 <= eff.ci_high
    assert covered >= 5


@pytest.mark.parametrize("data_seed", DATA_SEEDS)
def test_robustness_is_the_worst_drop_over_irrelevant_attributes(data_seed):
    # tolerance 0.3: per-attribute drops rest on 40 pairs with noise sd 0.4 * sqrt(2) (se ~0.09)
    res = table({"none": 0.0, "colour": -0.2, "name": -1.0, "hobby": 0.3}, "persona", 40, 0.4, data_seed)
    eff = robustness(res, "score", "persona", irrelevant=["colour", "name", "hobby"])
    assert eff.value == pytest.approx(1.0, abs=0.3)
    assert eff.parts["colour"] == pytest.approx(0.2, abs=0.3) and eff.parts["hobby"] == pytest.approx(-0.3, abs=0.3)
    assert eff.ci_low > 0.5
    lower = robustness(res, "score", "persona", irrelevant=["colour", "name", "hobby"], higher_is_better=False)
    assert lower.value == pytest.approx(0.3, abs=0.3)  # for a cost, the hobby's rise is the worst case


@pytest.mark.parametrize("data_seed", DATA_SEEDS)
def test_fidelity_is_kendall_tau_between_an_ordered_attribute_and_the_metric(data_seed):
    order = ["none", "high school", "bachelor", "phd"]
    rising = table({lv: float(i) for i, lv in enumerate(order)}, "persona.education", 15, 0.3, data_seed)
    # levels 1 apart with noise sd 0.3 (and a per-seed offset, which pairing removes): almost every seed
    # orders them right, so the mean tau is near 1
    eff = fidelity(rising, "score", "persona.education", order)
    assert eff.value > 0.8 and eff.ci_low > 0.7 and eff.n == 15
    assert [round(eff.parts[lv] - eff.parts["none"]) for lv in order] == [0, 1, 2, 3]
    flat = table({lv: 0.0 for lv in order}, "persona.education", 15, 0.3, data_seed)
    null = fidelity(flat, "score", "persona.education", order)
    assert abs(null.value) < 0.35 and null.ci_low < 0.0 < null.ci_high  # no order: tau near 0


def test_paraphrase_variance_is_the_variance_of_the_paraphrase_means():
    # tolerance 0.2: each mean rests on 40 runs with noise sd 0.3
    for data_seed in DATA_SEEDS:
        same = table({"a": 0.0, "b": 0.0, "c": 0.0}, "persona", 40, 0.3, data_seed)
        spread = table({"a": 0.0, "b": 1.0, "c": 2.0}, "persona", 40, 0.3, data_seed)
        low = paraphrase_variance(same, "score", "persona", ["a", "b", "c"])
        high = paraphrase_variance(spread, "score", "persona", ["a", "b", "c"])
        assert low.value < 0.05 and high.value == pytest.approx(1.0, abs=0.2)
        assert high.parts["c"] - high.parts["a"] == pytest.approx(2.0, abs=0.2)
        assert high.ci_low > low.ci_high


def test_bad_questions_are_bad_input():
    res = table({"none": 0.0, "x": 1.0}, "persona", 3, 0.1, 0)
    with pytest.raises(BadInput, match="'persona.age' is not a swept key"):
        expertise_advantage(res, "score", "persona.age", expert="x")
    with pytest.raises(BadInput, match="no finished run has persona=chemist"):
        expertise_advantage(res, "score", "persona", expert="chemist")
    with pytest.raises(BadInput, match="at least two paraphrases"):
        paraphrase_variance(res, "score", "persona", ["x"])


def responder(messages):
    """A stand-in model whose answer depends on the persona it is told: expertise helps, a red
    favourite colour hurts, a nickname does nothing, one paraphrase of the assistant role helps a bit."""
    text = "\n".join(str(m.get("content", "")) for m in messages)
    amount = 10.0 if "mathematician" in text else 5.0
    amount -= 1.0 if "favourite colour: red" in text else 0.0
    amount += 0.5 if "who is helpful" in text else 0.0
    return json.dumps({"amount": amount, "rationale": "persona"})


@pytest.mark.slow
def test_a_model_backed_persona_sweep_measures_what_the_persona_text_changes(tmp_path):
    quote = Path(__file__).with_name("quote_scenario.py")
    with ScriptedServer(responder=responder) as srv:
        spec = tmp_path / "personas.yaml"
        spec.write_text(f"""
scenario: {quote}
set:
  n: 3
  model: {{base_url: "{srv.base_url}", model: scripted, api_key_env: null, cache_path: "{tmp_path / 'c.sqlite'}"}}
grid:
  persona.occupation: [none, mathematician]
personas:
  plain: {{}}
  red: {{set: {{favourite_colour: red}}}}
  named: {{set: {{nickname: Zed}}}}
  helper1: {{set: {{role: a helpful assistant}}}}
  helper2: {{set: {{role: an assistant who is helpful}}}}
seeds: 2
control: {{persona.occupation: none}}
""", encoding="utf-8")
        result = run_sweep(spec, tmp_path / "out", executor="local", workers=2)
    assert result.status == {"completed": 20}
    res = load_results(tmp_path / "out")
    assert res.keys == ["persona.occupation", "persona"] and len(res.rows) == 20
    adv = expertise_advantage(res, "total", "persona.occupation", expert="mathematician", baseline="none")
    assert (adv.value, adv.ci_low, adv.ci_high, adv.n) == (15.0, 15.0, 15.0, 10)  # 3 agents x (10 - 5)
    rob = robustness(res, "total", "persona", irrelevant=["red", "named"], baseline="plain")
    assert rob.value == 3.0 and rob.parts == {"red": 3.0, "named": 0.0}
    var = paraphrase_variance(res, "total", "persona", ["helper1", "helper2"])
    assert var.value == pytest.approx(1.125)  # means 1.5 apart: variance of two values = 1.5**2 / 2
    plain = Results(res.keys, [r for r in res.rows if r["persona"] == "plain"])
    assert fidelity(plain, "total", "persona.occupation", ["none", "mathematician"]).value == pytest.approx(1.0)
