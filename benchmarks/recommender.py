"""Recommender scenario: sessions per second with rule brains for 1k, 10k and 100k viewers (one session
each, popular recommender, the full run: setup, kernel, run log on disk, metrics), and peak memory; and the
wall time of the user-simulation fidelity protocol on MovieLens-100k-size data (943 users, 1,682 items).

Baselines, measured in the same run: for sessions, a bare loop that makes the same page decisions
(recommend, the rule policy, feedback) for the same viewers without the kernel, the run log or memory; for
fidelity, the same fitting and the same questions put to the same fitted viewers' policies directly, without a
world (and without the baselines). Each
measurement runs in its own process so that peak memory (ru_maxrss) is its own. ``--quick`` runs 1k and 10k
viewers and fidelity on 300 users (about 30 s). The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time


def measure(n: int, mode: str) -> dict[str, float]:
    import numpy as np

    from simworld.runner import execute, prepare

    prepared = prepare("recommender", seed=1, overrides={"n_users": n, "sessions_per_user": 1})
    scn = prepared.scenario
    if mode == "kernel":
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            result = execute(prepared, out=out, run_id="bench")
            wall = time.perf_counter() - t0
            arm = result.metrics["arms"]["popular"]
            pages, sessions = arm["pages"], arm["sessions"]
    else:  # the bare loop: same population and policy, no world, no log, no memory
        from simworld.memory import ListMemory
        from simworld.scenarios.recommender.algorithms import Feedback, RecContext, make_recommender
        from simworld.scenarios.recommender.policies import PAGE, PageChoice, ViewerPolicy

        from simworld.decisions import DecisionRequest
        from simworld.world import World

        t0 = time.perf_counter()
        pop = scn.build_population(World(1))
        cat, cfg = pop.catalogue, scn.config
        rec = make_recommender("popular", RecContext(cat, pop.train, np.random.default_rng(1)))
        rng = np.random.default_rng(1)
        memory = ListMemory(0)
        pages = sessions = 0
        crowd = pop.crowd.tolist()
        for k, uid in enumerate(pop.user_ids):
            policy = ViewerPolicy(pop.viewers[k], cat, None, pop.crowd, crowd)
            exclude: set[str] = set()
            sessions += 1
            watched = 0
            stride = 3 * cfg.page_size + 1
            block = rng.random(cfg.max_pages * stride).tolist()  # the scenario's per-session draws
            for page in range(1, cfg.max_pages + 1):
                items = rec.recommend(uid, cfg.page_size, exclude)
                idx = [cat.index[i] for i in items[: cfg.attention]]
                ctx = {"page": page, "watched_in_session": watched, "items": [cat.public(i) for i in idx]}
                o = (page - 1) * stride
                hints = {"items": idx, "draws": block[o + cfg.page_size: o + stride]}
                choice = policy.page(DecisionRequest(PAGE, PageChoice, ctx, policy_hints=hints), memory, rng)
                pages += 1
                for item in choice.watch:
                    rec.update(Feedback(uid, item, "watched"))
                watched += len(choice.watch)
                exclude.update(items)
                if choice.leave:
                    break
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"users": n, "wall_s": round(wall, 3), "sessions": sessions, "pages": pages,
            "sessions_per_s": round(sessions / wall, 1), "peak_mb": round(peak, 1)}


def measure_fidelity(n_users: int, mode: str) -> dict[str, float]:
    """``fidelity()`` on generated MovieLens files (kernel), or the same questions asked of the policies
    directly (bare). Writing the files is not timed."""
    import numpy as np
    from simworld.scenarios.recommender import generate_catalogue, synthetic_ratings, synthetic_roles, write_movielens
    from simworld.scenarios.recommender.fidelity import DEFAULT_RATIOS, fidelity, split_by_time

    rng = np.random.default_rng(1)
    n_items = 1682 if n_users >= 943 else 800
    cat = generate_catalogue(n_items, rng)
    ratings = synthetic_ratings(cat, synthetic_roles(n_users, cat, rng), rng, 100)
    with tempfile.TemporaryDirectory() as folder:
        write_movielens(folder, cat, ratings, "100k")
        if mode == "kernel":
            t0 = time.perf_counter()
            fidelity(folder)
            wall = time.perf_counter() - t0
        else:
            from simworld.memory import ListMemory
            from simworld.scenarios.recommender.fidelity import FittedViewerPolicy
            from simworld.scenarios.recommender.fitting import CHUNK, RatingModel, WatchModel
            from simworld.scenarios.recommender.movielens import load_ratings
            from simworld.scenarios.recommender.policies import RATE, WATCH, ItemRatings, WatchChoices

            from simworld.decisions import DecisionRequest

            t0 = time.perf_counter()
            cat, ratings = load_ratings(folder)
            split = split_by_time(ratings)
            n = len(ratings.user_ids)
            watch = WatchModel.fit(split.train, len(cat), 0.2, 1)
            rating = RatingModel.fit(split.train, len(cat), 0.2, 1)
            scores = np.concatenate([watch.scores(np.arange(lo, min(n, lo + CHUNK))) for lo in range(0, n, CHUNK)])
            policies = [FittedViewerPolicy(u, scores[u], watch, rating) for u in range(n)]
            rated = np.zeros((n, len(cat)), dtype=bool)
            rated[ratings.users, ratings.items] = True
            positives = [split.test.items[r] for r in split.test.by_user()]
            memory, draw = ListMemory(0), np.random.default_rng(1)
            for m in DEFAULT_RATIOS:
                for u, policy in enumerate(policies):
                    pool = np.flatnonzero(~rated[u])
                    neg = draw.choice(pool, size=min(len(pool), m * len(positives[u])), replace=False)
                    items = np.concatenate([positives[u], neg])
                    shown = {"ratio": m, "items": [cat.public(int(i)) for i in items]}
                    request = DecisionRequest(WATCH, WatchChoices, shown, policy_hints={"items": items.tolist()})
                    policy(None, request, memory, None, draw)
            for u, policy in enumerate(policies):
                items = positives[u]
                request = DecisionRequest(RATE, ItemRatings, {"items": [cat.public(int(i)) for i in items]},
                                          policy_hints={"items": items.tolist()})
                policy(None, request, memory, None, draw)
            wall = time.perf_counter() - t0
    return {"users": n_users, "items": n_items, "wall_s": round(wall, 3)}


def child(n: int, mode: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(n), mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1k and 10k viewers only (about 30 s)")
    ap.add_argument("--child", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, mode = int(args.child[0]), args.child[1]
        fid = mode.startswith("fidelity_")
        print(json.dumps(measure_fidelity(n, mode.removeprefix("fidelity_")) if fid else measure(n, mode)))
        return
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    figures = {}
    for n in sizes:
        kernel = child(n, "kernel")
        bare = child(n, "bare")
        figures[str(n)] = {"kernel": kernel, "bare_loop": bare,
                           "slowdown_vs_bare": round(kernel["wall_s"] / bare["wall_s"], 2)}
        print(f"{n:>7} viewers: {kernel['sessions_per_s']:>8.0f} sessions/s with the kernel and log "
              f"({kernel['wall_s']:.1f} s, peak {kernel['peak_mb']:.0f} MB); bare loop {bare['sessions_per_s']:.0f}/s "
              f"({bare['wall_s']:.1f} s, peak {bare['peak_mb']:.0f} MB)", flush=True)
    n_fid = 300 if args.quick else 943
    kernel, bare = child(n_fid, "fidelity_kernel"), child(n_fid, "fidelity_bare")
    fid = {"kernel": kernel, "bare_policies": bare, "slowdown_vs_bare": round(kernel["wall_s"] / bare["wall_s"], 2)}
    print(f"fidelity, {n_fid} users x {kernel['items']} items: {kernel['wall_s']:.1f} s through the world, "
          f"{bare['wall_s']:.1f} s asking the policies directly", flush=True)
    summary = {"benchmark": "recommender", "quick": args.quick, "sizes": figures, "fidelity": fid,
               "note": "one session per viewer, rule brains, popular recommender; wall includes setup and metrics; "
                       "fidelity: ratios 1,2,3,9, wall includes loading and fitting"}
    if args.quick:
        summary["skipped"] = "100k viewers and fidelity at MovieLens-100k size (run without --quick)"
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
