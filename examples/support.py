"""Emotional-support conversations: does persona matching help, and does the ESConv stage policy beat
random strategies? Then replay a recorded conversation through the same metrics.

Run it with::

    python examples/support.py [OUT_DIR]

Each run is a normal run directory (``simworld replay`` and ``simworld analyze`` read it).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import simworld as sw

RECORDED = [{
    "emotion_type": "anxiety", "problem_type": "job crisis", "situation": "My contract ends next month.",
    "survey_score": {"seeker": {"initial_emotion_intensity": "5", "final_emotion_intensity": "3"}},
    "dialog": [
        {"speaker": "seeker", "annotation": {}, "content": "I can't sleep, I'm so worried."},
        {"speaker": "supporter", "annotation": {"strategy": "Question"}, "content": "What is worrying you?"},
        {"speaker": "seeker", "annotation": {"feedback": "4"}, "content": "My contract ends next month."},
        {"speaker": "supporter", "annotation": {"strategy": "Reflection of feelings"},
         "content": "That uncertainty sounds exhausting."},
        {"speaker": "supporter", "annotation": {"strategy": "Providing Suggestions"},
         "content": "Could you ask your manager about an extension this week?"},
        {"speaker": "seeker", "annotation": {"feedback": "5"}, "content": "Yes, I'll try that. Thank you."},
    ],
}]


def main(out: str = "runs") -> None:
    for policy in ("staged", "random"):
        m = sw.run("support", seed=3, out=out, overrides={"n_seekers": 60, "n_supporters": 6, "policy": policy}).metrics
        gain = (m["matching_gain"] or {}).get("intensity_reduction")
        print(f"{policy:7} reduction {m['intensity_reduction']:.2f}  resolved {m['resolved_share']:.0%}  "
              f"feedback {m['feedback']:.2f}  matching gain {'-' if gain is None else f'{gain:+.2f}'}  "
              f"supporters knew the problem in {m['belief_accuracy']['problem_type']:.0%} of sessions")
    path = Path(tempfile.mkdtemp()) / "recorded.json"
    path.write_text(json.dumps(RECORDED))
    res = sw.run("support", seed=0, out=out, overrides={"conversations": str(path)})
    used = {s: f"{share:.0%}" for s, share in res.metrics["strategy_distribution"].items() if share}
    print("replayed:", used, "reduction", res.metrics["intensity_reduction"], res.path)


if __name__ == "__main__":
    main(*sys.argv[1:2])
