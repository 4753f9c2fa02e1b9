"""Personas: loading from YAML/JSON/JSONL, round trips, typed roles, and errors that name file and field."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import ValidationError
from simworld.agents import BigFive, Persona, load_personas, save_personas
from simworld.scenarios.auction import BidderRole

from simworld.errors import BadInput

ALICE = {
    "id": "alice",
    "name": "Alice Moreau",
    "demographics": {"age": 38, "gender": "female", "occupation": "nurse", "location": "suburbs", "income": 61000},
    "big_five": {"openness": 0.7, "conscientiousness": 0.6, "extraversion": 0.3, "agreeableness": 0.8,
                 "neuroticism": 0.4},
    "values": ["family", "security"],
    "interests": ["gardening"],
    "speaking_style": "calm and precise",
    "goals": ["a house near a good school"],
    "description": "A night-shift nurse saving for a first home.",
    "roles": {"bidder": {"budget": 420000, "risk_attitude": -0.4,
                         "preferences": {"school": 0.9, "location": "suburbs"}}},
}
BOB = {"id": "bob", "name": "Bob Ueda", "roles": {"bidder": {"budget": 350000}}}


def _yaml(records) -> str:
    return yaml.safe_dump({"personas": records}, sort_keys=False)


# -- loading ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, text",
    [
        ("p.yaml", _yaml([ALICE, BOB])),
        ("p.yml", yaml.safe_dump([ALICE, BOB])),  # a bare list works too
        ("p.json", json.dumps([ALICE, BOB], indent=2)),
        ("p.json", json.dumps({"personas": [ALICE, BOB]})),
        ("p.jsonl", json.dumps(ALICE) + "\n\n" + json.dumps(BOB) + "\n"),  # blank lines are skipped
    ],
)
def test_load_each_format_gives_the_same_personas(write, name, text):
    personas = load_personas(write(name, text), roles={"bidder": BidderRole})
    assert [p.id for p in personas] == ["alice", "bob"]
    alice = personas[0]
    assert alice == Persona.model_validate(ALICE)
    assert alice.demographics.age == 38 and alice.demographics.income == 61000.0
    assert alice.big_five.agreeableness == 0.8
    assert alice.values == ["family", "security"]
    assert alice.description.startswith("A night-shift nurse")
    # fields a file leaves out take their defaults
    assert personas[1].big_five == BigFive() and personas[1].demographics.age is None


def test_single_mapping_file_is_one_persona(write):
    personas = load_personas(write("one.yaml", yaml.safe_dump(BOB)))
    assert [p.id for p in personas] == ["bob"]


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".jsonl"])
def test_save_and_load_round_trip(tmp_path, suffix):
    carol = Persona(id="carol", name="Carol Ñúñez 陈", description="unicode survives", attention=3,
                    roles={"bidder": {"budget": 1.5e6, "strategy": "profiler"}})
    original = [Persona.model_validate(ALICE), Persona.model_validate(BOB), carol]
    path = tmp_path / f"out{suffix}"
    save_personas(original, path)
    assert load_personas(path, roles={"bidder": BidderRole}) == original
    # and the file is what its suffix says
    text = path.read_text(encoding="utf-8")
    if suffix == ".jsonl":
        assert [json.loads(line)["id"] for line in text.splitlines()] == ["alice", "bob", "carol"]
    elif suffix == ".json":
        assert [r["id"] for r in json.loads(text)] == ["alice", "bob", "carol"]
    else:
        assert [r["id"] for r in yaml.safe_load(text)["personas"]] == ["alice", "bob", "carol"]


def test_save_to_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(BadInput, match="unknown file type"):
        save_personas([Persona.model_validate(BOB)], tmp_path / "people.txt")
    assert not (tmp_path / "people.txt").exists()


def test_typed_bidder_role(write):
    alice = load_personas(write("p.yaml", _yaml([ALICE])), roles={"bidder": BidderRole})[0]
    role = alice.role("bidder", BidderRole)
    assert isinstance(role, BidderRole)
    assert role.budget == 420000.0 and role.risk_attitude == -0.4
    assert role.overestimate == 0.0  # default
    assert role.preferences.school == 0.9 and role.preferences.location == "suburbs"
    assert role.preferences.size == 0.5  # default inside the nested model


def test_roles_are_only_checked_when_asked(write):
    """Without ``roles=``, a role is kept as data; asking for it typed then fails on the missing budget."""
    rec = {"id": "x", "name": "X", "roles": {"bidder": {"risk_attitude": 0.2}}}
    persona = load_personas(write("p.yaml", _yaml([rec])))[0]
    with pytest.raises(ValidationError, match="budget"):
        persona.role("bidder", BidderRole)


def test_card_summarises_the_persona():
    card = Persona.model_validate(ALICE).card()
    assert card.startswith("Alice Moreau (38, female, nurse, suburbs)")
    assert "O0.70" in card and "N0.40" in card and card.endswith("saving for a first home.")


# -- errors name the file, the record and the field ---------------------------------------------------

def _error(path, **kw) -> BadInput:
    with pytest.raises(BadInput) as info:
        load_personas(path, **kw)
    err = info.value
    assert err.source == str(path)
    assert "\n" not in err.line()
    return err


def test_missing_name(write):
    path = write("p.yaml", _yaml([ALICE, {"id": "bob"}]))
    err = _error(path)
    assert err.field == "personas[1] (id 'bob').name"
    assert err.problem == "Field required"
    assert err.line() == f"{path}: personas[1] (id 'bob').name: Field required"


def test_missing_bidder_budget(write):
    path = write("p.yaml", _yaml([ALICE, {"id": "bob", "name": "Bob", "roles": {"bidder": {"risk_attitude": 0.1}}}]))
    err = _error(path, roles={"bidder": BidderRole})
    assert err.field == "personas[1] (id 'bob').roles.bidder.budget"
    assert err.problem == "Field required"


def test_missing_role_entirely_is_a_missing_budget(write):
    path = write("p.yaml", _yaml([{"id": "bob", "name": "Bob"}]))
    err = _error(path, roles={"bidder": BidderRole})
    assert err.field == "personas[0] (id 'bob').roles.bidder.budget"


def test_jsonl_errors_name_the_line(write):
    path = write("p.jsonl", json.dumps(ALICE) + "\n\n" + json.dumps({"id": "bob", "name": ""}) + "\n")
    err = _error(path)
    assert err.field == "line 3 (id 'bob').name"
    assert "at least 1 character" in err.problem


def test_wrong_type(write):
    path = write("p.yaml", _yaml([{**BOB, "demographics": {"age": "forty"}}]))
    err = _error(path)
    assert err.field == "personas[0] (id 'bob').demographics.age"
    assert "valid integer" in err.problem and "'forty'" in err.problem


def test_wrong_type_in_role(write):
    path = write("p.json", json.dumps([{**BOB, "roles": {"bidder": {"budget": "lots"}}}]))
    err = _error(path, roles={"bidder": BidderRole})
    assert err.field == "personas[0] (id 'bob').roles.bidder.budget"
    assert "valid number" in err.problem and "'lots'" in err.problem


@pytest.mark.parametrize("trait, value, bound", [("openness", 1.5, "less than or equal to 1"),
                                                 ("neuroticism", -0.1, "greater than or equal to 0")])
def test_big_five_out_of_range(write, trait, value, bound):
    path = write("p.yaml", _yaml([{**BOB, "big_five": {trait: value}}]))
    err = _error(path)
    assert err.field == f"personas[0] (id 'bob').big_five.{trait}"
    assert bound in err.problem and f"got {value}" in err.problem


def test_role_value_out_of_range(write):
    path = write("p.yaml", _yaml([{**BOB, "roles": {"bidder": {"budget": 1000, "risk_attitude": 3}}}]))
    err = _error(path, roles={"bidder": BidderRole})
    assert err.field == "personas[0] (id 'bob').roles.bidder.risk_attitude"


def test_extra_fields_are_kept_but_typos_inside_known_parts_are_errors(write):
    path = write("p.yaml", _yaml([{**BOB, "hobbies": ["chess"], "favourite_colour": "teal"}]))
    (bob,) = load_personas(path)
    assert bob.model_extra == {"hobbies": ["chess"], "favourite_colour": "teal"}
    path = write("q.yaml", _yaml([{**BOB, "demographics": {"agee": 40}}]))
    err = _error(path)
    assert err.field == "personas[0] (id 'bob').demographics.agee" and err.problem == "unknown field"


def test_every_problem_of_a_file_is_reported_at_once(write):
    bad = [{**BOB, "big_five": {"openness": 2}}, {"id": "x y", "name": ""}, {**ALICE, "attention": 0}]
    path = write("p.yaml", _yaml(bad))
    err = _error(path, roles={"bidder": BidderRole})
    fields = [p.field for p in (err, *err.more)]
    assert fields == ["personas[0] (id 'bob').big_five.openness", "personas[1] (id 'x y').id",
                      "personas[1] (id 'x y').name", "personas[2] (id 'alice').attention"]
    assert all(line.startswith(f"{path}: personas[") for line in err.lines())


def test_a_field_map_reads_another_tools_format(write):
    rows = [{"name": "ann", "display": "Ann", "money": 300000, "trait": "bold"}]
    path = write("p.json", json.dumps(rows))
    (ann,) = load_personas(path, roles={"bidder": BidderRole},
                           field_map={"id": "name", "name": "display", "roles.bidder.budget": "money"})
    assert ann.id == "ann" and ann.name == "Ann" and ann.role("bidder", BidderRole).budget == 300000
    assert ann.model_extra == {"trait": "bold"}  # unmapped fields stay, as extra persona fields


def test_bad_id(write):
    path = write("p.yaml", _yaml([{**BOB, "id": "bob smith"}]))
    err = _error(path)
    assert err.field == "personas[0] (id 'bob smith').id"
    assert "pattern" in err.problem


def test_duplicate_ids(write):
    path = write("p.yaml", _yaml([ALICE, BOB, {**BOB, "name": "Another Bob"}]))
    err = _error(path)
    assert err.field == "personas[2]"
    assert err.problem == "duplicate persona id 'bob'"


def test_duplicate_ids_in_jsonl(write):
    path = write("p.jsonl", "".join(json.dumps(r) + "\n" for r in (BOB, ALICE, BOB)))
    assert _error(path).field == "line 3"


def test_malformed_yaml_names_the_line(write):
    text = "personas:\n  - id: a\n    name: A\n  - id: b\n    name: [B\n    age: 3\n"
    path = write("p.yaml", text)
    err = _error(path)
    assert err.problem.startswith("malformed YAML")
    # the parser notices on line 6; the message also names line 5, where the bracket was left open
    assert err.field == "line 6"
    assert "flow sequence at line 5" in err.problem


def test_malformed_yaml_indentation(write):
    path = write("p.yaml", "personas:\n  - id: a\n    name: A\n   bad: indent\n")
    err = _error(path)
    assert err.field == "line 4" and err.problem.startswith("malformed YAML")


def test_malformed_json_names_the_line(write):
    path = write("p.json", '[\n  {"id": "a", "name": "A"},\n  {"id": "b" "name": "B"}\n]\n')
    err = _error(path)
    assert err.field == "line 3"
    assert "not valid JSON" in err.problem


def test_malformed_jsonl_names_the_line(write):
    path = write("p.jsonl", json.dumps(ALICE) + "\n" + json.dumps(BOB) + "\n" + '{"id": "c", "name": \n')
    err = _error(path)
    assert err.field == "line 3" and "not valid JSON" in err.problem


@pytest.mark.parametrize(
    "name, text, problem",
    [
        ("p.yaml", "", "expected a list of personas"),
        ("p.yaml", "personas: []\n", "the file holds no personas"),
        ("p.json", "42", "expected a list of personas"),
        ("p.yaml", "- just a string\n", "a persona must be a mapping"),
        ("p.csv", "id,name\na,A\n", "unknown file type"),
    ],
)
def test_other_bad_files(write, name, text, problem):
    err = _error(write(name, text))
    assert problem in err.problem


def test_missing_file(tmp_path):
    err = _error(tmp_path / "nope.yaml")
    assert err.problem == "no such file"
