"""Model benchmark: concurrent model decisions against a 200 ms OpenAI-compatible server, and a cached rerun.

For N = 1, 10, 100 bidders deciding at one simulated instant (one first-price lot), measures the wall
time of that round against N sequential calls to the same server made in the same run (the baseline), then
reruns the largest case from the cache. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openai_server import ScriptedServer

import simworld as sw


def sequential_calls(base_url: str, n: int) -> float:
    """Baseline: n chat-completion requests one after another."""
    body = {"model": "scripted", "messages": [{"role": "user", "content": "Decision: auction.sealed"}]}
    t0 = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for _ in range(n):
            client.post(f"{base_url}/chat/completions", json=body).raise_for_status()
    return time.perf_counter() - t0


BATCH_WALL: list[float] = []


def _timed_batches() -> None:
    """Time each resolution of simultaneous model decisions (the round itself, without run setup)."""
    from simworld.agents.model_brain import ModelBrain

    original = ModelBrain.decide_batch

    def timed(self, items):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return original(self, items)
        finally:
            BATCH_WALL.append(time.perf_counter() - t0)

    ModelBrain.decide_batch = timed  # type: ignore[method-assign]


def model_round(base_url: str, n: int, folder: Path, cache: Path, name: str) -> tuple[float, sw.RunResult]:
    BATCH_WALL.clear()
    res = sw.run("auction", seed=1, out=folder, run_id=name, overrides={
        "format": "first_price", "n_bidders": n, "n_items": 1, "brain": "llm",
        "model": {"base_url": base_url, "model": "scripted", "api_key_env": None, "cache_path": str(cache),
                  "max_concurrency": 128}})
    assert len(BATCH_WALL) == 1, "all N decisions must resolve in one batch"
    return BATCH_WALL[0], res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N up to 100 but fewer repeats (about 30 s)")
    ap.parse_args()  # --quick is accepted: the full run already takes about 30 s
    sizes = (1, 10, 100)
    out: dict[str, object] = {"server_delay_s": 0.2}
    _timed_batches()
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(delay=0.2) as srv:
        folder = Path(tmp)
        for n in sizes:
            wall, res = model_round(srv.base_url, n, folder, folder / f"cache{n}.sqlite", f"n{n}")
            seq = sequential_calls(srv.base_url, n)
            out[f"n{n}"] = {"concurrent_s": round(wall, 3), "sequential_s": round(seq, 3),
                            "speedup": round(seq / wall, 2), "calls": res.stats["decisions"]}
            print(f"N={n:>3}: one round {wall:.2f} s vs {n} sequential calls {seq:.2f} s -> {seq / wall:.1f}x")
        before = srv.requests
        wall, res = model_round(srv.base_url, sizes[-1], folder, folder / f"cache{sizes[-1]}.sqlite", "rerun")
        original = out[f"n{sizes[-1]}"]["concurrent_s"]  # type: ignore[index]
        out["cached_rerun"] = {"wall_s": round(wall, 3), "original_s": original,
                               "speedup": round(original / wall, 2), "new_requests": srv.requests - before}
        print(f"cached rerun of N={sizes[-1]}: {wall:.2f} s vs {original:.2f} s, {srv.requests - before} requests")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
