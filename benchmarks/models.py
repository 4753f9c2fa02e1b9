"""Model benchmark: the CPU one model decision costs, concurrency, start-up, and cached reruns.

Everything is measured against baselines in the same run, with the OpenAI-compatible test server
(tests/openai_server.py) in a separate process so that its CPU is not counted:

1. marginal CPU per model decision: first-price auctions of N_small and N_large model bidders against an
   instant server (CPU of this process, after a warm-up run that pays the imports), the difference divided by
   the extra decisions; against the baseline, a bare httpx loop making the same number of chat-completion
   requests with the same concurrency (its CPU per request). The aim: at most 1 ms more than the bare loop.
2. the same from the cache (a rerun: zero requests): CPU per decision. Aim: at most 1 ms.
3. a round of 100 simultaneous decisions against a 200 ms server (max_concurrency 100: the whole round in
   flight at once): its wall time against one call's. Aim: within 2.5x.
4. start-up: the wall time of `simworld run` with two model bidders (instant server) against the same run
   with rule bidders, best of 3 each. Aim: at most 1 s more.

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import httpx

ROOT = Path(__file__).resolve().parents[1]
SERVER = """
import sys, time
sys.path.insert(0, {tests!r})
from openai_server import ScriptedServer
with ScriptedServer(delay={delay}) as s:
    print(s.port, flush=True)
    time.sleep(36000)
"""


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Server:
    """The test server in its own process."""

    def __init__(self, delay: float = 0.0) -> None:
        code = SERVER.format(tests=str(ROOT / "tests"), delay=delay)
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{self.proc.stdout.readline().strip()}/v1"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def bare_httpx(url: str, n: int, concurrency: int) -> float:
    """CPU per request of n chat-completion requests through httpx, ``concurrency`` at a time."""
    body = {"model": "scripted", "messages": [{"role": "user", "content": "Decision: auction.sealed\nWhat you see "
                                                                       'now: {"value": 100000.0}'}]}

    async def go() -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            sem = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with sem:
                    r = await client.post(f"{url}/chat/completions", json=body)
                    r.raise_for_status()
                    r.json()

            await asyncio.gather(*(one() for _ in range(n)))

    t0 = cpu()
    asyncio.run(go())
    return (cpu() - t0) / n


def auction(url: str, n: int, folder: Path, cache: str, cache_path: Path | None = None,
            concurrency: int = 64) -> tuple[float, Any]:
    import simworld as sw

    t0 = cpu()
    res = sw.run("auction", seed=1, out=folder, overrides={
        "format": "first_price", "n_bidders": n, "n_items": 1, "brain": "llm", "memory": {"kind": "list"},
        "model": {"base_url": url, "model": "scripted", "api_key_env": None, "cache": cache,
                  "cache_path": str(cache_path or folder / "cache.sqlite"), "max_concurrency": concurrency}})
    return cpu() - t0, res


BATCH_WALL: list[float] = []


def _timed_batches() -> None:
    """Time each resolution of simultaneous model decisions (the round itself, without run setup)."""
    from simworld.agents.model_brain import ModelBrain

    original = ModelBrain.decide_batch

    def timed(self: ModelBrain, items: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(self, items)
        finally:
            BATCH_WALL.append(time.perf_counter() - t0)

    ModelBrain.decide_batch = timed  # type: ignore[method-assign]


def one_call_wall(url: str) -> float:
    body = {"model": "scripted", "messages": [{"role": "user", "content": "hello"}]}
    with httpx.Client(timeout=30) as client:
        client.post(f"{url}/chat/completions", json=body)  # connect first
        t0 = time.perf_counter()
        client.post(f"{url}/chat/completions", json=body).raise_for_status()
        return time.perf_counter() - t0


def cli_wall(args: list[str], cwd: Path) -> float:
    # as a user runs it: with the installed packages' bytecode caches (a PYTHONPYCACHEPREFIX would make
    # every run recompile what has no cache there, and count compiling as start-up)
    env = dict(os.environ)
    cwd.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simworld", "run", *args, "-q", "--out", str(cwd)], check=True,
                   stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 30 s)")
    args = ap.parse_args()
    small, large = (50, 250) if args.quick else (100, 500)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, Server() as instant:
        folder = Path(tmp)
        auction(instant.url, 5, folder / "warm", "off")  # pays the imports
        # 1. marginal CPU per decision, and the bare httpx loop
        runs = {"small": [], "large": [], "bare": []}  # type: dict[str, list[float]]
        for _ in range(3):
            runs["small"].append(auction(instant.url, small, folder / f"s{len(runs['small'])}", "off")[0])
            runs["large"].append(auction(instant.url, large, folder / f"l{len(runs['large'])}", "off")[0])
            runs["bare"].append(bare_httpx(instant.url, large - small, 64))
        marginal = (min(runs["large"]) - min(runs["small"])) / (large - small)
        bare = min(runs["bare"])
        out["cpu_per_decision_ms"] = round(marginal * 1000, 3)
        out["bare_httpx_cpu_per_request_ms"] = round(bare * 1000, 3)
        out["cpu_beyond_bare_ms"] = round((marginal - bare) * 1000, 3)
        # 2. from the cache
        cache = folder / "shared.sqlite"
        auction(instant.url, small, folder / "cs0", "read_write", cache)
        auction(instant.url, large, folder / "cl0", "read_write", cache)
        cached = [auction(instant.url, n, folder / f"c{n}-{k}", "read_write", cache)[0]
                  for k in range(2) for n in (small, large)]
        per_cached = (min(cached[1::2]) - min(cached[0::2])) / (large - small)
        out["cached_cpu_per_decision_ms"] = round(per_cached * 1000, 3)
        # 4. start-up: a model run against a rule run (instant server, two bidders, one lot)
        common = ["auction", "--set", "n_bidders=2", "--set", "n_items=1", "--set", "format=first_price"]
        model = [*common, "--set", "brain=llm", "--set",
                 f"model={{base_url: '{instant.url}', model: scripted, api_key_env: null, cache: 'off'}}"]
        rule_wall = min(cli_wall(common, folder / "cli") for _ in range(3))
        model_wall = min(cli_wall(model, folder / "cli") for _ in range(3))
        out["startup"] = {"rule_run_s": round(rule_wall, 3), "model_run_s": round(model_wall, 3),
                          "overhead_s": round(model_wall - rule_wall, 3)}
    # 3. a round of 100 simultaneous decisions against a 200 ms server
    _timed_batches()
    with tempfile.TemporaryDirectory() as tmp, Server(delay=0.2) as slow:
        one = min(one_call_wall(slow.url) for _ in range(3))
        BATCH_WALL.clear()
        auction(slow.url, 100, Path(tmp), "off", concurrency=100)  # the whole round in flight at once
        out["round_of_100"] = {"round_s": round(BATCH_WALL[0], 3), "one_call_s": round(one, 3),
                               "ratio": round(BATCH_WALL[0] / one, 2)}
    print(f"CPU per model decision: {out['cpu_per_decision_ms']} ms (bare httpx request: "
          f"{out['bare_httpx_cpu_per_request_ms']} ms; beyond it: {out['cpu_beyond_bare_ms']} ms)")
    print(f"from the cache: {out['cached_cpu_per_decision_ms']} ms per decision")
    print(f"round of 100 at 200 ms: {out['round_of_100']}")
    print(f"start-up: {out['startup']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
