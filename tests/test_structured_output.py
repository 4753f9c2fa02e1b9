"""Structured output (model.structured), several servers per model (model.base_url as a list) and named
models per brain kind, against real loopback servers speaking the OpenAI and Ollama protocols."""

from __future__ import annotations

import json
import socket
from collections import Counter

import httpx
import pytest
from openai_server import ScriptedServer

import simworld as sw
from simworld.errors import BadInput
from simworld.models.openai_client import strict_schema


def model(srv: ScriptedServer | str | list[str], tmp_path, **extra):
    url = srv.base_url if isinstance(srv, ScriptedServer) else srv
    return {"base_url": url, "model": "scripted", "api_key_env": None, "cache": "off", "max_retries": 1, **extra}


def auction(tmp_path, name, bidders=4, lots=2, seed=3, **overrides):
    res = sw.run("auction", seed=seed, out=tmp_path / name,
                 overrides={"format": "first_price", "n_bidders": bidders, "n_items": lots, "brain": "llm",
                            "memory": {"kind": "list"}, **overrides})
    return res, sw.load_run(res.path)


def count(log, kind):
    return sum(1 for _ in log.events(kind=kind))


def test_twenty_bidders_five_lots_against_a_schema_only_server_one_request_per_decision(tmp_path):
    """The server answers prose unless the request constrains the output (a model that needs it): with
    native structured output every decision is one request and none falls back."""
    with ScriptedServer(prose_unless_constrained=True) as srv:
        _res, log = auction(tmp_path, "a", bidders=20, lots=5, model=model(srv, tmp_path))
        decisions = count(log, "agent.acted")
        assert decisions == 100
        assert count(log, "decision.fallback") == 0
        assert srv.requests == decisions == srv.constrained_requests
        assert all(b["response_format"]["type"] == "json_schema" for b in srv.bodies)
    assert log.manifest["models"]["llm"]["structured"] == "json_schema"
    bids = [e.data["action"]["amount"] for e in log.events(kind="agent.acted")]
    assert all(isinstance(b, (int, float)) and b >= 0 for b in bids)


def test_the_same_server_in_prompt_mode_repairs_then_falls_back_every_time(tmp_path):
    """What structured output saves: asked through the prompt only, prose costs a repair and a fallback."""
    with ScriptedServer(prose_unless_constrained=True) as srv:
        _res, log = auction(tmp_path, "p", model=model(srv, tmp_path, structured="prompt"))
        assert count(log, "decision.fallback") == count(log, "agent.acted") == 8
        assert srv.requests == 16 and srv.constrained_requests == 0
        assert not any("response_format" in b or "tools" in b for b in srv.bodies)


def test_tools_mode_reads_the_answer_from_the_function_call(tmp_path):
    with ScriptedServer(prose_unless_constrained=True) as srv:
        _res, log = auction(tmp_path, "t", model=model(srv, tmp_path, structured="tools"))
        assert count(log, "decision.fallback") == 0 and srv.requests == count(log, "agent.acted") == 8
        body = srv.bodies[0]
        assert body["tool_choice"] == {"type": "function", "function": {"name": "answer"}}
        assert body["tools"][0]["function"]["parameters"]["additionalProperties"] is False
    assert log.manifest["models"]["llm"]["structured"] == "tools"


def test_auto_falls_back_to_the_prompt_once_when_the_server_refuses_constraints(tmp_path):
    with ScriptedServer(refuse_constraints=True) as srv:
        _res, log = auction(tmp_path, "auto", model=model(srv, tmp_path))  # structured: auto (the default)
        decisions = count(log, "agent.acted")
        assert count(log, "decision.fallback") == 0
        # the first round's requests (four bidders at once) were refused and asked again through the
        # prompt; every later decision went through the prompt at once
        refused = sum(1 for b in srv.bodies if "response_format" in b)
        assert 1 <= refused <= 4 and srv.requests == decisions + refused
        assert all("response_format" not in b for b in srv.bodies[4 + refused:])
    entry = log.manifest["models"]["llm"]
    assert entry["structured"] == "prompt" and "refused schema-constrained output" in entry["structured_note"]


def test_explicit_json_schema_against_a_refusing_server_falls_back_with_the_reason(tmp_path):
    with ScriptedServer(refuse_constraints=True) as srv:
        _res, log = auction(tmp_path, "js", bidders=2, lots=1, model=model(srv, tmp_path, structured="json_schema"))
        reasons = [e.data["reason"] for e in log.events(kind="decision.fallback")]
        assert len(reasons) == 2 and all("HTTP 400" in r and "not supported" in r for r in reasons)
        assert srv.requests == 2  # a 400 is not retried


def test_the_loopback_server_rejects_what_vllm_rejects():
    with ScriptedServer() as srv, httpx.Client(timeout=10) as client:
        url = f"{srv.base_url}/chat/completions"
        msgs = [{"role": "user", "content": "hi"}]

        def post(**extra):
            return client.post(url, json={"model": "m", "messages": msgs, **extra})

        assert post(response_format={"type": "json_schema"}).status_code == 400  # no schema
        assert post(response_format={"type": "yaml"}).status_code == 400
        assert post(response_format={"type": "json_schema", "json_schema": {
            "name": "a", "schema": {"type": "object", "properties": {"n": {"type": "nope"}}}}}).status_code == 400
        assert post(tools=[{"type": "function", "function": {"name": "f"}}]).status_code == 400
        schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}, "required": ["n"],
                  "additionalProperties": False}
        ok = post(response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}})
        assert ok.status_code == 200
        assert json.loads(ok.json()["choices"][0]["message"]["content"]) == {"n": 3}


def test_strict_schema_closes_objects_and_requires_every_property():
    schema = {"type": "object", "title": "Bid", "properties": {
        "amount": {"type": "number", "default": 0}, "note": {"type": "object", "properties": {"x": {}}}}}
    out = strict_schema(schema)
    assert out["additionalProperties"] is False and out["required"] == ["amount", "note"]
    assert out["properties"]["note"] == {"type": "object", "properties": {"x": {}}, "additionalProperties": False,
                                         "required": ["x"]}
    assert "default" not in out["properties"]["amount"] and "title" not in out
    assert schema["title"] == "Bid"  # the input is left alone


def test_ollama_gets_the_schema_as_format(tmp_path):
    with ScriptedServer(prose_unless_constrained=True) as srv:
        spec = model(f"http://127.0.0.1:{srv.port}", tmp_path, provider="ollama")
        _res, log = auction(tmp_path, "o", model=spec)
        assert count(log, "decision.fallback") == 0 and srv.requests == count(log, "agent.acted") == 8
        assert all(isinstance(b["format"], dict) and b["stream"] is False for b in srv.bodies)
        assert srv.bodies[0]["options"]["temperature"] == 0.0
    calls = list(log.events(kind="model.call"))
    assert all(c.data["provider"] == "ollama" for c in calls) and calls[0].data["output_tokens"] > 0


def test_requests_spread_over_servers_and_are_counted_per_server(tmp_path):
    with ScriptedServer(delay=0.05) as a, ScriptedServer(delay=0.05) as b:
        _res, log = auction(tmp_path, "two", bidders=12, lots=2, model=model([a.base_url, b.base_url], tmp_path))
        assert count(log, "decision.fallback") == 0
        # twelve decisions at once: least outstanding requests sends about half to each
        assert a.requests + b.requests == 24 and min(a.requests, b.requests) >= 8
        assert a.max_in_flight >= 4 and b.max_in_flight >= 4
    servers = log.manifest["models"]["llm"]["servers"]
    assert servers == {a.base_url: {"calls": a.requests, "failures": 0}, b.base_url: {"calls": b.requests, "failures": 0}}


def test_a_failing_server_is_rested_and_its_requests_go_elsewhere(tmp_path):
    with ScriptedServer(faults={"500": 1}) as bad, ScriptedServer() as good:
        _res, log = auction(tmp_path, "fo", bidders=6, lots=2, model=model([bad.base_url, good.base_url], tmp_path))
        assert count(log, "decision.fallback") == 0 and count(log, "agent.acted") == 12
        assert good.requests == 12
        # the bad server saw the first requests of the first round, then rested (5 s) for the rest of the run
        assert 1 <= bad.requests <= 6
    entry = log.manifest["models"]["llm"]["servers"]
    assert entry[bad.base_url]["failures"] == bad.requests and entry[good.base_url]["failures"] == 0


def test_a_server_that_is_down_fails_over_at_once(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with ScriptedServer() as good:
        _res, log = auction(tmp_path, "down", bidders=3, lots=1, model=model([dead, good.base_url], tmp_path))
        assert count(log, "decision.fallback") == 0 and good.requests == 3
    assert log.manifest["models"]["llm"]["servers"][dead]["failures"] >= 1


def test_named_models_serve_a_mixed_population(tmp_path):
    with ScriptedServer() as big, ScriptedServer() as small:
        _res, log = auction(tmp_path, "mixed", bidders=10, lots=1, brain={"big": 0.3, "small": 0.7},
                           models={"big": model(big, tmp_path, model="big-model"),
                                   "small": model(small, tmp_path, model="small-model")})
        brains = Counter(e.data["brain"] for e in log.events(kind="agent.acted"))
        assert brains == {"big": 3, "small": 7}
        assert big.requests == 3 and small.requests == 7
        assert {b["model"] for b in big.bodies} == {"big-model"} and {b["model"] for b in small.bodies} == {"small-model"}
    assert set(log.manifest["models"]) == {"big", "small"}
    calls = Counter(e.data["model"] for e in log.events(kind="model.call"))
    assert calls == {"big-model": 3, "small-model": 7}


@pytest.mark.parametrize(("overrides", "field", "problem"), [
    ({"brain": "huge"}, "brain", "unknown brain 'huge'"),
    ({"models": {"llm": {"model": "x"}}}, "models", "cannot name a model"),
    ({"model": {"base_url": []}}, "model.base_url", "at least one URL"),
    ({"model": {"base_url": ["http://a:1/v1", "http://a:1/v1"]}}, "model.base_url", "the same URL twice"),
    ({"model": {"base_url": "ftp://a/v1"}}, "model.base_url", "not an http(s) URL"),
    ({"model": {"structured": "grammar"}}, "model.structured", "auto"),
])
def test_bad_model_settings_name_the_field(tmp_path, overrides, field, problem):
    with pytest.raises(BadInput) as info:
        sw.run("auction", seed=1, out=tmp_path, overrides=overrides)
    assert field in str(info.value) and problem in str(info.value)
    assert not any(tmp_path.iterdir())  # nothing written


def test_cache_off_is_accepted_from_yaml_and_set(tmp_path):
    """YAML reads a bare `off` as false; model.cache takes it as the word it was meant to be."""
    from simworld.cli import main

    cache = tmp_path / "never.sqlite"
    with ScriptedServer() as srv:
        config = tmp_path / "c.yaml"
        config.write_text(f"scenario: auction\nformat: first_price\nn_bidders: 2\nn_items: 1\nbrain: llm\nmodel:\n  base_url: "
                          f"{srv.base_url}\n  api_key_env: null\n  cache: off\n  cache_path: {cache}\n")
        assert main(["run", str(config), "-q", "--out", str(tmp_path / "a")]) == 0
        assert main(["run", "auction", "--set", "format=first_price", "--set", "n_bidders=2", "--set", "n_items=1",
                     "--set", "brain=llm", "--set", f"model.base_url={srv.base_url}", "--set", "model.api_key_env=null",
                     "--set", f"model.cache_path={cache}", "--set", "model.cache=off", "-q",
                     "--out", str(tmp_path / "b")]) == 0
        assert srv.requests == 4  # nothing served from a cache
    assert not cache.exists()
    for folder in ("a", "b"):
        run = next((tmp_path / folder).iterdir())
        assert "cache" not in sw.load_run(run).manifest["models"]["llm"]
