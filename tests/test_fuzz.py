"""Property tests: whatever bytes a user (or an attacker) hands a loader, the answer is the loaded value or
one BadInput naming the file; never another exception. And the CLI answers any argument list with exit 0
or 2 and, for 2, one line on stderr.

Examples are drawn by hypothesis with a fixed derandomised seed, so the suite is repeatable.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import simworld as sw
from simworld.config import load_config_file, parse_override

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: JSON-like values, nested a little, with the awkward scalars (huge ints, inf, NaN, control chars).
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                      st.dictionaries(st.text(max_size=10), inner, max_size=5)),
                      max_leaves=25)
#: Raw bytes that look a bit like the formats (so parsers get past the first character sometimes).
raw_text = st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=string.printable + "\u00e9\u2028\x00&*!|>-[]{}:", max_size=300).map(str.encode),
)


def _loaded_or_bad_input(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except sw.BadInput as err:
        assert err.source and err.problem and "\n" not in err.line()


def _persona_record(fields: dict) -> dict:  # type: ignore[type-arg]
    return {"id": "p1", "name": "P", **fields}


@SETTINGS
@given(raw=raw_text, suffix=st.sampled_from([".yaml", ".yml", ".json", ".jsonl", ".txt"]))
def test_persona_and_item_files_of_any_bytes(tmp_path: Path, raw: bytes, suffix: str) -> None:
    from simworld.agents import load_personas
    from simworld.scenarios.auction import load_houses

    path = tmp_path / f"f{suffix}"
    path.write_bytes(raw)
    _loaded_or_bad_input(load_personas, path)
    _loaded_or_bad_input(load_houses, path)


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(["big_five", "demographics", "roles", "attention", "values",
                                               "goals", "description", "name", "id"]), values, max_size=4))
def test_persona_records_of_any_shape(tmp_path: Path, fields: dict) -> None:  # type: ignore[type-arg]
    from simworld.agents import load_personas
    from simworld.scenarios.auction import BidderRole

    path = tmp_path / "p.json"
    path.write_text(json.dumps({"personas": [_persona_record(fields)]}, allow_nan=True))
    _loaded_or_bad_input(load_personas, path, {"bidder": BidderRole})


@SETTINGS
@given(raw=raw_text)
def test_config_files_of_any_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(raw)
    _loaded_or_bad_input(load_config_file, path)


@SETTINGS
@given(doc=st.dictionaries(st.sampled_from(["format", "n_bidders", "strategy", "population", "memory", "model",
                                            "reserve_price", "brain", "increment", "values", "seed", "scenario"]),
                           values, max_size=4))
def test_auction_configs_of_any_shape(tmp_path: Path, doc: dict) -> None:  # type: ignore[type-arg]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**doc, "scenario": "auction"}))
    _loaded_or_bad_input(sw.prepare, path)


@SETTINGS
@given(key=st.text(alphabet=string.ascii_letters + "._", min_size=1, max_size=20), value=st.text(max_size=60))
def test_set_overrides_of_any_text(key: str, value: str) -> None:
    _loaded_or_bad_input(parse_override, f"{key}={value}")
    _loaded_or_bad_input(sw.prepare, "auction", 0, [f"{key}={value}"])


@SETTINGS
@given(raw=raw_text, suffix=st.sampled_from([".json", ".jsonl"]))
def test_esconv_files_of_any_bytes(tmp_path: Path, raw: bytes, suffix: str) -> None:
    from simworld.scenarios.support.esconv import load_esconv

    path = tmp_path / f"c{suffix}"
    path.write_bytes(raw)
    _loaded_or_bad_input(load_esconv, path)


@SETTINGS
@given(conv=st.dictionaries(st.sampled_from(["dialog", "survey_score", "problem_type", "emotion_type", "id",
                                             "initial_intensity"]), values, max_size=4),
       turn=st.dictionaries(st.sampled_from(["speaker", "content", "annotation", "strategy", "feedback"]), values,
                            max_size=4))
def test_esconv_conversations_of_any_shape(tmp_path: Path, conv: dict, turn: dict) -> None:  # type: ignore[type-arg]
    from simworld.scenarios.support.esconv import load_esconv

    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"dialog": [turn], **conv}], allow_nan=True))
    _loaded_or_bad_input(load_esconv, path)


@SETTINGS
@given(raw=raw_text, suffix=st.sampled_from([".yaml", ".json"]))
def test_debate_network_files_of_any_bytes(tmp_path: Path, raw: bytes, suffix: str) -> None:
    from simworld.scenarios.debate.network import parse_edges

    path = tmp_path / f"n{suffix}"
    path.write_bytes(raw)
    _loaded_or_bad_input(parse_edges, path)


CLI_WORDS = ["run", "validate", "analyze", "schema", "list", "replay", "fidelity", "auction", "debate",
             "--seed", "--set", "--out", "--json", "--quiet", "-q", "--run-id", "--scenario", "--export",
             "n_bidders=2", "format=dutch", "x.y=1", "-1", "1e9", str(2**64), "", "..", "/", "no-such.yaml",
             "\udcff", "memory.kind=list", "brain=llm", "model.cache=off"]


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=st.lists(st.sampled_from(CLI_WORDS), min_size=1, max_size=5))
def test_the_cli_answers_any_arguments_with_0_or_2(cli_inproc, args: list[str]) -> None:
    assume("replay" not in args or "--export" in args)  # serving a page is not fuzzed here
    if "replay" in args:
        args = [*args, "--no-browser"]
    if args[0] == "run" and "--out" not in args:
        args = [*args, "--out", "runs"]
    res = cli_inproc(*args)
    assert res.returncode in (0, 1, 2, 130), res
    assert "Traceback" not in res.stderr
    if res.returncode == 2:
        assert len(res.err_lines) == 1, res.stderr


@SETTINGS
@given(items=raw_text, ratings=raw_text, release=st.sampled_from(["100k", "1m"]))
def test_movielens_folders_of_any_bytes(tmp_path: Path, items: bytes, ratings: bytes, release: str) -> None:
    from simworld.scenarios.recommender.movielens import load_movielens

    folder = tmp_path / "ml"
    folder.mkdir(exist_ok=True)
    names = ("u.item", "u.data") if release == "100k" else ("movies.dat", "ratings.dat")
    for name, raw in zip(names, (items, ratings)):
        (folder / name).write_bytes(raw)
    _loaded_or_bad_input(load_movielens, folder)


def test_movielens_edge_cases_are_one_line(tmp_path: Path) -> None:
    from simworld.scenarios.recommender.movielens import load_movielens

    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "u.item").write_text("1|A (1999)|01-Jan-1999||x|" + "|".join(["0"] * 18 + ["1"]) + "\n")
    for ratings, says in (("", "holds no ratings"), (f"1\t1\t5\t{2**64}\n", "out of range"),
                          ("1\t1\t5\t" + "9" * 5000 + "\n", "must be an integer")):
        (folder / "u.data").write_text(ratings)
        with pytest.raises(sw.BadInput, match=says):
            load_movielens(folder)
