"""Model-backed sweeps: one model cache shared by the runs' processes, and one model budget per sweep."""

from __future__ import annotations

import asyncio
import csv
import json
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from openai_server import ScriptedServer

from simworld.models.types import ChatRequest, ChatResponse
from simworld.models.wrappers import Cache
from simworld.sweep import run_sweep

QUOTE = Path(__file__).with_name("quote_scenario.py")
WRITERS, ENTRIES = 4, 150


class Echo:
    """A model that answers with the question (so every stored answer can be checked against its key)."""

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return ChatResponse(text="answer to " + request.messages[0]["content"], input_tokens=1, output_tokens=1)


def write_entries(path: str, writer: int, start: multiprocessing.synchronize.Event) -> None:
    cache = Cache(Echo(), Path(path), "read_write", "openai", "echo", {})
    start.wait()

    async def go() -> None:
        for i in range(ENTRIES):
            await cache.complete(ChatRequest([{"role": "user", "content": f"w{writer} q{i}"}]))

    asyncio.run(go())
    cache.close()


def test_processes_writing_one_cache_at_once_neither_corrupt_it_nor_lose_entries(tmp_path):
    path = tmp_path / "cache.sqlite"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=write_entries, args=(str(path), w, start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    start.set()  # every writer commits its entries one by one, all at the same time
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = [json.loads(r[0])["text"] for r in db.execute("SELECT response FROM responses")]
    assert sorted(stored) == sorted(f"answer to w{w} q{i}" for w in range(WRITERS) for i in range(ENTRIES))
    replay = Cache(Echo(), path, "replay", "openai", "echo", {})  # every entry is found under its key
    for w in range(WRITERS):
        got = asyncio.run(replay.complete(ChatRequest([{"role": "user", "content": f"w{w} q{ENTRIES - 1}"}])))
        assert got.cached and got.text == f"answer to w{w} q{ENTRIES - 1}"
    replay.close()


def colour_responder(messages):
    text = "\n".join(str(m.get("content", "")) for m in messages)
    colour = text.split("favourite colour: ")[1].split(".")[0].split("\n")[0] if "favourite colour: " in text else ""
    return json.dumps({"amount": float(len(colour)), "rationale": colour})


def sweep_file(tmp_path: Path, base_url: str, cache: str, name: str) -> Path:
    spec = tmp_path / name
    spec.write_text(f"""
scenario: {QUOTE}
set:
  n: 5
  model: {{base_url: "{base_url}", model: scripted, api_key_env: null, cache: {cache},
           cache_path: "{tmp_path / 'shared.sqlite'}"}}
grid:
  persona.favourite_colour: [red, blue, green, yellow, purple, orange]
seeds: 2
""", encoding="utf-8")
    return spec


@pytest.mark.slow
def test_a_model_backed_sweep_fills_one_shared_cache_that_replays_every_run_exactly(tmp_path):
    with ScriptedServer(responder=colour_responder) as srv:
        first = run_sweep(sweep_file(tmp_path, srv.base_url, "read_write", "a.yaml"), tmp_path / "live",
                          executor="local", workers=3)
        asked = {json.dumps(b, sort_keys=True) for b in srv.bodies}
    assert first.status == {"completed": 12}
    db = sqlite3.connect(tmp_path / "shared.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == len(asked)  # one entry per question
    db.close()
    # the server is gone: replay mode answers every run from the shared cache, or the run fails
    again = run_sweep(sweep_file(tmp_path, srv.base_url, "replay", "a.yaml"), tmp_path / "replay",
                      executor="local", workers=3)
    assert again.status == {"completed": 12}
    with (tmp_path / "replay" / "results.csv").open() as fh:
        totals = [(r["persona.favourite_colour"], float(r["total"])) for r in csv.DictReader(fh)]
    assert totals[::2] == [(c, 5.0 * len(c)) for c in ("red", "blue", "green", "yellow", "purple", "orange")]
    for run in (tmp_path / "live" / "runs").iterdir():  # the same log, but for the config's cache mode
        live = (run / "events.jsonl").read_text().splitlines()
        replayed = (tmp_path / "replay" / "runs" / run.name / "events.jsonl").read_text().splitlines()
        assert live[1:] == replayed[1:] and live[0].replace('"read_write"', '"replay"') == replayed[0]


ASKER = '''
from typing import Any
from pydantic import BaseModel, Field
from simworld.agents import Cast, Persona
from simworld.agents.brain_config import BrainSettings
from simworld.decisions import DecisionRequest
import simworld as sw

class Amount(BaseModel):
    amount: float = Field(ge=0)
    rationale: str = ""

class AskerConfig(BrainSettings):
    brain: str | dict[str, float] = "llm"
    rounds: int = 5

class Asker(sw.Scenario):
    """One agent asked `rounds` times, one question at a time."""
    name = "asker"
    Config = AskerConfig
    config: AskerConfig

    def setup(self, world: sw.World) -> None:
        one = lambda *args: Amount(amount=1.0)
        self.agent = Cast(world, self.config).add(Persona(id="a", name="A"), one, "one", "llm")

    def processes(self, world: sw.World) -> list[Any]:
        def ask() -> Any:
            for i in range(self.config.rounds):
                yield world.env.timeout(1.0)
                yield self.agent.decide(DecisionRequest(f"round.{i}", Amount))
        return [ask()]

    def metrics(self, log: sw.RunLog) -> dict[str, Any]:
        return {"by_model": sum(1 for e in log.events(kind="agent.acted") if e.data.get("brain") != "rule")}
'''


@pytest.mark.slow
def test_the_sweep_budget_caps_model_calls_over_all_runs(tmp_path):
    """10 calls for 4 runs of 5 questions each: shares 3, 3, 2, 2; past its share a run's agent decides
    with its rule policy (on_budget: rule), so the sweep asks the model exactly 10 times."""
    (tmp_path / "asker.py").write_text(ASKER, encoding="utf-8")
    with ScriptedServer(responder=lambda m: json.dumps({"amount": 2.0, "rationale": "model"})) as srv:
        (tmp_path / "s.yaml").write_text(f"""
scenario: asker.py
set:
  model: {{base_url: "{srv.base_url}", model: scripted, api_key_env: null, cache: off, on_budget: rule}}
grid:
  rounds: [5]
seeds: 4
budget: {{max_calls: 10}}
""", encoding="utf-8")
        result = run_sweep(tmp_path / "s.yaml", tmp_path / "out", executor="local", workers=2)
        assert srv.requests == 10
    assert result.status == {"completed": 4}
    calls = {}
    for run in sorted((tmp_path / "out" / "runs").iterdir()):
        manifest = json.loads((run / "manifest.json").read_text())
        calls[run.name] = (manifest["config"]["model"]["max_calls"], manifest["models"]["llm"]["calls"])
    assert calls == {"arm00-s0": (3, 3), "arm00-s1": (3, 3), "arm00-s2": (2, 2), "arm00-s3": (2, 2)}


def open_and_write(path: str, writer: int, start: multiprocessing.synchronize.Event, errors: Any) -> None:
    start.wait()  # every process opens the new cache file at the same instant
    try:
        cache = Cache(Echo(), Path(path), "read_write", "openai", "echo", {})
        asyncio.run(cache.complete(ChatRequest([{"role": "user", "content": f"w{writer}"}])))
        cache.close()
    except Exception as err:  # noqa: BLE001 - reported to the test
        errors.put(f"{type(err).__name__}: {err}")


@pytest.mark.slow
def test_processes_opening_a_new_cache_at_once_all_get_it(tmp_path):
    """The runs of a sweep start together and open the (new) shared cache at once: switching it to WAL
    takes a lock SQLite's busy timeout does not wait for; without the retry about one round in eight
    lost a run to 'database is locked' here."""
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    for r in range(8):
        path = tmp_path / f"round{r}.sqlite"
        start = ctx.Event()
        procs = [ctx.Process(target=open_and_write, args=(str(path), w, start, errors)) for w in range(6)]
        for p in procs:
            p.start()
        start.set()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0] * 6
        assert errors.empty(), errors.get()
        db = sqlite3.connect(path)
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone() == (6,)
        db.close()
