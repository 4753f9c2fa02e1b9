"""Model brains against a real OpenAI-compatible HTTP server on 127.0.0.1 (scripted answers, faults)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from openai_server import ScriptedServer
from pydantic import BaseModel, Field

import simworld as sw
from simworld.models.langchain_client import TransientError
from simworld.models.types import ChatRequest, ChatResponse, ModelError
from simworld.models.wrappers import Budget, Cache, Retry


def llm_overrides(srv: ScriptedServer, tmp_path, **model):
    spec = {"base_url": srv.base_url, "model": "scripted", "api_key_env": None,
            "cache_path": str(tmp_path / "cache.sqlite"), **model}
    return {"brain": "llm", "model": spec}


def run(tmp_path, name, **overrides):
    return sw.run("auction", seed=5, out=tmp_path / name, overrides={"n_bidders": 4, "n_items": 2, **overrides})


def kinds(res):
    return Counter(e.kind for e in sw.load_run(res.path).events())


def test_model_bidders_finish_the_auction_through_every_fault(tmp_path):
    faults = {"500": 5, "429": 7, "timeout": 11, "malformed": 13, "truncated": 3}
    with ScriptedServer(faults=faults, hang=1.5, retry_after=0.2) as srv:
        res = run(tmp_path, "faults", format="first_price", n_items=3, **llm_overrides(srv, tmp_path, timeout=0.75))
    assert res.status == "completed"
    assert all(srv.fault_counts[f] > 0 for f in faults), srv.fault_counts
    log = sw.load_run(res.path)
    calls = list(log.events(kind="model.call", volatile=True))
    retries = [c.data["volatile"]["retries"] or 0 for c in calls]  # a wall-clock fact: beside the log
    assert sum(retries) > 0  # 500s, 429s, hangs and broken bodies were retried
    assert any(c.data["node"] == "repair" for c in calls)  # truncated JSON got a repair round
    acted = list(log.events(kind="agent.acted"))
    assert len(acted) == 4 * 3  # every bidder answered every sealed lot, by model or by fallback
    models = log.manifest["models"]["llm"]
    assert models["retries"] >= sum(retries) > 0 and models["calls"] == len(calls)
    # the action of each model decision names the model calls behind it
    call_seqs = {c.seq for c in calls}
    assert all(set(a.causes) & call_seqs for a in acted if a.data["brain"] == "llm")


def test_rerun_from_cache_is_identical_and_makes_no_requests(tmp_path):
    with ScriptedServer(faults={"500": 4, "truncated": 5}) as srv:
        first = run(tmp_path, "a", **llm_overrides(srv, tmp_path))
        n_requests = srv.requests
        second = run(tmp_path, "b", **llm_overrides(srv, tmp_path))
        assert srv.requests == n_requests > 0
        third = run(tmp_path, "c", **llm_overrides(srv, tmp_path, cache="replay"))
        assert srv.requests == n_requests
    assert (first.path / "events.jsonl").read_bytes() == (second.path / "events.jsonl").read_bytes()
    assert third.status == "completed"
    vol = sw.load_run(second.path).volatile()
    assert vol and all(v["cached"] for v in vol.values())  # wall-clock facts live beside the log
    assert not any(v["cached"] for v in sw.load_run(first.path).volatile().values())


def test_replay_mode_with_an_empty_cache_fails_clearly(tmp_path):
    with ScriptedServer() as srv, pytest.raises(sw.RunFailed, match="cache miss in replay mode"):
        run(tmp_path, "miss", **llm_overrides(srv, tmp_path, cache="replay"))


def test_budget_cap_ends_the_run_cleanly(tmp_path):
    with ScriptedServer() as srv:
        res = run(tmp_path, "stop", n_items=5, **llm_overrides(srv, tmp_path, max_calls=6))
        assert res.status == "stopped" and "max_calls=6" in res.reason
        log = sw.load_run(res.path)
        assert log.status == "stopped"
        assert [e.kind for e in log.events()][-1] == "run.finished"
        n_calls = sum(1 for _ in log.events(kind="model.call"))
        assert 6 <= n_calls <= 6 + 4  # at most one batch beyond the cap
        switched = run(tmp_path, "rule", n_items=5, **llm_overrides(srv, tmp_path / "c2", max_calls=6, on_budget="rule"))
    assert switched.status == "completed" and switched.metrics["lots"] == 5
    reasons = [e.data["reason"] for e in sw.load_run(switched.path).events(kind="decision.fallback")]
    assert reasons and all("model budget reached" in r for r in reasons)


def test_mixed_population_of_rule_and_model_bidders(tmp_path):
    with ScriptedServer() as srv:
        res = run(tmp_path, "mixed", n_bidders=6, **{**llm_overrides(srv, tmp_path), "brain": {"llm": 0.5, "rule": 0.5}})
    joined = Counter(e.data["brain"] for e in sw.load_run(res.path).events(kind="agent.joined"))
    assert joined == {"llm": 3, "rule": 3}
    assert kinds(res)["model.call"] > 0


def test_hundred_model_bidders_decide_concurrently(tmp_path):
    """100 simultaneous decisions against a 200 ms server are in flight together (benchmarks/models.py
    times it); with max_concurrency=10 never more than 10 are."""
    with ScriptedServer(delay=0.2) as srv:
        res = run(tmp_path, "many", format="first_price", n_bidders=100, n_items=1,
                  **llm_overrides(srv, tmp_path, max_concurrency=100))
        assert srv.requests == 100 and res.stats["batches"] == 1
        assert srv.max_in_flight >= 50  # not one after another (a 200 ms answer keeps each one open)
    with ScriptedServer(delay=0.05) as srv:
        run(tmp_path, "ten", format="first_price", n_bidders=30, n_items=1,
            **llm_overrides(srv, tmp_path / "c2", max_concurrency=10))
        assert 2 <= srv.max_in_flight <= 10


class Note(BaseModel):
    guess: str
    rationale: str = ""


class Secrets(sw.Scenario):
    """Two agents; only one witnesses a secret; both then answer a model decision."""

    name = "secrets"

    class Config(sw.ScenarioConfig):
        model: dict = Field(default_factory=dict)

    def setup(self, world):
        from simworld.agents import Agent, Persona
        from simworld.agents.brain_config import BrainFactory, BrainSettings

        brains = BrainFactory(world, BrainSettings(brain="llm", model=self.config.model))
        fallback = lambda *a: Note(guess="none")
        self.agents = [world.add_agent(Agent(Persona(id=i, name=i.upper()), brains.make("llm", fallback, "none")))
                       for i in ("a", "b")]

    def processes(self, world):
        from simworld.decisions import DecisionRequest

        def proc():
            world.emit("vault.opened", {"code": "PLUM-4471"}, witnesses=["a"])
            world.emit("weather.report", {"sky": "grey"}, witnesses=["a", "b"])
            yield world.decide_many([(a, DecisionRequest("vault.guess", Note)) for a in self.agents])

        return [proc()]


def test_prompts_hold_only_what_the_agent_perceived(tmp_path):
    with ScriptedServer(responder=lambda m: json.dumps({"guess": "x"})) as srv:
        spec = llm_overrides(srv, tmp_path)["model"]
        res = sw.run(Secrets, out=tmp_path, overrides={"model": spec})
    prompts = {"a": "", "b": ""}
    for call in sw.load_run(res.path).events(kind="model.call"):
        prompts[call.agent] += json.dumps(call.data["messages"])
    assert "PLUM-4471" in prompts["a"]  # the witness remembers it ...
    assert "PLUM-4471" not in prompts["b"] and "grey" in prompts["b"]  # ... the other never saw it


def test_api_key_never_reaches_any_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMWORLD_TEST_KEY", "sk-very-secret-0042")
    with ScriptedServer() as srv:
        res = run(tmp_path, "key", **llm_overrides(srv, tmp_path, api_key_env="SIMWORLD_TEST_KEY"))
    for path in [*res.path.iterdir(), tmp_path / "cache.sqlite"]:
        assert b"sk-very-secret-0042" not in path.read_bytes(), path


def test_theory_of_mind_node_updates_beliefs_about_remembered_agents_only(tmp_path):
    with ScriptedServer() as srv:
        res = run(tmp_path, "tom", theory_of_mind=True, **llm_overrides(srv, tmp_path))
    log = sw.load_run(res.path)
    tom_calls = [c for c in log.events(kind="model.call") if c.data["node"] == "theory_of_mind"]
    beliefs = [b for b in log.events(kind="belief.updated") if b.data["key"] == "eagerness"]
    assert tom_calls and beliefs
    agents = {e.agent for e in log.events(kind="agent.joined")}
    assert all(b.data["about"] in agents and b.data["about"] != b.agent for b in beliefs)
    assert not any(b.data["about"] == "stranger" for b in log.events(kind="belief.updated"))


def test_reflect_node_writes_model_reflections_with_evidence(tmp_path):
    with ScriptedServer() as srv:
        res = run(tmp_path, "reflect", memory={"reflection": {"mode": "model", "threshold": 5}},
                  **llm_overrides(srv, tmp_path))
    log = sw.load_run(res.path)
    assert any(c.data["node"] == "reflect" for c in log.events(kind="model.call"))
    written = [e for e in log.events(kind="memory.written") if e.data.get("kind") == "reflection"]
    assert written and "Prices rise quickly" in json.dumps(written[0].data)
    assert all(w.data.get("evidence") for w in written)


def test_a_users_own_langchain_chat_model_plugs_into_the_gateway(tmp_path):
    import httpx
    from langchain_openai import ChatOpenAI
    from simworld.agents import Agent, Persona
    from simworld.agents.model_brain import ModelBrain

    from simworld.decisions import DecisionRequest
    from simworld.models import ModelSpec
    from simworld.models.gateway import Gateway

    class Pair(sw.Scenario):
        name = "pair"

        def setup(self, world):
            chat = ChatOpenAI(model="mine", base_url=self.url, api_key="none", timeout=10, max_retries=0,
                              http_async_client=httpx.AsyncClient(timeout=10))  # closed with the gateway
            gateway = Gateway(ModelSpec(model="mine", cache="off"), world, chat_model=chat)
            world.on_close(lambda w: gateway.close())
            self.agent = world.add_agent(Agent(Persona(id="solo", name="Solo"),
                                               ModelBrain(gateway, fallback=lambda *a: Note(guess="rule"))))

        def processes(self, world):
            def proc():
                self.action = yield self.agent.decide(DecisionRequest("vault.guess", Note))
            return [proc()]

    with ScriptedServer(responder=lambda m: json.dumps({"guess": "from-model"})) as srv:
        Pair.url = srv.base_url
        res = sw.run(Pair, out=tmp_path)
        assert srv.requests == 1
    acted = next(sw.load_run(res.path).events(kind="agent.acted"))
    assert acted.data["action"]["guess"] == "from-model"


class Flaky:
    """A ChatClient that fails ``n`` times with a Retry-After, then answers."""

    def __init__(self, n: int, retry_after: float | None) -> None:
        self.n, self.retry_after, self.calls = n, retry_after, 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        if self.calls <= self.n:
            raise TransientError("busy", self.retry_after)
        return ChatResponse(text="ok", input_tokens=3, output_tokens=1)


def test_retry_honours_retry_after_and_gives_up_after_max_retries(monkeypatch):
    waits: list[float] = []

    async def no_sleep(delay: float) -> None:  # record the waits instead of spending them
        waits.append(delay)

    monkeypatch.setattr("simworld.models.wrappers.asyncio.sleep", no_sleep)
    out = asyncio.run(Retry(Flaky(2, 0.3), max_retries=3).complete(ChatRequest([])))
    assert out.text == "ok" and out.retries == 2 and waits == [0.3, 0.3]
    with pytest.raises(ModelError, match="gave up after 3 attempts") as failed:
        asyncio.run(Retry(Flaky(5, 0.0), max_retries=2).complete(ChatRequest([])))
    assert failed.value.retries == 2


def test_cache_serves_hits_and_records_failures_only_when_asked(tmp_path):
    inner = Flaky(0, None)
    cache = Cache(inner, tmp_path / "c.sqlite", "read_write", "openai", "m", {"temperature": 0})
    req = ChatRequest([{"role": "user", "content": "hi"}], seed=1)
    first = asyncio.run(cache.complete(req))
    again = asyncio.run(cache.complete(req))
    assert inner.calls == 1 and not first.cached and again.cached and again.text == "ok"
    other = ChatRequest([{"role": "user", "content": "hi"}], seed=2)  # the seed is part of the key
    assert cache.key(other) != cache.key(req)

    class Broken:
        calls = 0

        async def complete(self, request):
            Broken.calls += 1
            raise ModelError("provider said no")

    bad = ChatRequest([{"role": "user", "content": "bad"}])
    asking = Cache(Broken(), tmp_path / "c.sqlite", "read_write", "openai", "m", {})
    for _ in range(2):  # by default a failure is not kept: the second time the provider is asked again
        with pytest.raises(ModelError, match="provider said no"):
            asyncio.run(asking.complete(bad))
    assert Broken.calls == 2 and asking.hits == 0
    keeping = Cache(Broken(), tmp_path / "c.sqlite", "read_write", "openai", "m", {}, store_failures=True)
    for _ in range(2):  # with cache_failures the second time the failure comes from the cache
        with pytest.raises(ModelError, match="provider said no"):
            asyncio.run(keeping.complete(bad))
    assert Broken.calls == 3 and keeping.misses == 1 and keeping.hits == 1


def test_budget_counts_calls_and_tokens():
    budget = Budget(Flaky(0, None), max_calls=None, max_tokens=8)
    for _ in range(2):
        assert budget.exhausted() is None
        asyncio.run(budget.complete(ChatRequest([])))
    assert budget.exhausted() == "model budget reached: 8 tokens of max_total_tokens=8"


@pytest.mark.slow
def test_local_model_answers_under_the_schema_grammar(tmp_path):
    """The local model generates under the decision's JSON-schema grammar (xgrammar): every answer parses
    and fits, so there is one call per decision, no repair and no fallback."""
    pytest.importorskip("transformers")
    pytest.importorskip("xgrammar")
    res = sw.run("auction", seed=1, out=tmp_path, overrides={
        "brain": "local", "format": "first_price", "n_bidders": 2, "n_items": 1,
        "model": {"cache_path": str(tmp_path / "c.sqlite"), "max_retries": 0, "timeout": 600, "max_tokens": 96}})
    log = sw.load_run(res.path)
    calls = list(log.events(kind="model.call"))
    acted = list(log.events(kind="agent.acted"))
    assert len(acted) == 2 and all(a.data["brain"] == "local" for a in acted)
    assert [c.data["node"] for c in calls] == ["deliberate", "deliberate"]
    assert all(c.data["provider"] == "local" and c.data["error"] is None for c in calls)
    assert list(log.events(kind="decision.fallback")) == []
    assert log.manifest["models"]["local"]["structured"] == "grammar"
    assert res.status == "completed"


def test_a_strict_budget_is_never_passed_even_by_decisions_made_together(tmp_path):
    """Three bidders decide at once with max_calls 2: by default the batch under way finishes (3 calls);
    with budget_strict the third call is refused and that bidder's rule policy decides."""
    def run_with(strict: bool, name: str):
        with ScriptedServer() as srv:
            res = sw.run("auction", seed=2, out=tmp_path / name, overrides={
                "format": "first_price", "n_bidders": 3, "n_items": 1, **llm_overrides(
                    srv, tmp_path, cache="off", max_calls=2, on_budget="rule", budget_strict=strict)})
            return srv.requests, sw.load_run(res.path)

    loose, _ = run_with(False, "loose")
    strict, log = run_with(True, "strict")
    assert loose == 3 and strict == 2
    fallbacks = [e.data["reason"] for e in log.events(kind="decision.fallback")]
    assert len(fallbacks) == 1 and "model budget reached: 2 calls of max_calls=2" in fallbacks[0]
    assert log.manifest["models"]["llm"]["calls"] == 2
