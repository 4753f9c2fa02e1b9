"""The persona-grid auction sweep, then its persona effects with bootstrap CIs (simworld.analysis.personas).

    python examples/sweeps/persona_effects.py                      # runs auction_personas.yaml into sweeps/
    python examples/sweeps/persona_effects.py --out DIR --executor ray

Prints, for each format: fidelity (Kendall's tau between the bidders' neuroticism and the revenue),
robustness (the worst revenue drop from an irrelevant attribute or the empty persona) and the expertise-style
advantage of the most against the least anxious bidders; then writes the sweep's report.html.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from simworld.analysis.personas import Results, expertise_advantage, fidelity, load_results, robustness

from simworld.sweep import run_sweep

HERE = Path(__file__).resolve().parent


def show(name: str, eff: object) -> None:
    value, lo, hi, n = (getattr(eff, k) for k in ("value", "ci_low", "ci_high", "n"))
    fmt = (lambda x: "-" if x is None else f"{x:,.3f}")
    print(f"  {name:<34} {fmt(value):>14}  95% CI [{fmt(lo)}, {fmt(hi)}]  n={n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("sweeps/auction-personas"))
    parser.add_argument("--executor", default="local", choices=["local", "ray", "serial"])
    parser.add_argument("--metric", default="revenue_total")
    args = parser.parse_args()
    if not (args.out / "results.csv").is_file():
        run_sweep(HERE / "auction_personas.yaml", args.out, executor=args.executor)
    res = load_results(args.out)
    for fmt in ("english", "dutch"):
        rows = [r for r in res.rows if r["format"] == fmt]
        print(f"{fmt}:")
        generated = Results(res.keys, [r for r in rows if r["persona"] == "as_generated"])
        show("fidelity (tau, neuroticism)", fidelity(generated, args.metric, "persona.neuroticism",
                                                     ["0.1", "0.5", "0.9"]))
        show("robustness (worst drop)", robustness(Results(res.keys, rows), args.metric, "persona",
                                                   irrelevant=["favourite_colour", "empty"],
                                                   baseline="as_generated"))
        show("anxious minus calm bidders", expertise_advantage(generated, args.metric, "persona.neuroticism",
                                                               expert="0.9", baseline="0.1"))
    try:
        from simworld.analysis.html_report import write_report

        print(f"report: {write_report(args.out)}")
    except ImportError:
        print("report: pip install 'simworld[analysis]' for simworld report")


if __name__ == "__main__":
    main()
