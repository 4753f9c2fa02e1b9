"""Sweep benchmark: the same short auction runs one after another in this process, on the process pool and
on a local Ray, as ratios to the one-process baseline (the pool should approach the number of cores).

200 runs (``--quick``: 40) of a 200-bidder, 10-lot auction (about 0.1 s each here), as a sweep of 2 formats x ``runs/2``
seeds. Each executor writes its own sweep folder; the tables must be identical across executors (checked
and reported). Wall-clock times include starting the workers (the pool's spawned processes, Ray itself),
which is what a user waits for; ``*_run_slowdown`` compares one run's own time inside a worker with the
same in one process, which shows whether the workers had free cores. Prints one JSON object of figures as
its last line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simworld.sweep import run_sweep

SPEC = """\
scenario: auction
set: {{n_bidders: {bidders}, n_items: {items}}}
grid:
  format: [english, second_price]
seeds: {seeds}
"""


def mean_run_s(folder: Path) -> float:
    """The mean wall-clock seconds of one run inside its worker (from timings.csv)."""
    with (folder / "timings.csv").open(encoding="utf-8", newline="") as fh:
        walls = [float(r["wall_s"]) for r in csv.DictReader(fh)]
    return sum(walls) / len(walls)


def timed(spec: Path, out: Path, executor: str, workers: int | None) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run_sweep(spec, out, executor=executor, workers=workers, progress=False)
    return time.perf_counter() - start, result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 runs")
    parser.add_argument("--runs", type=int, default=None, help="how many runs (even; default 200)")
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="default: the number of cores")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args(argv)
    runs = args.runs or (40 if args.quick else 200)
    workers = args.workers or os.cpu_count() or 1
    figures: dict[str, Any] = {"runs": runs, "workers": workers, "cores": os.cpu_count(),
                               "bidders": args.bidders, "items": args.items}
    with tempfile.TemporaryDirectory(prefix="simworld-bench-sweep-") as tmp:
        base = Path(tmp)
        spec = base / "sweep.yaml"
        spec.write_text(SPEC.format(bidders=args.bidders, items=args.items, seeds=runs // 2), encoding="utf-8")
        serial_s, result = timed(spec, base / "serial", "serial", None)
        assert result.status == {"completed": runs}, result.status
        figures["serial_s"] = round(serial_s, 3)
        figures["serial_ms_per_run"] = round(1000 * serial_s / runs, 2)
        serial_run = mean_run_s(base / "serial")
        tables = (base / "serial" / "results.csv").read_bytes()
        executors = [("local", "pool")] + ([] if args.no_ray else [("ray", "ray")])
        for executor, name in executors:
            if executor == "ray":
                try:
                    import ray  # noqa: F401
                except ImportError:
                    figures["ray"] = "not installed"
                    continue
            secs, result = timed(spec, base / name, executor, workers)
            assert result.status == {"completed": runs}, result.status
            figures[f"{name}_s"] = round(secs, 3)
            figures[f"{name}_speedup"] = round(serial_s / secs, 3)  # > 1: faster than one process
            figures[f"{name}_efficiency"] = round(serial_s / secs / workers, 3)  # 1.0: perfect scaling
            figures[f"{name}_tables_identical"] = (base / name / "results.csv").read_bytes() == tables
            # a run's own time in a worker against in one process: ~1 when each worker has a free core,
            # ~workers/free cores when they share busy ones (then no executor can speed the sweep up)
            figures[f"{name}_run_slowdown"] = round(mean_run_s(base / name) / serial_run, 3)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
