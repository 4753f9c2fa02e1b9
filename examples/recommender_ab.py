"""An offline A/B test of recommenders with simulated viewers, before an online test.

    python examples/recommender_ab.py                       # synthetic catalogue and viewers
    python examples/recommender_ab.py --data ~/data/ml-100k # viewers fitted from MovieLens (not shipped)

Every arm sees the same viewers, with the same arrival times and random draws; the run's metrics hold
per-arm figures and a paired test of each arm against the first.
"""

from __future__ import annotations

import argparse

import simworld as sw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="a MovieLens-100k or -1M folder")
    ap.add_argument("--arms", default="popular,item_knn,mf", help="recommenders, the control first")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    overrides = {"recommender": args.arms.split(","), "n_users": args.users, "days": 7.0}
    if args.data:
        overrides["data"] = args.data
    result = sw.run("recommender", seed=args.seed, out="runs", overrides=overrides)
    arms = result.metrics["arms"]
    print(f"{'arm':<10} {'sessions':>8} {'watch-through':>13} {'rating':>6} {'pages/session':>13} {'coverage':>8}")
    for name, m in arms.items():
        print(f"{name:<10} {m['sessions']:>8} {m['watch_through']:>13.3f} {m['average_rating']:>6.2f} "
              f"{m['pages_per_session']:>13.2f} {m['coverage_shown']:>8.3f}")
    for name, t in result.metrics.get("ab", {}).items():
        verdict = "significant" if t["significant"] else "not significant"
        print(f"{name}: difference {t['difference']:+.3f} (95% CI {t['ci95'][0]:+.3f}..{t['ci95'][1]:+.3f}), "
              f"p = {t['p_value']:.2g}, {verdict} at alpha {t['alpha']}")
    print(result.path)


if __name__ == "__main__":
    main()
