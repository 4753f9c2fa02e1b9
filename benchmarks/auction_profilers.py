"""Auction profiler benchmark: the theory-of-mind strategy's cost per bidder as the room grows.

Runs the auction with every bidder a ``profiler`` (English and first-price, 2 lots, seed 1) at n = 250,
500, 1,000 and 2,000 bidders (``--quick``: 250, 500, 1,000; about 30 s), and, as the baseline in the same
run, the same rooms with every bidder on the ``persona`` strategy (no beliefs). Per run: wall time of
``sw.run`` (setup, kernel, run log on disk, metrics; the better of 2 runs), events logged, and the peak
memory the first run added (ru_maxrss after it less the resident size before it); per bidder:
microseconds, events and KB. Each size runs in its own process (after a 5-bidder warm-up run), so that
its peak memory is its own.

Growth ratios: a figure per bidder at the largest n over the same figure at the smallest; a cost linear
in n gives about 1, a quadratic one about n_max / n_min. An English lot lasts a few more rounds (asks) in
a larger room (the top values are higher), and a profiler logs a bounded number of beliefs per round, so
its events per bidder grow with the rounds; events per bidder per round factor that out. Profiler/persona
ratios compare the two at each n. Wall times on a shared machine are noisy; events and memory are not. The last line printed is one JSON object with every figure and the ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from typing import Any

FORMATS = ("english", "first_price")
STRATEGIES = ("profiler", "persona")
LOTS = 2


def resident_kb() -> float:
    """The process's resident set size now, in KB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 1024.0
    except OSError:
        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(fmt: str, strategy: str, n: int) -> dict[str, Any]:
    import simworld as sw

    with tempfile.TemporaryDirectory() as out:
        overrides = {"format": fmt, "n_items": LOTS, "strategy": strategy}
        sw.run("auction", seed=1, out=out, overrides={**overrides, "n_bidders": 5})  # warm-up: imports, caches
        before = resident_kb()
        run = partial(sw.run, "auction", seed=1, out=out, overrides={**overrides, "n_bidders": n})
        t0 = time.perf_counter()
        res = run()
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        run()
        wall = min(wall, time.perf_counter() - t0)
        counts = sw.load_run(res.path).manifest["event_counts"]
    events = sum(counts.values())
    rounds = counts.get("auction.ask", 0) or LOTS  # English asks; one round a lot in sealed formats
    added_kb = max(0.0, peak - before)
    return {
        "n": n, "wall_s": round(wall, 3), "events": events, "peak_added_mb": round(added_kb / 1024.0, 1),
        "us_per_bidder": round(wall / n * 1e6, 1), "events_per_bidder": round(events / n, 2),
        "kb_per_bidder": round(added_kb / n, 2), "belief_updates": res.metrics["belief_updates"],
        "rounds": rounds, "events_per_bidder_per_round": round(events / n / rounds, 3),
    }


def child(fmt: str, strategy: str, n: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", fmt, strategy, str(n)],
                         capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def growth(runs: list[dict[str, Any]], key: str) -> float | None:
    """``key`` per bidder at the largest n over the same at the smallest (1: linear; n_max/n_min: quadratic)."""
    first, last = runs[0][key], runs[-1][key]
    return round(last / first, 2) if first > 0 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="250, 500 and 1,000 bidders (about 30 s)")
    ap.add_argument("--child", nargs=3, metavar=("FORMAT", "STRATEGY", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fmt, strategy, n = args.child
        print(json.dumps(measure(fmt, strategy, int(n))))
        return
    sizes = [250, 500, 1000] if args.quick else [250, 500, 1000, 2000]
    result: dict[str, Any] = {"benchmark": "auction_profilers", "quick": args.quick, "lots": LOTS, "sizes": sizes}
    for fmt in FORMATS:
        runs: dict[str, list[dict[str, Any]]] = {s: [] for s in STRATEGIES}
        for n in sizes:
            for strategy in STRATEGIES:
                r = child(fmt, strategy, n)
                runs[strategy].append(r)
                print(f"{fmt:>11} {strategy:>8} n={n:>5}: {r['wall_s']:7.2f} s {r['events']:>9,} events "
                      f"+{r['peak_added_mb']:7.1f} MB | per bidder {r['us_per_bidder']:8.0f} us "
                      f"{r['events_per_bidder']:8.1f} events {r['kb_per_bidder']:7.1f} KB ({r['rounds']} rounds)", flush=True)
        figures: dict[str, Any] = {}
        for strategy in STRATEGIES:
            figures[strategy] = {
                "runs": runs[strategy],
                "time_per_bidder_growth": growth(runs[strategy], "us_per_bidder"),
                "events_per_bidder_growth": growth(runs[strategy], "events_per_bidder"),
                "events_per_bidder_per_round_growth": growth(runs[strategy], "events_per_bidder_per_round"),
                "memory_per_bidder_growth": growth(runs[strategy], "kb_per_bidder"),
            }
        figures["profiler_over_persona"] = {
            str(p["n"]): {"wall": round(p["wall_s"] / b["wall_s"], 2), "events": round(p["events"] / b["events"], 2)}
            for p, b in zip(runs["profiler"], runs["persona"])
        }
        result[fmt] = figures
        prof = figures["profiler"]
        print(f"{fmt}: profiler per-bidder growth n={sizes[-1]} over n={sizes[0]}: time "
              f"{prof['time_per_bidder_growth']}x, events {prof['events_per_bidder_growth']}x (per round "
              f"{prof['events_per_bidder_per_round_growth']}x), memory "
              f"{prof['memory_per_bidder_growth']}x (persona: time {figures['persona']['time_per_bidder_growth']}x)",
              flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
