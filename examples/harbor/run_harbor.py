"""HARBOR's house-auction experiment (Emory-FLARE/HARBOR) on simworld, with files in HARBOR's own shape.

``bidders.jsonl`` and ``houses.jsonl`` here are small pools written in the exact shape of HARBOR's
``resources/bidder_pool.jsonl`` and ``house_pool.jsonl`` (bring the study's own files the same way: they
load as they are). ``harbor.yaml`` sets ``preset: harbor``, which reads HARBOR's fields (see
``simworld.scenarios.auction.harbor``): a bidder's ``trait`` is its top priority over house categories,
``persona`` the text model bidders are told, ``overestimate_percent`` its overestimate tendency,
``is_profiler`` the profiler strategy; a house's ``trait`` is its category, ``price`` its starting price,
``desc`` the description the catalogue shows. Every profiler forms typed beliefs about each rival's
``budget`` (a number) and ``priority`` (a category); the metrics score them against the truth.

    python examples/harbor/run_harbor.py                 # rule bidders, offline
    python examples/harbor/run_harbor.py --llm URL MODEL  # model bidders (an OpenAI-compatible server)

or ``simworld run examples/harbor/harbor.yaml`` and ``simworld replay RUN_DIR`` to see each belief next to
its truth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import simworld as sw

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", default="runs")
    parser.add_argument("--llm", nargs=2, metavar=("BASE_URL", "MODEL"), help="model bidders with theory of mind")
    args = parser.parse_args()
    overrides: dict[str, object] = {}
    if args.llm:
        overrides = {"brain": "llm", "theory_of_mind": True,
                     "model": {"base_url": args.llm[0], "model": args.llm[1]}}
    result = sw.run(str(HERE / "harbor.yaml"), seed=args.seed, out=args.out, overrides=overrides)
    m = result.metrics

    print(f"{m['sold']} of {m['lots']} houses sold, revenue {m['revenue_total']:,.0f}")
    print(f"{'bidder':<10} {'wins':>4} {'profit':>12} {'overbids':>8}")
    for bidder, row in m["bidders"].items():
        print(f"{bidder:<10} {row['wins']:>4} {row['profit']:>12,.0f} {row['overbids']:>8}")
    print("\nbeliefs about rivals (every update / the last each bidder held), by source:")
    for source, scores in {"all": m["belief_error"], "final": m["belief_error_final"],
                           **m["belief_error_by_source"]}.items():
        budget, priority = scores.get("budget", {}), scores.get("priority", {})
        mae = f"{budget['mae']:,.0f}" if budget.get("mae") is not None else "-"
        acc = f"{priority['accuracy']:.2f}" if priority.get("accuracy") is not None else "-"
        print(f"  {source:<15} budget MAE {mae:>10} (n={budget.get('n', 0)})   "
              f"priority accuracy {acc} (n={priority.get('n', 0)})")
    print(result.path)


if __name__ == "__main__":
    main()
