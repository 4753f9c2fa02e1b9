"""Theory-of-mind benchmark: the knowledge engine and probe generation on a generated tom_rooms run.

Generates one tom_rooms run of about 1,000,000 events (60 agents, 15 rooms, 4 objects a room; ``--quick``:
about 200,000), then measures in this process, each the best of 2 tries:
- baseline: reading the log once (``RunLog.iter_raw``, what any analysis pays);
- the knowledge engine: ``Knowledge(log)`` (one pass, indexing the events that state facts);
- belief queries: random chains of order 1-4 about random facts at the end (microseconds each);
- probe generation: every kind, orders 0-4, at most 20 chains per fact and order, balanced;
- memory: the peak Python allocation while building the engine (tracemalloc, a separate untimed pass).

Prints one JSON object of figures, with the ratios to reading the log, as its last line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simworld.analysis.tom import Knowledge, probes
from simworld.scenarios.tom_rooms import TomRoomsScenario

import simworld as sw

#: Events a turn of the benchmark's configuration logs, on average (its belief updates dominate).
EVENTS_PER_STEP = 11


def best(fn: Callable[[], Any], tries: int = 2) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(tries):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def read_once(log: sw.RunLog) -> int:
    n = 0
    for _ in log.iter_raw():
        n += 1
    return n


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 200,000 events")
    parser.add_argument("--events", type=int, default=None, help="about how many events to generate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    target = args.events or (200_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="simworld-bench-tom-") as tmp:
        start = time.perf_counter()
        result = sw.run(TomRoomsScenario, seed=args.seed, out=Path(tmp), run_id="bench", overrides={
            "steps": max(1, target // EVENTS_PER_STEP), "n_agents": 60, "rooms": 15, "objects": 4})
        generated = time.perf_counter() - start
        log = sw.load_run(result.path)
        read_s, n_events = best(lambda: read_once(log))
        knowledge_s, k = best(lambda: Knowledge(log))
        rng = random.Random(args.seed)
        facts = k.facts
        queries = []
        for _ in range(10_000):
            order = rng.randint(1, 4)
            chain = [rng.choice(k.agents)]
            while len(chain) < order:
                nxt = rng.choice(k.agents)
                if nxt != chain[-1]:
                    chain.append(nxt)
            queries.append((tuple(chain), rng.choice(facts)))
        query_s, known = best(lambda: sum(k.belief(c, f) is not None for c, f in queries))
        probes_s, found = best(lambda: probes(k, orders=(0, 1, 2, 3, 4), per_fact=20, seed=args.seed))
        tracemalloc.start()
        Knowledge(log)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    figures = {
        "events": n_events,
        "generate_s": round(generated, 2),
        "read_s": round(read_s, 3),
        "knowledge_s": round(knowledge_s, 3),
        "knowledge_ratio": round(knowledge_s / read_s, 2),
        "facts": len(facts),
        "agents": len(k.agents),
        "query_us": round(query_s / len(queries) * 1e6, 1),
        "queries_known_share": round(known / len(queries), 3),
        "probes": len(found),
        "probes_s": round(probes_s, 3),
        "probes_ratio": round(probes_s / read_s, 2),
        "knowledge_and_probes_ratio": round((knowledge_s + probes_s) / read_s, 2),
        "knowledge_peak_mb": round(peak / 1e6, 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
