"""One self-contained HTML page for a run, a sweep or a survey folder (``simworld report DIR``).

The page needs nothing but itself: no script, no stylesheet or font from elsewhere, no external request
(a strict Content-Security-Policy says so to the browser), figures drawn with matplotlib (Agg, no pyplot
state) and inlined as SVG. Every string that comes from the folder (metric names, agent ids, errors, item
texts) is escaped, in the HTML and in the figures' text. The same folder gives the same bytes.

- a **run** (``manifest.json``, ``events.jsonl``): the scenario's metrics as tables (recomputed from the log
  when the scenario is known), bar charts of the metrics that compare categories (a mapping of numbers such
  as ``wins_by_strategy``) and of the numeric columns of table-like metrics, events per kind and over
  simulated time, and the theory-of-mind tables (probes, the agents' logged-belief accuracy) when the run
  states facts or logs beliefs;
- a **sweep** (``results.csv``, ``summary.csv``, ``sweep.yaml``): runs by status and the failed ones, per-arm
  means with 95% CIs, each metric against each swept key, and the paired differences against the control
  (mean difference, CI, t-test and Wilcoxon p, Holm-corrected);
- a **survey** (``scores.json``, ...): per trait the questionnaire profile (score distributions), alpha,
  the correlation with the intended traits (scatter), Cohen's d between the poles, and the items.

A run folder is data: nothing it names is imported; a run of a scenario from your own file shows its stored
``metrics.json`` unless you pass that file (``--scenario FILE.py``).
"""

from __future__ import annotations

import csv
import html
import io
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from simworld.errors import BadInput
from simworld.files import MAX_INPUT_BYTES
from simworld.stats import mean, mean_ci

Kind = Literal["run", "sweep", "survey"]

#: Most figures of one kind on a page (metrics beyond are listed in the tables only).
MAX_FIGURES = 24
#: Most rows of a table drawn from a list metric or a CSV.
MAX_ROWS = 200
#: Most characters of a label inside a figure.
MAX_LABEL = 60

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d1e0;font-size:14px}
main{padding:8px 32px 48px;max-width:1280px}
section{background:#fff;border:1px solid #e1e5ec;border-radius:8px;padding:12px 20px;margin:18px 0}
h2{font-size:18px;margin:6px 0 10px}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border-bottom:1px solid #e8ebf0;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f6;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.figs{display:flex;flex-wrap:wrap;gap:12px}.fig{border:1px solid #eef0f4;border-radius:6px;padding:4px}
.fig svg{max-width:100%;height:auto;display:block}
.note{color:#5b6475;font-size:13px}pre{background:#f0f2f6;padding:8px;overflow:auto;font-size:12px}
.bad{color:#b42318}
"""


def esc(value: object) -> str:
    """Text for HTML (content and attribute values)."""
    return html.escape(str(value), quote=True)


def fmt(value: object) -> str:
    """A cell: numbers with four significant digits, None as a dash."""
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "\u2013" if math.isnan(value) else str(value)
        if abs(value) >= 1e4 and abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def number(value: object) -> float | None:
    """A finite number from a cell (CSV text included), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            x = float(value)
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def label(text: object) -> str:
    """A label for a figure: no mathtext (``$`` escaped), no control characters, bounded length."""
    s = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    if len(s) > MAX_LABEL:
        s = s[: MAX_LABEL - 1] + "\u2026"
    return s.replace("\\", "\\\\").replace("$", r"\$")


# -- figures --------------------------------------------------------------------------------------------
def svg(draw: Callable[[Any], None], width: float = 6.0, height: float = 3.2) -> str:
    """Run ``draw(figure)`` on a fresh matplotlib Figure and return it as inline SVG (text kept as escaped
    text, no metadata, ids stable across runs)."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise BadInput("simworld report", "the figures need matplotlib: pip install 'simworld[analysis]'") from None

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "simworld-report", "font.size": 9,
                                "axes.spines.top": False, "axes.spines.right": False, "text.usetex": False}):
        fig = Figure(figsize=(width, height))
        draw(fig)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # namespace declarations are not needed inline in HTML, and the page names no URL at all
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)


def fig_block(title: str, body: str) -> str:
    return f'<div class="fig" role="img" aria-label="{esc(title)}">{body}</div>'


def bar_figure(title: str, names: Sequence[str], values: Sequence[float],
               errors: Sequence[tuple[float, float] | None] | None = None, xlabel: str = "") -> str:
    """Horizontal bars (one per name), with interval whiskers when ``errors`` gives (low, high)."""
    n = len(names)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ys = list(range(n))
        ax.barh(ys, values, color="#4c78a8")
        if errors is not None:
            for y, v, e in zip(ys, values, errors, strict=True):
                if e is not None:
                    ax.plot([e[0], e[1]], [y, y], color="#1d2330", linewidth=1.2)
                    ax.plot([e[0], e[0]], [y - 0.15, y + 0.15], color="#1d2330", linewidth=1.2)
                    ax.plot([e[1], e[1]], [y - 0.15, y + 0.15], color="#1d2330", linewidth=1.2)
        ax.set_yticks(ys, [label(x) for x in names])
        ax.invert_yaxis()
        ax.set_title(label(title))
        if xlabel:
            ax.set_xlabel(label(xlabel))
        ax.axvline(0, color="#888", linewidth=0.6)

    return fig_block(title, svg(draw, 6.0, max(1.6, 0.6 + 0.28 * n)))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[bool] | None = None,
          limit: int = MAX_ROWS) -> str:
    out = ["<table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in headers), "</tr></thead><tbody>"]
    shown = 0
    total = 0
    for row in rows:
        total += 1
        if shown >= limit:
            continue
        shown += 1
        cells = []
        for i, v in enumerate(row):
            is_num = numeric[i] if numeric is not None else isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append(f'<td class="n">{esc(fmt(v))}</td>' if is_num else f"<td>{esc(fmt(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if total > shown:
        out.append(f'<p class="note">{total - shown} more rows not shown.</p>')
    return "".join(out)


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{esc(title)}</h2>{''.join(parts)}</section>"


def figures(blocks: Sequence[str], omitted: int = 0) -> str:
    if not blocks:
        return ""
    note = f'<p class="note">{omitted} more figures left out (see the tables).</p>' if omitted else ""
    return f'<div class="figs">{"".join(blocks)}</div>{note}'


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><main>"
            + "".join(sections) + "</main></body></html>\n")


# -- reading folders ------------------------------------------------------------------------------------
def folder_kind(path: Path) -> Kind:
    if not path.is_dir():
        raise BadInput(str(path), "no such folder" if not path.exists() else "is a file, not a run, sweep or survey folder")
    if (path / "results.csv").is_file() or (path / "summary.csv").is_file():
        return "sweep"
    if (path / "scores.json").is_file() and (path / "survey.json").is_file():
        return "survey"
    if (path / "manifest.json").is_file() or (path / "events.jsonl").is_file():
        return "run"
    raise BadInput(str(path), "not a run folder (manifest.json, events.jsonl), a sweep folder (results.csv, "
                              "summary.csv) or a survey folder (scores.json, survey.json)")


def read_csv(path: Path) -> list[dict[str, str]]:
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise BadInput(str(path), f"too large for a report (more than {MAX_INPUT_BYTES:,} bytes)")
        with path.open(encoding="utf-8", newline="") as fh:
            return [dict(row) for row in csv.DictReader(fh)]
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise BadInput(str(path), f"cannot be read as CSV ({str(err).splitlines()[0][:160]})") from None


def read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as err:
        raise BadInput(str(path), f"cannot be read as JSON ({str(err).splitlines()[0][:160]})") from None


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) of every scalar; lists are kept whole."""
    out: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out += flatten(value, name + ".") if value else [(name, "{}")]
        else:
            out.append((name, value))
    return out


def numeric_mappings(metrics: Mapping[str, Any], prefix: str = "") -> list[tuple[str, dict[str, float]]]:
    """Metrics that compare categories: mappings whose values are all numbers (at any depth)."""
    out: list[tuple[str, dict[str, float]]] = []
    for key, value in metrics.items():
        if not isinstance(value, Mapping) or not value:
            continue
        name = f"{prefix}{key}"
        nums = {str(k): number(v) for k, v in value.items()}
        if len(nums) >= 1 and all(v is not None for v in nums.values()) and not any(isinstance(v, Mapping)
                                                                                   for v in value.values()):
            out.append((name, {k: float(v) for k, v in nums.items() if v is not None}))
        else:
            out += numeric_mappings(value, name + ".")
    return out


def record_lists(metrics: Mapping[str, Any], prefix: str = "") -> list[tuple[str, list[dict[str, Any]]]]:
    """Table-like metrics: lists of flat records (``items`` of the auction, say)."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            out.append((name, [dict(v) for v in value]))
        elif isinstance(value, Mapping):
            out += record_lists(value, name + ".")
    return out


# -- a run ----------------------------------------------------------------------------------------------
def run_report(path: Path, scenario: str | os.PathLike[str] | None = None) -> str:
    from simworld.analysis.report import analyze_run

    from simworld.runlog import load_run

    log = load_run(path)
    analysis = analyze_run(path, scenario)
    metrics: dict[str, Any] = analysis.get("metrics") or {}
    m = log.manifest
    head = [("run", m.get("run_id", path.name)), ("scenario", m.get("scenario")), ("status", m.get("status")),
            ("seed", m.get("seed")), ("started", m.get("started_at")), ("finished", m.get("finished_at")),
            ("metrics", "recomputed from the log" if analysis.get("recomputed") else "as stored (metrics.json)")]
    parts = [section("Run", table(["", ""], head, numeric=[False, False]),
                     f'<p class="note">{esc(analysis["note"])}</p>' if analysis.get("note") else "")]
    scalars = [(k, v) for k, v in flatten(metrics) if not isinstance(v, list)]
    blocks: list[str] = []
    maps = numeric_mappings(metrics)
    for name, values in maps[:MAX_FIGURES]:
        blocks.append(bar_figure(name, list(values), list(values.values())))
    lists = record_lists(metrics)
    list_tables = []
    for name, rows in lists:
        cols = list(dict.fromkeys(k for r in rows for k in r))
        list_tables.append(f"<h3>{esc(name)}</h3>" + table(cols, ([r.get(c) for c in cols] for r in rows)))
        first = cols[0]
        for col in cols[1:]:
            pairs = [(str(r.get(first)), number(r.get(col))) for r in rows]
            got = [(n, v) for n, v in pairs if v is not None]
            index_like = [v for _, v in pairs] in ([float(i) for i in range(len(rows))],
                                                   [float(i + 1) for i in range(len(rows))])
            if len(blocks) < MAX_FIGURES and len(got) >= 2 and len({v for _, v in got}) > 1 and not index_like:
                blocks.append(bar_figure(f"{name}: {col}", [n for n, _ in got], [v for _, v in got]))
    omitted = max(0, len(maps) - MAX_FIGURES)
    parts.append(section("Metrics", table(["metric", "value"], scalars, numeric=None), figures(blocks, omitted),
                         *list_tables))
    counts: Counter[str] = Counter()
    times: list[float] = []
    for e in log.iter_raw():
        counts[e["kind"]] += 1
        times.append(float(e["t"]))
    kinds = sorted(counts, key=lambda k: (-counts[k], k))
    event_figs = [bar_figure("events per kind", kinds, [counts[k] for k in kinds])]
    if times and max(times) > min(times):
        def draw(fig: Any) -> None:
            ax = fig.add_subplot()
            ax.hist(times, bins=min(40, max(5, len(set(times)))), color="#4c78a8")
            ax.set_xlabel("simulated time")
            ax.set_ylabel("events")
            ax.set_title("events over simulated time")

        event_figs.append(fig_block("events over simulated time", svg(draw)))
    parts.append(section("Events", figures(event_figs), table(["kind", "events"], ((k, counts[k]) for k in kinds))))
    tom = tom_section(log)
    if tom:
        parts.append(tom)
    title = f"{m.get('scenario') or 'run'}: {m.get('run_id', path.name)}"
    return page(title, f"simworld run report \u2013 {path.name}", parts)


def tom_section(log: Any) -> str:
    """Probe counts and logged-belief accuracy when the run states facts or logs beliefs; else ''."""
    from simworld.analysis.tom import Knowledge, belief_scores, counts, probes

    try:
        k = Knowledge(log)
    except BadInput:
        return ""
    has_beliefs = any(True for _ in log.events(kind="belief.updated"))
    if not k.facts and not has_beliefs:
        return ""
    parts = [f'<p class="note">{len(k.facts)} facts, {len(k.agents)} agents.</p>']
    found = counts(probes(k, orders=(0, 1, 2), balanced=False)) if k.facts else {}
    if found:
        parts.append("<h3>Probes the log supports</h3>" + table(
            ["kind:order", "n", "ToM-required"], ((key, row["n"], row["tom_required"]) for key, row in found.items())))
    beliefs = belief_scores(log, knowledge=k)
    if beliefs.get("n"):
        rows = [(k.name(agent), row.get("strategy"), row.get("n"), row.get("accuracy"), row.get("brier"), row.get("mae"))
                for agent, row in beliefs["by_agent"].items()]
        parts.append(f"<h3>Logged beliefs ({beliefs['n']} scored, {beliefs['unscored']} without a known truth)</h3>"
                     + table(["agent", "strategy", "n", "accuracy", "brier", "mae"], rows))
        acc = [(r[0], number(r[3])) for r in rows if number(r[3]) is not None]
        if acc:
            parts.append(figures([bar_figure("belief accuracy by agent", [str(a) for a, _ in acc],
                                             [float(v or 0.0) for _, v in acc])]))
    return section("Theory of mind", *parts)


# -- a sweep --------------------------------------------------------------------------------------------
FIXED = ("run_id", "arm", "seed", "status", "error")


def sweep_columns(results: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """(swept keys, metrics): the keys stand between ``arm`` and ``seed``, the metrics after ``error``."""
    if not results:
        return [], []
    cols = list(results[0])
    try:
        keys = cols[cols.index("arm") + 1: cols.index("seed")]
        metrics = cols[cols.index("error") + 1:]
    except ValueError:
        keys = [c for c in cols if c not in FIXED and "." in c]
        metrics = [c for c in cols if c not in FIXED and c not in keys]
    return keys, metrics


def _order(values: Iterable[str]) -> list[str]:
    """Distinct values, numerically when they all are numbers."""
    distinct = list(dict.fromkeys(values))
    if distinct and all(number(v) is not None for v in distinct):
        return sorted(distinct, key=lambda v: number(v) or 0.0)
    return distinct


def arm_label(row: Mapping[str, str], keys: Sequence[str]) -> str:
    """``arm03 (format=english, persona.occupation=teacher)``: the arm and its swept values."""
    values = ", ".join(f"{k}={row[k]}" for k in keys if row.get(k) not in (None, ""))
    arm = row.get("arm", "")
    if not values or [row.get(k) for k in keys] == [arm]:
        return arm
    return f"{arm} ({values})"


def sweep_report(path: Path) -> str:
    results = read_csv(path / "results.csv")
    summary = read_csv(path / "summary.csv")
    spec_text = ""
    spec_path = path / "sweep.yaml"
    if spec_path.is_file():
        spec_text = spec_path.read_text(encoding="utf-8", errors="replace")[:20_000]
    keys, metrics = sweep_columns(results)
    status = Counter(r.get("status", "") for r in results)
    failed = [r for r in results if r.get("status") not in ("completed", "stopped")]
    head = section(
        "Sweep",
        table(["runs", "arms", "swept keys", "metrics"],
              [(len(results), len({r.get("arm") for r in results}), ", ".join(keys) or "\u2013", len(metrics))]),
        table(["status", "runs"], sorted(status.items())),
        ('<h3 class="bad">Runs that did not complete</h3>'
         + table(["run", "arm", "seed", "status", "error"],
                 ([r.get("run_id"), r.get("arm"), r.get("seed"), r.get("status"), r.get("error")] for r in failed),
                 numeric=[False] * 5)) if failed else "",
        f"<h3>sweep.yaml</h3><pre>{esc(spec_text)}</pre>" if spec_text else "")
    parts = [head]
    # per-arm means with CIs, from summary.csv (or results.csv when there is no summary)
    by_metric: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in summary:
        by_metric[row.get("metric", "")].append(row)
    plotted = [mname for mname, rows in by_metric.items() if any(number(r.get("mean")) is not None for r in rows)]
    blocks = []
    for mname in plotted[:MAX_FIGURES]:
        rows = [r for r in by_metric[mname] if number(r.get("mean")) is not None]
        ci = []
        for r in rows:
            lo, hi = number(r.get("ci_low")), number(r.get("ci_high"))
            ci.append((lo, hi) if lo is not None and hi is not None else None)
        blocks.append(bar_figure(mname, [arm_label(r, keys) for r in rows], [number(r["mean"]) or 0.0 for r in rows],
                                 ci, "mean with 95% CI"))
    arm_cols = ["arm", *keys, "metric", "n", "mean", "sd", "ci_low", "ci_high"]
    parts.append(section(
        "Per arm: means with 95% bootstrap CIs",
        figures(blocks, max(0, len(plotted) - MAX_FIGURES)),
        table(arm_cols, ([r.get(c) if c in ("arm", "metric", *keys) else number(r.get(c)) for c in arm_cols]
                         for r in summary), numeric=[c not in ("arm", "metric", *keys) for c in arm_cols])))
    # each metric against each swept key
    ok = [r for r in results if r.get("status") in ("completed", "stopped")]
    numeric_metrics = [mt for mt in metrics if any(number(r.get(mt)) is not None for r in ok)]
    key_parts = []
    count = 0
    for key in keys:
        levels = _order(r.get(key, "") for r in ok)
        if len(levels) < 2:
            continue
        shown = numeric_metrics[: max(0, MAX_FIGURES - count)]
        count += len(shown)
        if not shown:
            break
        key_parts.append(fig_block(f"metrics against {key}", svg(_against(key, levels, shown, ok), 9.0,
                                                                2.3 * math.ceil(len(shown) / 3))))
    if key_parts:
        parts.append(section("Each metric against each swept key (mean and 95% CI over the runs)",
                             figures(key_parts)))
    # paired differences against the control
    diffs = [r for r in summary if number(r.get("diff")) is not None]
    if diffs:
        cols = ["arm", "metric", "n", "diff", "diff_ci_low", "diff_ci_high", "t_p", "wilcoxon_p", "p_holm"]
        blocks = []
        for mname in list(dict.fromkeys(r.get("metric", "") for r in diffs))[:MAX_FIGURES]:
            rows = [r for r in diffs if r.get("metric") == mname]
            ci = []
            for r in rows:
                lo, hi = number(r.get("diff_ci_low")), number(r.get("diff_ci_high"))
                ci.append((lo, hi) if lo is not None and hi is not None else None)
            blocks.append(bar_figure(f"{mname}: difference vs control", [arm_label(r, keys) for r in rows],
                                     [number(r.get("diff")) or 0.0 for r in rows], ci, "treatment - control"))
        parts.append(section(
            "Paired differences against the control (common seeds)", figures(blocks),
            table(cols, ([r.get(c) if c in ("arm", "metric") else number(r.get(c)) for c in cols] for r in diffs),
                  numeric=[c not in ("arm", "metric") for c in cols]),
            '<p class="note">p_holm: Holm-corrected over the comparisons of the sweep.</p>'))
    cols = ["run_id", "arm", *keys, "seed", "status", *metrics[:12]]
    parts.append(section("Runs", table(cols, ([r.get(c) if number(r.get(c)) is None else number(r.get(c))
                                               for c in cols] for r in results))))
    return page(f"Sweep: {path.name}", f"{len(results)} runs, {len(by_metric)} metrics", parts)


def _against(key: str, levels: list[str], metrics: list[str], rows: list[dict[str, str]]) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ncols = min(3, len(metrics))
        nrows = math.ceil(len(metrics) / ncols)
        xs = list(range(len(levels)))
        for i, mt in enumerate(metrics):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            means, lows, highs = [], [], []
            for level in levels:
                vals = [number(r.get(mt)) for r in rows if r.get(key) == level]
                got = [v for v in vals if v is not None]
                mu = mean(got)
                ci = mean_ci(got)
                means.append(mu if mu is not None else math.nan)
                lows.append(ci[0] if ci else math.nan)
                highs.append(ci[1] if ci else math.nan)
            ax.plot(xs, means, marker="o", color="#4c78a8")
            ax.fill_between(xs, lows, highs, color="#4c78a8", alpha=0.2)
            ax.set_xticks(xs, [label(v) for v in levels])
            ax.set_title(label(mt), fontsize=8)
            ax.set_xlabel(label(key), fontsize=8)

    return draw


def _model_table(model: object) -> str:
    """Calls, tokens and cache use of a model-brain survey ('' for rule brains)."""
    if not isinstance(model, Mapping):
        return ""
    spec = model.get("spec") if isinstance(model.get("spec"), Mapping) else {}
    cache = model.get("cache") if isinstance(model.get("cache"), Mapping) else {}
    row = [spec.get("provider") if spec else None, spec.get("model") if spec else None, model.get("calls"),
           model.get("input_tokens"), model.get("output_tokens"), cache.get("hits") if cache else None,
           cache.get("misses") if cache else None]
    return "<h3>Model</h3>" + table(["provider", "model", "calls", "input tokens", "output tokens", "cache hits",
                                     "cache misses"], [row], numeric=[False, False, True, True, True, True, True])


# -- a survey -------------------------------------------------------------------------------------------
def survey_report(path: Path) -> str:
    from simworld.analysis.psychometrics import read_survey

    got = read_survey(path)
    meta, scores = got["survey"], got["scores"]
    inst = meta.get("instrument") or {}
    traits: dict[str, dict[str, Any]] = scores.get("traits") or {}
    names = list(traits)
    cols = ["trait", "items", "n", "mean", "sd", "alpha", "r_intended", "r_ci95", "d_poles", "d_ci95",
            "n_high", "n_low", "failures"]

    def cell(row: Mapping[str, Any], c: str) -> object:
        v = row.get(c)
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return v

    head = section(
        "Survey",
        table(["instrument", "respondents", "items", "brain", "seed", "failed answers"],
              [(inst.get("title") or inst.get("name"), scores.get("n_respondents"), scores.get("n_items"),
                meta.get("brain"), meta.get("seed"), scores.get("failures"))], numeric=[False, True, True, False,
                                                                                          True, True]),
        f'<p class="note">Source: {esc(inst.get("source", ""))} ({esc(inst.get("license", ""))})</p>'
        if inst.get("source") else "",
        _model_table(meta.get("model")))
    per = scores.get("respondents") or {}
    intended = {r["id"]: r.get("traits") or {} for r in got["respondents"]}
    blocks = []
    if names and per:
        def profile(fig: Any) -> None:
            ax = fig.add_subplot()
            data = [[v for v in (per[r].get(t) for r in per) if v is not None] for t in names]
            ax.boxplot(data, showmeans=True)
            ax.set_xticks(list(range(1, len(names) + 1)), [label(t) for t in names])
            lo, hi = (scores.get("scale") or {}).get("min"), (scores.get("scale") or {}).get("max")
            if lo is not None and hi is not None:
                ax.set_ylim(lo - 0.2, hi + 0.2)
            ax.set_ylabel("trait score")
            ax.set_title("questionnaire profile (respondents' trait scores)")

        blocks.append(fig_block("questionnaire profile", svg(profile, 7.0, 3.2)))

        def scatter(fig: Any) -> None:
            for i, t in enumerate(names):
                ax = fig.add_subplot(1, len(names), i + 1)
                pts = [(intended[r][t], per[r][t]) for r in per
                       if r in intended and t in intended[r] and per[r].get(t) is not None]
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=8, color="#4c78a8", alpha=0.7)
                r_val = traits[t].get("r_intended")
                ax.set_title(f"{label(t)}\nr = {fmt(r_val)}", fontsize=8)
                ax.set_xlabel("intended", fontsize=8)
                if i == 0:
                    ax.set_ylabel("score", fontsize=8)

        if any(intended.values()):
            blocks.append(fig_block("scores against intended traits", svg(scatter, 10.0, 2.6)))
    alphas = [(t, number(traits[t].get("alpha"))) for t in names]
    if any(a is not None for _, a in alphas):
        blocks.append(bar_figure("Cronbach's alpha", [t for t, _ in alphas], [a or 0.0 for _, a in alphas]))
    ds = [(t, number(traits[t].get("d_poles")), traits[t].get("d_ci95")) for t in names]
    if any(d is not None for _, d, _ in ds):
        blocks.append(bar_figure("Cohen's d between the poles", [t for t, _, _ in ds], [d or 0.0 for _, d, _ in ds],
                                 [tuple(c) if c else None for _, _, c in ds], "d with 95% CI"))
    parts = [head, section("Traits", figures(blocks),
                           table(cols, ([t] + [cell(traits[t], c) for c in cols[1:]] for t in names),
                                 numeric=[c not in ("trait", "r_ci95", "d_ci95") for c in cols]))]
    item_cols = ["item", "trait", "key", "text", "n", "mean", "sd", "mean_keyed", "item_total_r", "failures"]
    parts.append(section("Items", table(item_cols, ([r.get(c) if c in ("item", "trait", "key", "text")
                                                     else number(r.get(c)) for c in item_cols] for r in got["items"]),
                                        numeric=[c not in ("item", "trait", "key", "text") for c in item_cols])))
    return page(f"Survey: {inst.get('title') or inst.get('name') or path.name}",
                f"{scores.get('n_respondents')} respondents \u2013 {path.name}", parts)


# -- entry points ---------------------------------------------------------------------------------------

#: Files of a folder a report never replaces.
DATA_FILES = ("manifest.json", "events.jsonl", "metrics.json", "volatile.jsonl", "results.csv", "results.parquet",
              "summary.csv", "sweep.yaml", "survey.json", "scores.json", "answers.jsonl", "items.csv",
              "respondents.jsonl")


def build_report(folder: str | os.PathLike[str], scenario: str | os.PathLike[str] | None = None) -> str:
    """The HTML page for a run, sweep or survey folder (``scenario``: the file a run of your own scenario came
    from, to recompute its metrics; never taken from the folder)."""
    path = Path(folder)
    kind = folder_kind(path)
    if kind == "run":
        return run_report(path, scenario)
    return sweep_report(path) if kind == "sweep" else survey_report(path)


def write_report(folder: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                 scenario: str | os.PathLike[str] | None = None) -> Path:
    """Write the page to ``out`` (default ``FOLDER/report.html``); never over one of the folder's data files."""
    path = Path(folder)
    target = Path(out) if out is not None else path / "report.html"
    if target.is_dir():
        raise BadInput(str(target), "is a folder; name the report file (report.html)")
    if target.name in DATA_FILES and target.resolve().parent == path.resolve():
        raise BadInput(str(target), "is one of the folder's data files; write the report elsewhere")
    text = build_report(path, scenario)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as err:
        raise BadInput(str(target), f"cannot write the report ({err.strerror or err})") from None
    return target
