"""Config resolution: scenario defaults <- YAML file <- ``--set`` overrides, and its errors."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES
from simworld.scenarios.auction import AuctionConfig

from simworld.config import build_config, load_config_file, parse_override
from simworld.errors import BadInput
from simworld.runner import prepare


@pytest.mark.parametrize(
    "text, parts, value",
    [
        ("n_bidders=7", ["n_bidders"], 7),
        ("population.income.median=1000", ["population", "income", "median"], 1000),
        ("increment=0.05", ["increment"], 0.05),
        ("reveal_bids=false", ["reveal_bids"], False),
        ("reveal_bids=yes", ["reveal_bids"], True),  # YAML 1.1 booleans
        ("reserve_price=null", ["reserve_price"], None),
        ("format=dutch", ["format"], "dutch"),
        ("strategy={truthful: 0.5, profiler: 0.5}", ["strategy"], {"truthful": 0.5, "profiler": 0.5}),
        ("population.age_range=[20, 60]", ["population", "age_range"], [20, 60]),
        ("note=a=b", ["note"], "a=b"),  # only the first '=' splits
        ("name=", ["name"], ""),
        ("x=[1, 2", ["x"], "[1, 2"),  # not valid YAML: kept as the literal string
        ("x='007'", ["x"], "007"),  # quoting keeps a string a string
    ],
)
def test_parse_override(text, parts, value):
    assert parse_override(text) == (parts, value)


@pytest.mark.parametrize("text, problem", [("n_bidders", "expected key.path=value"), ("=3", "bad key path"),
                                           ("a..b=1", "bad key path"), ("a.=1", "bad key path")])
def test_parse_override_errors(text, problem):
    with pytest.raises(BadInput) as info:
        parse_override(text)
    assert info.value.source == "--set" and problem in info.value.problem


def cfg(overrides=None, file_values=None, file_name=None) -> AuctionConfig:
    return build_config(AuctionConfig, "auction", file_values, file_name, overrides)  # type: ignore[return-value]


def test_defaults_without_overrides():
    c = cfg()
    assert c == AuctionConfig()
    assert c.format == "english" and c.population.income.median == 55_000.0


def test_typed_values_from_set():
    c = cfg(["n_bidders=7", "format=second_price", "reveal_bids=false", "strategy={truthful: 1, profiler: 3}",
             "population.age_range=[20, 60]", "increment=0.05"])
    assert c.n_bidders == 7 and c.format == "second_price" and c.reveal_bids is False
    assert c.strategy == {"truthful": 1.0, "profiler": 3.0}
    assert c.population.age_range == (20, 60) and c.increment == 0.05


def test_nested_set_changes_one_value_and_keeps_its_siblings():
    c = cfg(["population.income.median=1000"])
    assert c.population.income.median == 1000.0
    assert c.population.income.sigma == 0.5  # the default, kept
    assert c.population.budget.correlation == 0.7 and c.population.gender["female"] == 0.49


def test_nested_set_into_mappings():
    c = cfg(["population.big_five.openness.mean=0.9", "population.gender.female=0.8"])
    assert c.population.big_five["openness"].mean == 0.9 and c.population.big_five["openness"].sd == 0.15
    assert c.population.big_five["neuroticism"].mean == 0.5
    # one weight changed; the other categories stay
    assert c.population.gender == {"female": 0.8, "male": 0.49, "non-binary": 0.02}
    # a new category can be added by path too
    assert cfg(["population.gender.other=0.1"]).population.gender["other"] == 0.1


def test_set_wins_over_file_and_file_over_defaults():
    file_values = {"scenario": "auction", "seed": 3, "n_bidders": 4, "format": "dutch",
                   "population": {"income": {"median": 2000}, "budget": {"sigma": 0.2}}}
    c = cfg(["n_bidders=9", "population.income.sigma=0.1"], file_values, "c.yaml")
    assert c.n_bidders == 9  # --set over the file
    assert c.format == "dutch"  # from the file
    assert c.population.income.median == 2000 and c.population.income.sigma == 0.1  # file and --set merge
    assert c.population.budget.sigma == 0.2 and c.population.budget.median == 450_000.0  # partial file section


def test_file_mapping_replaces_a_default_mapping():
    """A whole mapping given in a file is the mapping: weights are not merged with the defaults."""
    c = cfg(None, {"population": {"gender": {"female": 1}}}, "c.yaml")
    assert c.population.gender == {"female": 1.0}


def test_python_api_overrides_mapping():
    c = cfg({"n_bidders": 3, "population.income.median": 1234.0, "strategy": {"truthful": 1}})
    assert c.n_bidders == 3 and c.population.income.median == 1234.0 and c.population.income.sigma == 0.5
    assert c.strategy == {"truthful": 1}


def _bad(overrides=None, file_values=None, file_name=None) -> BadInput:
    with pytest.raises(BadInput) as info:
        cfg(overrides, file_values, file_name)
    assert "\n" not in info.value.line()
    return info.value


def test_unknown_top_level_key():
    err = _bad(["nbidders=3"])
    assert err.source == "--set nbidders=3"
    assert "unknown field 'nbidders' for scenario auction" in err.problem and "n_bidders" in err.problem


@pytest.mark.parametrize(
    "override, field, known",
    [
        ("population.incom.median=3", "population.incom", "income"),
        ("population.income.mu=3", "population.income.mu", "median, sigma"),
        ("population.budget.corr=0.2", "population.budget.corr", "correlation"),
    ],
)
def test_unknown_nested_key_names_the_field(override, field, known):
    err = _bad([override])
    assert err.source == f"--set {override}"
    assert f"unknown field '{field}'" in err.problem and known in err.problem


def test_unknown_nested_key_in_a_file_names_file_and_field():
    err = _bad(None, {"population": {"incom": {"median": 3}}}, "conf.yaml")
    assert err.source == "conf.yaml" and err.field == "population.incom" and err.problem == "unknown field"


def test_wrongly_typed_values():
    err = _bad(["n_bidders=abc"])
    assert err.source == "--set n_bidders=abc" and err.field == "n_bidders"
    assert "valid integer" in err.problem and "'abc'" in err.problem
    err = _bad(["population.income.median=abc"])
    assert err.field == "population.income.median" and "valid number" in err.problem
    assert "more error" not in err.problem  # the kept sibling (sigma) is not reported missing
    err = _bad(["n_bidders.x=3"])
    assert err.field == "n_bidders"


def test_out_of_range_and_invalid_choices():
    assert _bad(["n_bidders=0"]).field == "n_bidders"
    err = _bad(["format=vickrey"])
    assert err.field == "format" and "'english'" in err.problem and "'vickrey'" in err.problem
    err = _bad(["strategy=greedy"])
    assert err.field == "strategy" and "unknown strategy 'greedy'" in err.problem
    assert _bad(["population.age_range=[60, 20]"]).field == "population.age_range"


def test_bad_value_from_the_file_names_the_file():
    err = _bad(None, {"n_bidders": "many"}, "conf.yaml")
    assert err.source == "conf.yaml" and err.field == "n_bidders"
    # ... unless --set replaced that part
    err = _bad(["n_bidders=many"], {"n_bidders": 3}, "conf.yaml")
    assert err.source == "--set n_bidders=many"


# -- config files --------------------------------------------------------------------------------------

def test_load_config_file(write):
    path = write("c.yaml", "scenario: auction\nseed: 4\nn_bidders: 6\npopulation:\n  income: {median: 9}\n")
    assert load_config_file(path) == {"scenario": "auction", "seed": 4, "n_bidders": 6,
                                      "population": {"income": {"median": 9}}}
    assert load_config_file(write("empty.yaml", "")) == {}


@pytest.mark.parametrize(
    "text, field, problem",
    [
        ("scenario: auction\nn_bidders: [1, 2\n", "line 3, column 1", "malformed YAML"),
        ("scenario: auction\n  n_bidders: 3\n", "line 2, column 12", "malformed YAML"),
        ("- scenario: auction\n", None, "expected a mapping of config keys, got list"),
    ],
)
def test_bad_config_files(write, text, field, problem):
    path = write("c.yaml", text)
    with pytest.raises(BadInput) as info:
        load_config_file(path)
    assert info.value.source == str(path) and info.value.field == field and problem in info.value.problem


def test_missing_config_file(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_config_file(tmp_path / "nope.yaml")


def test_prepare_from_a_config_file(write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sub = tmp_path / "conf"
    write("conf/people.yaml", "personas:\n" + "".join(
        f"  - {{id: p{i}, name: P{i}, roles: {{bidder: {{budget: {1000 * (i + 1)}}}}}}}\n" for i in range(3)))
    path = write("conf/c.yaml", "scenario: auction\nseed: 12\npersonas: people.yaml\nformat: dutch\n")
    prepared = prepare(str(path))
    assert prepared.seed == 12 and prepared.source == str(path)
    assert prepared.scenario.config.format == "dutch"
    # a relative path in a config file is relative to that file, not to the working directory
    assert prepared.scenario.resolve_path(prepared.scenario.config.personas).path == sub / "people.yaml"
    assert [p.id for p in prepared.scenario.inputs.personas] == ["p0", "p1", "p2"]  # read by check()
    assert prepare(str(path), seed=5).seed == 5  # --seed wins over the file


@pytest.mark.parametrize(
    "text, field, problem",
    [
        ("n_bidders: 3\n", "scenario", "missing field"),
        ("scenario: auction\nseed: abc\n", "seed", "must be an integer"),
        ("scenario: auction\nseed: true\n", "seed", "must be an integer"),
        ("scenario: auction\nn_bidders: lots\n", "n_bidders", "valid integer"),
    ],
)
def test_prepare_rejects_bad_config_files(write, text, field, problem):
    path = write("c.yaml", text)
    with pytest.raises(BadInput) as info:
        prepare(str(path))
    assert info.value.source == str(path) and info.value.field == field and problem in info.value.problem


def test_user_scenario_config_from_file(write):
    path = write("c.yaml", f"scenario: {EXAMPLES / 'coin_game.py'}\nrounds: 3\npopulation:\n  attention: 2\n")
    prepared = prepare(str(path), overrides=["population.big_five.openness.mean=0.8"])
    c = prepared.scenario.config
    assert type(prepared.scenario).__name__ == "CoinGame"
    assert c.rounds == 3 and c.population.attention == 2 and c.population.big_five["openness"].mean == 0.8


def test_blame_goes_to_the_override_on_that_path_only():
    file_values = {"population": {"income": {"median": "abc"}}}
    err = _bad(["population.gender.x=1"], file_values, "conf.yaml")
    assert err.source == "conf.yaml" and err.field == "population.income.median"
    err = _bad(["population.income.median=-5"], {"population": {"gender": {"a": 1}}}, "conf.yaml")
    assert err.source == "--set population.income.median=-5"


def test_file_values_are_not_modified():
    file_values = {"population": {"income": {"median": 10}}}
    cfg(["population.income.sigma=0.2"], file_values, "c.yaml")
    assert file_values == {"population": {"income": {"median": 10}}}


def test_nested_override_through_prepare_and_the_manifest(tmp_path):
    import simworld as sw

    prepared = prepare("auction", overrides=["population.income.median=1000", "n_bidders=2", "n_items=1"])
    assert prepared.scenario.config.population.income.sigma == 0.5
    result = sw.run("auction", out=tmp_path, overrides=["population.income.median=1000", "n_bidders=2", "n_items=1"])
    income = sw.load_run(result.path).config["population"]["income"]
    assert income == {"median": 1000.0, "sigma": 0.5}


@pytest.mark.parametrize(
    "override, field, problem",
    [
        # a value that fits none of a union's types: one message, without pydantic's type tags in the path
        ("strategy=[1]", "strategy", "Input should be a valid string or a valid dictionary (got [1])"),
        ("strategy={truthful: x}", "strategy.truthful", "valid number"),
        ("reserve_price=abc", "reserve_price", "valid number"),
        # a capitalised mapping key is kept in the path
        ("population.gender.Female=x", "population.gender.Female", "valid number"),
    ],
)
def test_union_errors_read_as_one(override, field, problem):
    err = _bad([override])
    assert err.field == field and problem in err.problem and "more error" not in err.problem
