"""Questionnaires: instruments as data, rule and model respondents, reverse keys, alpha, r and Cohen's d."""

from __future__ import annotations

import json
import re

import pytest
from openai_server import ScriptedServer
from simworld.agents.persona_text import LEVELS, TOP, TRAIT_MARKERS
from simworld.analysis.psychometrics import (
    BIG_FIVE,
    Respondent,
    SurveyConfig,
    administer,
    cohens_d,
    cronbach_alpha,
    load_instrument,
    parse_answer,
    poles,
    read_survey,
)

from simworld.errors import BadInput

MINI = load_instrument("mini-ipip")


def one_error_line(res) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and len(res.err_lines) == 1, res.stderr
    return res.err_lines[0]


# -- instruments -------------------------------------------------------------------------------------
def test_the_shipped_instruments_have_their_published_shape():
    ipip = load_instrument("ipip-50")
    for inst, per_trait in ((MINI, 4), (ipip, 10)):
        assert sorted(inst.traits) == sorted(BIG_FIVE)
        assert all(sum(i.trait == t for i in inst.items) == per_trait for t in BIG_FIVE)
        assert inst.scale.points == [1, 2, 3, 4, 5] and inst.scale.labels[1] == "Very inaccurate"
        assert "public domain" in inst.license and "ipip.ori.org" in inst.source
    # Mini-IPIP: two reverse-keyed items per trait, three for Intellect/Imagination; item 6 in the first person
    assert {t: sum(i.key == "-" for i in MINI.items if i.trait == t) for t in BIG_FIVE} == {
        "openness": 3, "conscientiousness": 2, "extraversion": 2, "agreeableness": 2, "neuroticism": 2}
    assert MINI.statement(MINI.items[5]) == "I don't talk a lot."
    # IPIP-50 keys neuroticism from the published Emotional Stability key: 8 forward, 2 reverse
    assert sum(i.key == "+" for i in ipip.items if i.trait == "neuroticism") == 8
    assert {i.id: i.key for i in ipip.items if i.trait == "neuroticism"}["19"] == "-"  # "Seldom feel blue."


def test_a_users_instrument_loads_from_a_file_in_the_same_format(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({
        "name": "tiny", "scale": {"min": 1, "max": 7},
        "items": [{"id": 1, "text": "I plan ahead.", "trait": "conscientiousness", "key": "+"},
                  {"id": 2, "text": "I act on a whim.", "trait": "conscientiousness", "key": "-"},
                  {"id": 3, "text": "I enjoy crowds.", "trait": "extraversion", "key": "+"}]}))
    inst = load_instrument(path)
    assert inst.traits == ["conscientiousness", "extraversion"] and inst.items[0].id == "1"
    top = administer(inst, [Respondent("c", {t: 1.0 for t in BIG_FIVE})], SurveyConfig(noise=0.0))
    assert [a.answer for a in top.answers] == [7, 1, 7]  # the 7-point scale, item 2 reverse-keyed
    assert top.scores["respondents"]["c"] == {"conscientiousness": 7.0, "extraversion": 7.0}
    other = tmp_path / "other.yaml"
    other.write_text("name: other\nitems:\n  - {id: a, text: I am curious about stars., trait: awe, key: '+'}\n")
    with pytest.raises(BadInput, match="has no awe"):  # rule brains answer only from traits a persona has
        administer(load_instrument(other), [Respondent("x", {t: 0.5 for t in BIG_FIVE})])


@pytest.mark.parametrize(("text", "field"), [
    ("name: bad\nitems:\n  - {id: 1, text: Hi., trait: openness, key: x}\n", "items.0.key"),
    ("name: bad\nitems:\n  - {id: 1, text: Hi., trait: openness}\n", "items.0.key"),
    (("name: bad\nitems:\n  - {id: 1, text: A., trait: openness, key: '+'}\n"
     "  - {id: 1, text: B., trait: openness, key: '-'}\n"), "items"),
    ("name: bad\nscale: {min: 5, max: 1}\nitems:\n  - {id: 1, text: A., trait: openness, key: '+'}\n", "scale"),
    ("name: bad\nitems: []\n", "items"),
    ("name: bad\nitems: [\n", None),
    ("- just\n- a list\n", None),
])
def test_a_malformed_instrument_is_one_line_exit_2_and_nothing_is_written(cli_inproc, tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    res = cli_inproc("survey", "--instrument", path, "--poles", "1", "--out", tmp_path / "out")
    line = one_error_line(res)
    assert str(path) in line and (field is None or f": {field}:" in line), line
    assert not (tmp_path / "out").exists()


# -- the response model and the statistics ------------------------------------------------------------
def test_reverse_keyed_items_are_flipped_when_scored():
    high = Respondent("high", {t: 1.0 for t in BIG_FIVE})
    low = Respondent("low", {t: 0.0 for t in BIG_FIVE})
    s = administer(MINI, [high, low], SurveyConfig(noise=0.0))
    for a in s.answers:
        agree = 5 if (a.respondent == "high") == (a.key == "+") else 1
        assert a.answer == agree  # a '-' item is disagreed with by a respondent high on its trait
        assert a.score == (5.0 if a.respondent == "high" else 1.0)
    assert s.scores["respondents"] == {"high": {t: 5.0 for t in MINI.traits}, "low": {t: 1.0 for t in MINI.traits}}


def test_alpha_and_d_match_hand_computed_values():
    # x1 = 1,2,3,4 and x2 = 2,1,4,3: item variances 5/3 each, total 3,3,7,7 with variance 16/3
    assert cronbach_alpha([[1, 2], [2, 1], [3, 4], [4, 3]]) == pytest.approx(2 * (1 - (10 / 3) / (16 / 3)))
    assert cronbach_alpha([[1, 1], [2, 2], [3, 3]]) == pytest.approx(1.0)
    assert cronbach_alpha([[1, 2, 3]]) is None and cronbach_alpha([[3, 3], [3, 3]]) is None
    assert cohens_d([4, 5, 6], [1, 2, 3]) == pytest.approx(3.0)  # means 3 apart, pooled sd 1
    assert cohens_d([5, 5], [1, 1]) is None and cohens_d([5], [1, 2]) is None


def test_rule_personas_at_opposite_big_five_poles_give_d_above_3_and_alpha_above_07():
    """PersonaLLM's design: the 32 pole profiles (0.1 / 0.9), twice each, over 6 seeds. The claim: on every
    trait and at every seed Cohen's d between the poles exceeds 3 and Cronbach's alpha 0.7 (measured: d 7-12,
    alpha 0.95-0.97, so the margins are wide), and the scores track the intended traits (r > 0.9)."""
    people = [Respondent(f"p{i:02d}-{k}", profile) for i, profile in enumerate(poles()) for k in range(2)]
    for seed in range(6):
        traits = administer(MINI, people, seed=seed).scores["traits"]
        for trait, row in traits.items():
            assert row["n_high"] == row["n_low"] == 32
            assert row["d_poles"] > 3, (seed, trait, row["d_poles"])
            assert row["alpha"] > 0.7, (seed, trait, row["alpha"])
            assert row["r_intended"] > 0.9, (seed, trait, row["r_intended"])


def test_noise_depends_on_the_persona_and_answers_on_the_seed_alone():
    """A careless (low-conscientiousness) respondent strays further from what its traits imply than a
    conscientious one, over 8 seeds (mean absolute deviation, a margin of 0.1 scale points); a respondent's
    answers do not depend on who else is asked."""
    middling = {t: 0.5 for t in BIG_FIVE}
    careful = Respondent("careful", {**middling, "conscientiousness": 1.0})
    careless = Respondent("careless", {**middling, "conscientiousness": 0.0})
    dev = {"careful": [], "careless": []}
    for seed in range(8):
        for a in administer(MINI, [careful, careless], seed=seed).answers:
            if a.trait != "conscientiousness":  # every other trait means 3 on every item
                dev[a.respondent].append(abs(a.answer - 3))
    assert sum(dev["careless"]) / len(dev["careless"]) > sum(dev["careful"]) / len(dev["careful"]) + 0.1
    both = administer(MINI, [careful, careless], seed=5).answers
    # personas answer as respondents with their Big Five (a Persona, or its record)
    from simworld.agents.persona import BigFive, Persona

    persona = Persona(id="careless", name="C", big_five=BigFive(**careless.traits))
    assert administer(MINI, [persona], seed=5).answers == administer(MINI, [persona.model_dump()], seed=5).answers
    alone = administer(MINI, [careless], seed=5).answers
    assert administer(MINI, [persona], seed=5).answers == alone
    assert [a for a in both if a.respondent == "careless"] == alone
    assert [a.answer for a in administer(MINI, [careless], seed=6).answers] != [a.answer for a in alone]


def test_the_local_brain_is_the_bundled_model_as_the_agents_use_it():
    from simworld.agents.brain_config import LOCAL_MODEL

    spec = SurveyConfig(brain="local").spec()
    assert (spec.provider, spec.model, spec.max_concurrency) == ("local", LOCAL_MODEL, 1)
    assert SurveyConfig(brain="llm").spec().model == "gpt-4o-mini"


def test_parse_answer_accepts_only_a_point_on_the_scale():
    scale = MINI.scale
    assert parse_answer('{"answer": 4}', scale) == (4, None)
    assert parse_answer('Sure! ```json\n{"answer": "2"}\n```', scale) == (2, None)
    assert parse_answer("5", scale) == (5, None)
    assert parse_answer('{"answer": 9}', scale)[1] == "9 is outside 1..5"
    assert parse_answer('{"answer": 3.5}', scale)[1] == "3.5 is not a whole number"
    assert parse_answer("I would say quite accurate", scale)[1] == "not a JSON object with an answer"


# -- the command --------------------------------------------------------------------------------------
def test_survey_of_a_generated_population_writes_the_folder_and_the_same_seed_gives_the_same_bytes(cli_inproc, tmp_path):
    for name in ("a", "b"):
        res = cli_inproc("survey", "--instrument", "mini-ipip", "--population", "40", "--seed", "4",
                         "--out", tmp_path / name)
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines()[-1] == str(tmp_path / name)
    a, b = tmp_path / "a", tmp_path / "b"
    for name in ("answers.jsonl", "scores.json", "items.csv", "respondents.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    got = read_survey(a)
    assert len(got["items"]) == 20 and len(got["respondents"]) == 40
    assert len((a / "answers.jsonl").read_text().splitlines()) == 800
    assert got["survey"]["instrument"]["name"] == "mini-ipip" and got["survey"]["brain"] == "rule"
    # a generated population (trait sd 0.15): the scores still track the intended traits
    assert all(row["r_intended"] > 0.7 for row in got["scores"]["traits"].values())
    assert got["respondents"][0]["persona_text"].startswith("You are ")
    res = cli_inproc("survey", "--population", "5", "--out", a)  # an existing survey is never overwritten
    assert "already holds files" in one_error_line(res)
    assert (a / "answers.jsonl").read_bytes() == (b / "answers.jsonl").read_bytes()
    assert "exactly one of" in one_error_line(cli_inproc("survey", "--out", tmp_path / "c"))
    assert "no instrument 'bfi'" in one_error_line(cli_inproc("survey", "--instrument", "bfi", "--poles", "1",
                                                              "--out", tmp_path / "c"))
    assert not (tmp_path / "c").exists()


# -- model brains through the gateway -----------------------------------------------------------------
STATEMENTS = {MINI.statement(i): i for i in MINI.items}
GRADES = [phrase.format(low="{low}", high="{high}") for _, phrase in LEVELS] + [TOP]
POINTS = [1, 2, 2, 3, 4, 4, 5]  # extremely low .. extremely high


def described_point(system: str, trait: str) -> int:
    low, high = TRAIT_MARKERS[trait][0]
    for grade, point in zip(GRADES, POINTS, strict=True):
        if grade.format(low=low, high=high) in system:
            return point
    raise AssertionError(f"no {trait} grade in {system!r}")


def character_responder(messages):
    """A stand-in model: reads its character from the persona text and answers the item accordingly; item 13
    is first answered off the scale (right after a repair), item 20 never gets a valid answer."""
    item = STATEMENTS[re.search(r'Statement: "(.*)"', messages[1]["content"]).group(1)]
    point = described_point(messages[0]["content"], item.trait)
    if item.key == "-":
        point = 6 - point
    if item.id == "20":
        return "I would rather not say."
    if item.id == "13" and len(messages) == 2:
        return json.dumps({"answer": 9})
    return json.dumps({"answer": point})


def model_config(tmp_path, url, structured="auto"):
    return SurveyConfig(brain="llm", model={"base_url": url, "model": "scripted", "api_key_env": None,
                                            "cache_path": str(tmp_path / "cache.sqlite"), "structured": structured})


def persona_respondents(n, seed=0):
    import numpy as np
    from simworld.agents.persona_text import DescriptiveRenderer
    from simworld.agents.population import PopulationSpec, generate_population

    people = generate_population(PopulationSpec(), n, np.random.default_rng(seed))
    return [Respondent.from_persona(p.model_dump(mode="json"), DescriptiveRenderer().render(p)) for p in people]


def test_a_model_brain_answers_constrained_to_the_scale_repaired_once_failures_counted(tmp_path):
    people = persona_respondents(16)
    cfg = model_config(tmp_path, None, structured="prompt")  # the prompt asks: let the model err, to see the repair
    with ScriptedServer(character_responder) as srv:
        cfg.model.base_url = srv.base_url
        s = administer(MINI, people, cfg, seed=1, out=tmp_path / "s1")
        first = srv.requests
        again = administer(MINI, people, cfg, seed=1, out=tmp_path / "s2")
        assert srv.requests == first  # every call came from the cache
    assert first == 16 * (20 + 1 + 1)  # one call per item, a repair for items 13 and 20
    assert (tmp_path / "s1" / "answers.jsonl").read_bytes() == (tmp_path / "s2" / "answers.jsonl").read_bytes()
    assert again.scores == s.scores
    by_item = {}
    for a in s.answers:
        by_item.setdefault(a.item, []).append(a)
    assert all(a.failure is None and len(a.calls) == 1 for a in by_item["1"])
    assert all(a.failure is None and len(a.calls) == 2 and a.calls[1]["node"] == "repair" for a in by_item["13"])
    assert all(a.answer is None and a.failure.startswith("invalid answer after repair") for a in by_item["20"])
    assert s.scores["failures"] == 16 and s.scores["traits"]["openness"]["failures"] == 16
    # every answer is the one the described character implies, and failures are left out of the scores
    for r in people:
        for trait in MINI.traits:
            expected = [described_point(r.persona_text, trait) for i in MINI.items
                        if i.trait == trait and i.id != "20"]
            assert s.scores["respondents"][r.id][trait] == pytest.approx(sum(expected) / len(expected))
    assert all(row["r_intended"] > 0.8 for row in s.scores["traits"].values())
    line = json.loads((tmp_path / "s1" / "answers.jsonl").read_text().splitlines()[0])
    assert line["calls"][0]["messages"][0]["content"] == people[0].persona_text + (
        "\n\nAnswer every question as this person, in character.")
    assert '"answer"' in line["calls"][0]["response"]
    from simworld.analysis.html_report import build_report

    page = build_report(tmp_path / "s1")  # the report names the model and its calls
    assert "<h3>Model</h3>" in page and f'<td>scripted</td><td class="n">{first}</td>' in page


def test_a_model_brain_gets_the_likert_scale_as_a_json_schema_from_the_command(cli_inproc, tmp_path):
    with ScriptedServer(character_responder) as srv:
        res = cli_inproc("survey", "--population", "6", "--seed", "2", "--out", tmp_path / "s",
                         "--set", "brain=llm", "--set", "model.model=scripted", "--set", f"model.base_url={srv.base_url}",
                         "--set", f"model.cache_path={tmp_path / 'cache.sqlite'}")
        assert res.returncode == 0, res.stderr
        bodies = list(srv.bodies)
    assert len(bodies) == 6 * 20 and srv.constrained_requests == len(bodies)  # constrained: no repair needed
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["answer"]["enum"] == [1, 2, 3, 4, 5]
    got = read_survey(tmp_path / "s")
    # constrained decoding turns item 20's refusal into a point on the scale: nothing fails
    assert got["scores"]["failures"] == 0 and got["survey"]["brain"] == "llm"
    assert got["survey"]["model"]["calls"] == 120


def test_the_mini_ipip_example_surveys_a_generated_population_and_writes_its_report(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "examples" / "sweeps" / "mini_ipip_survey.py"
    proc = subprocess.run([sys.executable, str(script), "--n", "60", "--seed", "2", "--out", str(tmp_path / "s")],
                          capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == str(tmp_path / "s" / "report.html") and lines[-2] == "failed answers: 0"
    assert [line.split()[0] for line in lines[1:6]] == MINI.traits
    assert "<svg" in (tmp_path / "s" / "report.html").read_text()
