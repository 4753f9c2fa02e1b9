"""Compare opinion-update rules on the same debate: same seed, same personas, same network.

Run it with::

    python examples/debate.py [OUT_DIR]

Each run is a normal run directory (``simworld replay`` and ``simworld analyze`` read it). The table shows
how the rule changes the audience's final spread (polarisation), the bimodality of opinions, when (if
ever) the room reached consensus, and who won the audience vote against the moderator's scoring.
"""

from __future__ import annotations

import sys

import simworld as sw

RULES = ["argument", "degroot", "friedkin_johnsen", "hegselmann_krause", "deffuant"]


def main(out: str = "runs") -> None:
    print(f"{'rule':18} {'var0':>6} {'var1':>6} {'bimod1':>6} {'consensus_t':>11}  audience/moderator")
    for rule in RULES:
        result = sw.run("debate", seed=11, out=out, overrides={
            "update_rule": rule, "network": "small_world", "rounds": 3, "network_steps": 5,
            "n_debaters": 4, "n_audience": 12, "epsilon": 0.4,
        })
        p = result.metrics["propositions"]["p1"]
        pol, verdict = p["polarisation"], p["verdict"]
        t = p["consensus_time"]
        print(f"{rule:18} {pol['variance_initial']:6.3f} {pol['variance_final']:6.3f} "
              f"{pol['bimodality_final'] or 0:6.3f} {('-' if t is None else f'{t:.0f}'):>11}  "
              f"{verdict['audience_winner']}/{verdict['moderator_winner']}   {result.path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
