"""LLM viewers in the fidelity protocol (Agent4Rec / SimUSER): model brains answer the watch and rate
questions through the gateway (structured answers validated against WatchChoices / ItemRatings, a budget,
the cache); the report counts every decision that fell back to the rule policy."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

pytest.importorskip("langgraph")
from openai_server import ScriptedServer
from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles, write_movielens
from simworld.scenarios.recommender.fidelity import fidelity, fidelity_brains


def fidelity_responder(messages):
    """Watches every other candidate; rates 4; for viewer u3 answers the wrong length, for u5 nonsense."""
    full = "\n".join(str(m.get("content", "")) for m in messages)
    seen = re.search(r"What you see now: (\{.*\})", full)
    ctx = json.loads(seen.group(1)) if seen else {}
    items = ctx.get("items", [])
    if "Viewer u5" in full:
        return json.dumps({"rationale": "no idea"})  # invalid: the rule policy answers
    if "fidelity.watch" in full:
        assert ctx["you"]["recently_rated"] and ctx["you"]["favourite_genres"]  # the viewer's own profile
        n = len(items) + (1 if "Viewer u3" in full else 0)
        return json.dumps({"watch": [k % 2 == 0 for k in range(n)], "rationale": "half of them"})
    if "fidelity.rate" in full:
        return json.dumps({"ratings": [4] * len(items), "rationale": "fine"})
    return json.dumps({"rationale": "?"})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(6)
    cat = generate_catalogue(120, rng)
    roles = synthetic_roles(30, cat, rng)
    return write_movielens(tmp_path_factory.mktemp("ml"), cat, synthetic_ratings(cat, roles, rng, 25), "100k")


def model(srv, tmp_path, **more):
    return [f"model.base_url={srv.base_url}", "model.model=scripted", "model.api_key_env=null",
            f"model.cache_path={tmp_path / 'cache.sqlite'}", *(f"model.{k}={v}" for k, v in more.items())]


def test_llm_viewers_answer_through_the_gateway_and_fallbacks_are_counted(data, tmp_path):
    """Asked through the prompt only, u5's two answers lack the list and u3's watch answer has one item too
    many (the question's schema holds exactly one answer per item): after a repair round each falls back
    to the rule policy, and the report counts the three."""
    with ScriptedServer(fidelity_responder) as srv:
        brains = fidelity_brains(["brain=llm", *model(srv, tmp_path, structured="prompt")])
        report = fidelity(data, ratios=[1], seed=1, max_users=8, brains=brains)
        assert srv.requests > 0
    assert report["brain"] == "llm" and report["users"] == 8
    assert report["decisions"] == 16  # 8 users x (one watch question + one rate question)
    assert report["fallbacks"] == 3 == sum(report["fallback_reasons"].values())
    assert report["rating_mean"]["simulated"] == pytest.approx(4.0, abs=0.5)  # mostly the model's 4s
    assert set(report["baselines"]["discrimination"]) == {"random", "popularity", "item_knn", "mf"}


def test_with_native_structured_output_every_answer_has_one_entry_per_item(data, tmp_path):
    """The same model behind a server that constrains output to the question's schema: the schema asks for
    exactly as many answers as items, so nothing falls back and every answer is the model's."""
    with ScriptedServer(fidelity_responder) as srv:
        report = fidelity(data, ratios=[1], seed=1, max_users=8, brains=fidelity_brains(["brain=llm", *model(srv, tmp_path)]))
        sizes = []
        for body in srv.bodies:
            schema = body["response_format"]["json_schema"]["schema"]
            prop = next(v for k, v in schema["properties"].items() if k in ("watch", "ratings"))
            items = json.loads(re.search(r"What you see now: (\{.*\})", body["messages"][-1]["content"]).group(1))["items"]
            sizes.append((prop["minItems"], prop["maxItems"], len(items)))
    assert sizes and all(lo == hi == n for lo, hi, n in sizes)
    assert report["fallbacks"] == 0 and srv.requests == report["decisions"] == 16


def test_a_spent_budget_hands_the_rest_to_the_rule_policy_and_the_cache_replays(data, tmp_path):
    with ScriptedServer(fidelity_responder) as srv:
        brains = fidelity_brains(["brain=llm", *model(srv, tmp_path, max_calls=3)])
        report = fidelity(data, ratios=[1], seed=1, max_users=8, brains=brains)
    # the gateway checks its budget before each batch: the eight rate questions come after it is spent
    assert report["fallback_reasons"]["model"] >= 8
    cached = tmp_path / "again"
    with ScriptedServer(fidelity_responder) as srv:
        full = fidelity(data, ratios=[1], seed=1, max_users=8, brains=fidelity_brains(["brain=llm", *model(srv, cached)]))
        first = srv.requests
        again = fidelity(data, ratios=[1], seed=1, max_users=8,
                         brains=fidelity_brains(["brain=llm", *model(srv, cached, cache="replay")]))
        assert srv.requests == first > 0  # every answer of the second run from the cache
    assert again == full


def test_cli_takes_brain_settings_with_set(cli, data, tmp_path):
    with ScriptedServer(fidelity_responder) as srv:
        res = cli("fidelity", data, "--ratios", "1", "--max-users", "6", "--json", "--set", "brain=llm",
                  *[a for s in model(srv, tmp_path, structured="prompt") for a in ("--set", s)])
        assert res.returncode == 0, res.stderr
        report = json.loads(res.out_lines[-1])
        assert report["brain"] == "llm" and report["fallbacks"] >= 1
        table = cli("fidelity", data, "--ratios", "1", "--max-users", "6", "--set", "brain=llm",
                    *[a for s in model(srv, tmp_path, structured="prompt", cache="replay") for a in ("--set", s)])
    assert "fell back to the rule policy" in table.stdout, table.stderr
    bad = cli("fidelity", data, "--set", "brain=nope")
    assert bad.returncode == 2 and "brain" in bad.stderr and len(bad.err_lines) == 1


def half_star_responder(messages):
    """Watches every candidate; rates 3.5 (a half star) or, on whole-star data, 4."""
    full = "\n".join(str(m.get("content", "")) for m in messages)
    items = json.loads(re.search(r"What you see now: (\{.*\})", full).group(1)).get("items", [])
    if "fidelity.watch" in full:
        return json.dumps({"watch": [True] * len(items), "rationale": "all"})
    return json.dumps({"ratings": [3.5] * len(items), "rationale": "middling"})


def test_on_half_star_data_the_rate_question_asks_for_half_stars(tmp_path):
    """On a MovieLens 'latest'-style set the rating answer is HalfStarRatings: the schema sent to the model
    allows 0.5 to 5 in steps of 0.5, and the model's 3.5s are taken as they are."""
    pytest.importorskip("pandas")
    from simworld.scenarios.recommender.csvdata import write_csv

    rng = np.random.default_rng(8)
    cat = generate_catalogue(100, rng)
    ratings = synthetic_ratings(cat, synthetic_roles(20, cat, rng), rng, 20)
    ratings.ratings = np.clip(ratings.ratings - 0.5 * (rng.random(len(ratings)) < 0.4), 0.5, 5.0)
    folder = write_csv(tmp_path / "latest", cat, ratings, "latest")
    assert ".5," in (folder / "ratings.csv").read_text()
    with ScriptedServer(half_star_responder) as srv:
        report = fidelity(folder, ratios=[1], seed=1, max_users=6, brains=fidelity_brains(["brain=llm", *model(srv, tmp_path)]))
        rate_schemas = [b["response_format"]["json_schema"]["schema"] for b in srv.bodies
                        if "ratings" in b["response_format"]["json_schema"]["schema"]["properties"]]
    item = rate_schemas[0]["properties"]["ratings"]["items"]
    assert item["type"] == "number" and item["minimum"] == 0.5 and item["maximum"] == 5 and item["multipleOf"] == 0.5
    assert report["fallbacks"] == 0 and report["rating_mean"]["simulated"] == pytest.approx(3.5)
    assert report["rating_distribution"]["levels"][0] == 0.5
