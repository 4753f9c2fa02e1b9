"""Debate benchmark: what the logged scenario costs over the bare opinion dynamics it runs.

Measures in one run (the machines are shared and noisy, so only same-run ratios mean anything):
  1. bare dynamics: the same number of DeGroot and Deffuant steps on the same network with numpy alone
     (the baseline), steps per second;
  2. the debate scenario with a large audience under ``degroot`` and ``deffuant`` (every opinion change a
     logged ``belief.updated``), steps per second and events per second;
  3. the argument-driven rule (speeches, interruptions, reactions, presence), events per second.
The last line printed is one JSON object with every figure and the ratios.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
from simworld.scenarios.debate import dynamics

import simworld as sw
from simworld.runlog import load_run


def timed_run(out: str, **overrides: object) -> tuple[float, sw.RunResult]:
    t0 = time.perf_counter()
    res = sw.run("debate", seed=1, out=out, overrides=overrides)
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 30 s)")
    args = ap.parse_args()
    n_aud, steps = (1000, 10) if args.quick else (3000, 20)
    result: dict[str, object] = {"audience": n_aud, "network_steps": steps}
    with tempfile.TemporaryDirectory() as out:
        for rule in ("degroot", "deffuant"):
            secs, res = timed_run(out, update_rule=rule, n_audience=n_aud, rounds=2, network_steps=steps,
                                  reactions=False, private_messages=False, leave_rate=0.0, epsilon=0.6)
            log = load_run(res.path)
            net = next(iter(log.events(kind="debate.network"))).data
            events = sum(1 for _ in log.iter_raw())
            W = np.array(net["weights"])
            A = (W > 0).astype(float)
            x = np.array(net["initial"]["p1"])
            rng = np.random.default_rng(0)
            t0 = time.perf_counter()
            for _ in range(2 * steps):
                if rule == "degroot":
                    x, _ = dynamics.degroot(W, x)
                else:
                    x, _ = dynamics.deffuant(x, dynamics.random_pairs(A, len(x), rng), 0.6, 0.3)
            bare = time.perf_counter() - t0
            result[f"{rule}_scenario_s"] = round(secs, 3)
            result[f"{rule}_events"] = events
            result[f"{rule}_events_per_s"] = round(events / secs)
            result[f"{rule}_bare_steps_per_s"] = round(2 * steps / bare, 1)
            result[f"{rule}_scenario_steps_per_s"] = round(2 * steps / secs, 1)
            result[f"{rule}_overhead_ratio"] = round(secs / bare, 1)
        secs, res = timed_run(out, n_audience=n_aud // 3, rounds=5)
        events = sum(1 for _ in load_run(res.path).iter_raw())
        result["argument_events"] = events
        result["argument_events_per_s"] = round(events / secs)
    for k, v in result.items():
        print(f"{k}: {v}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
