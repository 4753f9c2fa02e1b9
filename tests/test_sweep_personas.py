"""Persona variants (a config's ``persona`` block, filled by a sweep): what they change and what they refuse."""

from __future__ import annotations

import json

import pytest
from simworld.agents.persona import Persona
from simworld.agents.persona_text import make_renderer
from simworld.agents.persona_variant import PersonaVariant

import simworld as sw
from simworld.errors import BadInput

ADA = Persona.model_validate({
    "id": "ada", "name": "Ada", "demographics": {"age": 36, "occupation": "engineer", "education": "master"},
    "big_five": {"openness": 0.9, "neuroticism": 0.2}, "values": ["truth"], "description": "Builds engines.",
    "roles": {"bidder": {"budget": 100.0}}, "hobby": "chess"})


def test_the_default_variant_leaves_the_persona_object_itself():
    assert PersonaVariant().apply(ADA) is ADA


def test_set_takes_field_names_traits_and_extra_attributes_and_null_resets():
    out = PersonaVariant(set={"occupation": "math teacher", "openness": 0.1, "favourite_colour": "blue",
                              "description": None, "hobby": None, "demographics.age": None}).apply(ADA)
    assert out.demographics.occupation == "math teacher" and out.demographics.education == "master"
    assert out.demographics.age is None and out.big_five.openness == 0.1 and out.big_five.neuroticism == 0.2
    assert out.description == "" and out.model_extra == {"favourite_colour": "blue"}  # hobby removed
    assert out.id == "ada" and out.roles == ADA.roles and ADA.demographics.occupation == "engineer"  # a copy


def test_the_empty_persona_keeps_only_id_name_and_roles():
    out = PersonaVariant(empty=True).apply(ADA)
    assert (out.id, out.name, out.roles) == ("ada", "Ada", ADA.roles)
    assert out.demographics.occupation is None and out.big_five.openness == 0.5 and out.values == []
    assert out.description == "" and not out.model_extra
    only_role = PersonaVariant(empty=True, set={"role": "a helpful assistant"}).apply(ADA)
    assert only_role.model_extra == {"role": "a helpful assistant"}


def test_what_a_model_brain_is_told_carries_the_variant():
    text = make_renderer("descriptive").render(
        PersonaVariant(set={"occupation": "mathematician", "favourite_colour": "red"}).apply(ADA))
    assert "working as a mathematician" in text and "favourite colour: red" in text
    empty = make_renderer("descriptive").render(PersonaVariant(empty=True).apply(ADA))
    assert "engineer" not in empty and "chess" not in empty and "Ada" in empty


@pytest.mark.parametrize(("variant", "problem"), [
    ({"set": {"id": "x"}}, "cannot change id"),
    ({"set": {"roles.bidder.budget": 1}}, "cannot change roles"),
    ({"set": {"name": None}}, "'name' cannot be cleared"),
    ({"set": {"demographics.shoe_size": 44}}, "names no persona field"),
    ({"set": {"big_five": 0.5}}, "set its fields one by one"),
    ({"set": {"openness": 2}}, "big_five.openness"),
    ({"set": {"occupation": "a", "demographics.occupation": "b"}}, "the same persona field twice"),
    ({"set": {"favourite colour": "red"}}, "is not a field name"),
    ({"emptyy": True}, "emptyy"),
])
def test_bad_variants_are_refused_before_the_run(tmp_path, variant, problem):
    with pytest.raises(BadInput, match=problem):
        sw.run("auction", seed=1, out=tmp_path, overrides={"persona": variant})
    assert not any(tmp_path.iterdir())


def events(path, skip=("run.started", "agent.joined")):
    return [line for line in (path / "events.jsonl").read_text().splitlines()
            if json.loads(line)["kind"] not in skip]


def test_rule_brains_ignore_fields_their_policy_does_not_read(tmp_path):
    small = {"n_bidders": 4, "n_items": 2}
    base = sw.run("auction", seed=3, out=tmp_path, overrides=small, run_id="base")
    teacher = sw.run("auction", seed=3, out=tmp_path, run_id="teacher",
                     overrides={**small, "persona": {"set": {"occupation": "math teacher", "favourite_colour": "red"}}})
    assert events(base.path) == events(teacher.path)  # only agent.joined (the persona) and the config differ
    joined = [json.loads(x) for x in (teacher.path / "events.jsonl").read_text().splitlines() if "agent.joined" in x]
    assert {(e["data"]["persona"]["demographics"]["occupation"], e["data"]["persona"]["favourite_colour"])
            for e in joined} == {("math teacher", "red")}
    # the Big Five is what the persona strategy reads: bold bidders react sooner, so the log changes
    bold = sw.run("auction", seed=3, out=tmp_path, run_id="bold",
                  overrides={**small, "persona": {"set": {"extraversion": 0.95, "neuroticism": 0.05}}})
    assert events(bold.path) != events(base.path)
