"""results.csv and summary.csv, computed from the run folders alone (so a resumed sweep, or one run on
another executor, gives the same tables byte for byte)."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simworld import stats
from simworld.sweep.spec import Plan, column_text, is_number
from simworld.sweep.worker import Outcome, read_json

FIXED_BEFORE = ("run_id", "arm")
FIXED_AFTER = ("seed", "status", "error")
SUMMARY_STATS = ("metric", "n", "mean", "sd", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high", "t_p",
                 "wilcoxon_p", "p_holm", "n_pairs")
#: Bootstrap resamples of every interval (seeded: the same runs give the same intervals).
RESAMPLES = 2000


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as dotted keys (``wins_by_strategy.truthful``); lists stay whole (JSON in the table)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        elif isinstance(value, Mapping):
            continue
        else:
            out[name] = value
    return out


def cell(value: Any) -> str:
    """A metric as results.csv writes it: numbers exactly (repr), None empty, lists and text as JSON/text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def collect(plan: Plan, runs_dir: Path, outcomes: Mapping[str, Outcome]) -> list[dict[str, Any]]:
    """One row per planned run (arm order, then seed order): swept values, status, error, flat metrics.

    A run that has not run (an interrupted sweep) is ``pending``; one whose worker failed before writing a
    folder is ``failed`` with the worker's error."""
    rows = []
    arms = {a.label: a for a in plan.arms}
    for task in plan.tasks(runs_dir):
        arm = arms[task.arm]
        row: dict[str, Any] = {"run_id": task.run_id, "arm": task.arm}
        row.update({k: column_text(arm.values[k]) for k in plan.keys})
        run_dir = runs_dir / task.run_id
        manifest = read_json(run_dir / "manifest.json")
        metrics = read_json(run_dir / "metrics.json")
        outcome = outcomes.get(task.run_id)
        if isinstance(manifest, dict):
            status = str(manifest.get("status", "failed"))
            error = manifest.get("reason") or manifest.get("metrics_error") or ""
            if status == "running":  # its process was stopped before the run could close its log
                status, error = "interrupted", "stopped before the run ended"
            if status in ("completed", "stopped") and not isinstance(metrics, dict):
                status, error = "failed", error or "metrics.json is missing"
        elif outcome is not None:
            status, error = outcome.status, outcome.error
        else:
            status, error = "pending", ""
        row.update({"seed": task.seed, "status": status, "error": str(error).replace("\n", " ")})
        flat = flatten(metrics) if isinstance(metrics, dict) else {}
        taken = {*FIXED_BEFORE, *FIXED_AFTER, *plan.keys}  # a metric named like a column: metrics.NAME
        row["metrics"] = {(f"metrics.{k}" if k in taken else k): v for k, v in flat.items()}
        rows.append(row)
    return rows


def metric_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every metric of any run, in the order they first appear."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row["metrics"]))
    return list(names)


def results_csv(plan: Plan, rows: Sequence[Mapping[str, Any]]) -> str:
    metrics = metric_names(rows)
    header = [*FIXED_BEFORE, *plan.keys, *FIXED_AFTER, *metrics]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        fixed = [row.get(c, "") for c in header[: len(header) - len(metrics)]]
        writer.writerow([*(cell(v) if not isinstance(v, str) else v for v in fixed),
                         *(cell(row["metrics"].get(m)) for m in metrics)])
    return buf.getvalue()


def _ok(row: Mapping[str, Any]) -> bool:
    return row["status"] in ("completed", "stopped")


def summary_rows(plan: Plan, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per arm and numeric metric: n, mean, sd, a 95% bootstrap CI; against the arm's control (paired
    over common seeds): the mean difference with its bootstrap CI, the paired t-test and Wilcoxon p, and
    p_holm (Holm over every comparison of the sweep, from the t-test p-values)."""
    metrics = [m for m in metric_names(rows) if any(is_number(r["metrics"].get(m)) for r in rows if _ok(r))]
    by_arm: dict[str, dict[int, dict[str, Any]]] = {a.label: {} for a in plan.arms}
    for row in rows:
        if _ok(row):
            by_arm[row["arm"]][row["seed"]] = row["metrics"]
    out: list[dict[str, Any]] = []
    tested: list[int] = []
    for arm in plan.arms:
        runs = by_arm[arm.label]
        for metric in metrics:
            values = [float(m[metric]) for m in runs.values() if is_number(m.get(metric))]
            ci = stats.bootstrap_ci(values, n_resamples=RESAMPLES) if values else None
            rec: dict[str, Any] = {"arm": arm.label, **{k: column_text(arm.values[k]) for k in plan.keys},
                                   "metric": metric, "n": len(values), "mean": stats.mean(values),
                                   "sd": stats.sd(values), "ci_low": ci[0] if ci else None,
                                   "ci_high": ci[1] if ci else None}
            if arm.control is not None:
                control = by_arm[arm.control]
                seeds = [s for s in plan.seeds if s in runs and s in control
                         and is_number(runs[s].get(metric)) and is_number(control[s].get(metric))]
                a = np.asarray([float(control[s][metric]) for s in seeds])
                b = np.asarray([float(runs[s][metric]) for s in seeds])
                rec["n_pairs"] = len(seeds)
                if seeds:
                    diffs = b - a
                    rec["diff"] = float(diffs.mean())
                    dci = stats.bootstrap_ci(diffs, n_resamples=RESAMPLES)
                    rec["diff_ci_low"], rec["diff_ci_high"] = dci if dci else (None, None)
                if len(seeds) >= 2:
                    with warnings.catch_warnings():  # identical differences: scipy warns, the p-value stands
                        warnings.simplefilter("ignore", RuntimeWarning)
                        test = stats.paired_test(a, b)
                    rec["t_p"], rec["wilcoxon_p"] = test.p_value, test.wilcoxon_p_value
                    if math.isfinite(test.p_value):
                        tested.append(len(out))
            out.append(rec)
    for i, p in zip(tested, stats.holm([out[i]["t_p"] for i in tested])):
        out[i]["p_holm"] = p
    return out


def summary_csv(plan: Plan, rows: Sequence[Mapping[str, Any]]) -> str:
    header = ["arm", *plan.keys, *SUMMARY_STATS]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for rec in summary_rows(plan, rows):
        writer.writerow([rec[c] if c in ("arm", *plan.keys, "metric") else cell(rec.get(c)) for c in header])
    return buf.getvalue()


def write_parquet(plan: Plan, rows: Sequence[Mapping[str, Any]], path: Path) -> bool:
    """results.parquet beside results.csv when pyarrow is installed (numbers typed; False without it)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    metrics = metric_names(rows)
    records = []
    for row in rows:
        rec = {c: row[c] for c in (*FIXED_BEFORE, *plan.keys, *FIXED_AFTER)}
        for m in metrics:
            v = row["metrics"].get(m)
            rec[m] = float(v) if is_number(v) else (None if v is None else cell(v))
        records.append(rec)
    pq.write_table(pa.Table.from_pylist(records), str(path))
    return True
