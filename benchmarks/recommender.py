"""Recommender scenario: sessions per second with rule brains for 1k, 10k and 100k viewers (one session
each, popular recommender, the full run: setup, kernel, run log on disk, metrics), and peak memory.

Baseline, measured in the same run: a bare loop that makes the same page decisions (recommend, the rule
policy, feedback) for the same viewers without the kernel, the run log or memory. Each size runs in its
own process so that peak memory (ru_maxrss) is its own. ``--quick`` runs 1k and 10k only (about 30 s).
The last line of output is one JSON object.
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
        from simworld.scenarios.recommender.policy import ViewerPolicy

        from simworld.world import World

        t0 = time.perf_counter()
        scn.check()
        world = World(1)
        scn.build_population(world)
        cat = scn.catalogue
        rec = make_recommender("popular", RecContext(cat, scn.train, world.rng("rec")))
        rng = np.random.default_rng(1)
        memory = ListMemory(0)
        pages = sessions = 0
        crowd = scn.crowd.tolist()
        for k, uid in enumerate(scn.user_ids):
            policy = ViewerPolicy(scn.viewers[k], cat, None, scn.crowd, crowd)
            exclude: set[str] = set()
            sessions += 1
            watched = 0
            for page in range(1, scn.config.max_pages + 1):
                items = rec.recommend(uid, scn.config.page_size, exclude)
                idx = [cat.index[i] for i in items[: scn.config.attention]]
                ctx = {"page": page, "watched_in_session": watched, "items": [cat.public(i) for i in idx], "_items": idx}
                choice = policy.page(ctx, memory, rng)
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


def child(n: int, mode: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(n), mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1k and 10k viewers only (about 30 s)")
    ap.add_argument("--child", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(int(args.child[0]), args.child[1])))
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
    summary = {"benchmark": "recommender", "quick": args.quick, "sizes": figures,
               "note": "one session per viewer, rule brains, popular recommender; wall includes setup and metrics"}
    if args.quick:
        summary["skipped"] = "100k viewers (run without --quick)"
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
