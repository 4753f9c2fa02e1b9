"""Kernel benchmark: rule-brain decisions per second, and the kernel's overhead against bare simpy.

Measures in one run (the machines are shared and noisy, so only same-run ratios mean anything):
  1. bare simpy: processes that each yield a timeout, events per second (the baseline);
  2. the kernel: processes that each do ``action = yield agent.decide(request)`` with a trivial rule
     policy, logging every decision to a real events.jsonl; decisions per second;
  3. the auction scenario with 1,000 rule bidders (English and first-price): decisions per second.
The last line printed is one JSON object with every figure and the ratios.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import simpy
from pydantic import BaseModel
from simworld.agents import Agent, Persona, RuleBrain
from simworld.memory import ListMemory

import simworld as sw
from simworld.decisions import DecisionRequest
from simworld.gctune import quiet_gc
from simworld.runlog import RunWriter
from simworld.world import World


class Move(BaseModel):
    step: int


def bare_simpy(n_procs: int, steps: int) -> float:
    """Seconds for n_procs processes x steps timeouts in plain simpy."""
    env = simpy.Environment()

    def proc(env: simpy.Environment):
        for _ in range(steps):
            yield env.timeout(1)

    for _ in range(n_procs):
        env.process(proc(env))
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


PREBUILT = Move(step=0)


def kernel_decisions(
    n_agents: int, steps: int, folder: Path, build_action: bool, stream_memory: bool = False
) -> tuple[float, int]:
    """Seconds for n_agents x steps logged rule decisions through World.decide. With ``build_action``
    the policy validates a new pydantic action each time (policy cost included); without it, the policy
    returns a prebuilt action, so only the kernel and the logging are measured. Agents keep a plain list
    memory unless ``stream_memory`` (the default memory stream, which scores and may reflect)."""

    def policy(persona, obs, memories, beliefs, rng):
        return Move(step=obs.context["step"]) if build_action else PREBUILT

    writer = RunWriter(folder / "kernel-run", {"run_id": "bench", "scenario": "bench"})
    world = World(0, writer)
    agents = [world.add_agent(Agent(Persona(id=f"a{i}", name=f"A{i}"), RuleBrain(policy, "step"),
                                    memory=None if stream_memory else ListMemory()))
              for i in range(n_agents)]

    def proc(agent: Agent):
        for k in range(steps):
            yield agent.decide(DecisionRequest("bench.move", Move, {"step": k}))

    for a in agents:
        world.process(proc(a))
    t0 = time.perf_counter()
    with quiet_gc():  # as the runner runs every world
        world.run()
    writer.close("completed")
    return time.perf_counter() - t0, world.stats["decisions"]


def auction(fmt: str, n_bidders: int, n_items: int, folder: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    res = sw.run("auction", seed=1, out=folder, overrides={
        "format": fmt, "n_bidders": n_bidders, "n_items": n_items, "strategy": "persona"})
    wall = time.perf_counter() - t0
    log = sw.load_run(res.path)
    n_events = sum(log.manifest["event_counts"].values())
    return {"wall_s": round(wall, 3), "decisions": res.stats["decisions"], "events": n_events,
            "decisions_per_s": round(res.stats["decisions"] / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 30 s)")
    args = ap.parse_args()
    n_agents, steps = (500, 100) if args.quick else (1000, 200)
    items = 2 if args.quick else 5
    repeats = 5 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Interleaved repeats, best of each: a shared machine's noise hits every variant alike.
        runs: dict[str, list[float]] = {"bare": [], "kernel": [], "full": [], "streamed": []}
        decisions = n_agents * steps
        for _ in range(repeats):
            runs["bare"].append(bare_simpy(n_agents, steps))
            runs["kernel"].append(kernel_decisions(n_agents, steps, folder / str(time.time_ns()), False)[0])
            runs["full"].append(kernel_decisions(n_agents, steps, folder / str(time.time_ns()), True)[0])
            runs["streamed"].append(kernel_decisions(n_agents, steps, folder / str(time.time_ns()), True, True)[0])
        bare, kern, full, streamed = (min(runs[k]) for k in ("bare", "kernel", "full", "streamed"))
        per_event_bare = bare / (n_agents * steps)
        per_decision = kern / decisions
        per_decision_full = full / decisions
        result = {
            "bare_simpy_events_per_s": round(1 / per_event_bare),
            "kernel_decisions_per_s": round(1 / per_decision),
            "kernel_overhead_ratio": round(per_decision / per_event_bare, 2),
            "decisions_with_pydantic_action_per_s": round(1 / per_decision_full),
            "with_pydantic_action_ratio": round(per_decision_full / per_event_bare, 2),
            "with_memory_stream_per_s": round(decisions / streamed),
            "with_memory_stream_ratio": round(streamed / decisions / per_event_bare, 2),
            "auction_english_1000": auction("english", 1000, items, folder),
            "auction_first_price_1000": auction("first_price", 1000, items, folder),
        }
    print(f"bare simpy: {result['bare_simpy_events_per_s']:,} events/s")
    print(f"kernel:     {result['kernel_decisions_per_s']:,} logged rule decisions/s "
          f"({result['kernel_overhead_ratio']}x a bare simpy event)")
    print(f"+ policy building a pydantic action: {result['decisions_with_pydantic_action_per_s']:,}/s "
          f"({result['with_pydantic_action_ratio']}x)")
    print(f"+ the default memory stream: {result['with_memory_stream_per_s']:,}/s "
          f"({result['with_memory_stream_ratio']}x)")
    for k in ("auction_english_1000", "auction_first_price_1000"):
        print(f"{k}: {result[k]}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
