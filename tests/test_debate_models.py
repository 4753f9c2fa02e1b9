"""Debate and support with model brains against a scripted OpenAI-compatible server: the model's own text
is spoken, with the same typed label the rule brains use; a rerun from the cache is identical."""

from __future__ import annotations

import json
import re

from openai_server import ScriptedServer

import simworld as sw


def responder(messages):
    full = "\n".join(str(m.get("content", "")) for m in messages)
    user = messages[-1]["content"] if messages else ""
    if '"insights"' in user:
        return json.dumps({"insights": ["People listen to evidence."]})
    decision = re.search(r"Decision: (\S+)", full)
    kind = decision.group(1) if decision else ""
    if kind == "debate.argue":
        return json.dumps({"move": "evidence", "text": "MODEL: the numbers from other cities back me.", "rationale": "r"})
    if kind == "debate.private":
        return json.dumps({"to": None, "text": "", "rationale": "r"})
    if kind == "debate.vote":
        return json.dumps({"vote": "for", "rationale": "r"})
    if kind == "support.respond":
        return json.dumps({"strategy": "Reflection of Feelings", "text": "MODEL: that sounds really hard.", "rationale": "r"})
    if kind == "support.seek":
        return json.dumps({"text": "MODEL: I still feel bad.", "end": False, "rationale": "r"})
    if kind == "support.feedback":
        return json.dumps({"score": 4, "rationale": "r"})
    return "{}"


def overrides(srv, tmp_path):
    return {"brain": "llm", "model": {"base_url": srv.base_url, "model": "scripted", "api_key_env": None,
                                      "cache_path": str(tmp_path / "cache.sqlite")}}


def test_model_debaters_speak_their_own_text_with_the_typed_move(tmp_path):
    cfg = {"n_debaters": 2, "n_audience": 2, "rounds": 1, "interruptions": 0, "leave_rate": 0}
    with ScriptedServer(responder) as srv:
        res = sw.run("debate", seed=2, out=tmp_path / "a", overrides={**cfg, **overrides(srv, tmp_path)})
        first = srv.requests
        again = sw.run("debate", seed=2, out=tmp_path / "b", overrides={**cfg, **overrides(srv, tmp_path)})
        assert srv.requests == first > 0  # the rerun is served from the cache
    log = sw.load_run(res.path)
    spoken = [e for e in log.events(kind="message.sent") if e.data.get("move") and not e.data.get("private")]
    assert spoken and all(e.data["text"].startswith("MODEL:") and e.data["move"] == "evidence" for e in spoken)
    assert res.metrics["propositions"]["p1"]["verdict"]["tally"]["for"] == 2
    assert (res.path / "events.jsonl").read_bytes() == (again.path / "events.jsonl").read_bytes()


def test_model_supporters_use_esconv_labels_and_their_own_text(tmp_path):
    with ScriptedServer(responder) as srv:
        res = sw.run("support", seed=2, out=tmp_path / "a", overrides={
            "n_seekers": 2, "n_supporters": 1, "max_turns": 3, **overrides(srv, tmp_path)})
    log = sw.load_run(res.path)
    said = [e for e in log.events(kind="message.sent") if e.data.get("strategy")]
    assert said and all(e.data["text"].startswith("MODEL:") for e in said)
    assert res.metrics["strategy_distribution"]["Reflection of Feelings"] == 1.0
    assert res.metrics["feedback"] == 4.0
