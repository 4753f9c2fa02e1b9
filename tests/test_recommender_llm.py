"""Model-brain viewers: page decisions through world.decide_many against a scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

pytest.importorskip("langgraph")
from openai_server import ScriptedServer

import simworld as sw


def viewer_responder(messages):
    full = "\n".join(str(m.get("content", "")) for m in messages)
    seen = re.search(r"What you see now: (\{.*\})", full)
    ctx = json.loads(seen.group(1)) if seen else {}
    if "recommender.page" in full and ctx.get("items"):
        first = ctx["items"][0]["id"]
        return json.dumps({"watch": [first], "ratings": [4], "leave": ctx.get("page", 1) >= 2,
                           "reason": "satisfied", "rationale": "the first one looks good"})
    return json.dumps({"rationale": "no idea"})  # invalid: the rule policy decides and the fallback is logged


def test_model_viewers_watch_rate_and_leave_through_the_gateway(tmp_path):
    with ScriptedServer(viewer_responder) as srv:
        model = {"base_url": srv.base_url, "model": "scripted", "api_key_env": None,
                 "cache_path": str(tmp_path / "cache.sqlite")}
        res = sw.run("recommender", seed=2, out=tmp_path / "runs",
                     overrides={"n_users": 6, "n_items": 60, "days": 2.0, "brain": "llm", "model": model})
        assert srv.requests > 0
    log = sw.load_run(res.path)
    kinds = Counter(e.kind for e in log.events())
    assert kinds["model.call"] > 0 and kinds["recommender.watched"] > 0
    acted = [e for e in log.events(kind="agent.acted") if e.data["decision"] == "recommender.page"]
    assert acted and all(e.data["brain"] == "llm" for e in acted)
    # the model sees what the viewer perceives (the noticed items' public fields), not the policy's indices
    asked = list(log.events(kind="decision.requested"))
    assert asked and all(set(e.data["context"]) == {"session", "page", "watched_in_session", "items"} for e in asked)
    assert all(set(item) == {"id", "title", "genres", "year"} for e in asked for item in e.data["context"]["items"])
    pages = {e.seq: e for e in log.events(kind="recommender.page_shown")}
    for w in log.events(kind="recommender.watched"):
        assert w.data["position"] == pages[w.causes[0]].data["noticed"][0]  # the first noticed item
    assert res.metrics["arms"]["popular"]["average_rating"] == pytest.approx(4.0)
