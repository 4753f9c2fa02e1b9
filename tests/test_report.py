"""``simworld report``: one self-contained page (no script, no URL, strict CSP) for a run, a sweep, a survey."""

from __future__ import annotations

import csv
import hashlib
import json
import re

import pytest
from simworld.analysis.html_report import build_report, write_report
from simworld.analysis.psychometrics import Respondent, administer, poles

import simworld as sw
from simworld.errors import BadInput
from simworld.stats import bootstrap_ci, holm, mean, paired_test, sd

HOSTILE = '<script>alert("x")</script> $\\frac{1}{0}$ & co'
URL_ATTR = re.compile(r"""(?:src|href|xlink:href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def assert_self_contained(text: str) -> None:
    """No script, nothing fetched from anywhere, a strict CSP; the figures are inline SVG."""
    assert "<script" not in text.lower()
    assert not URL_ATTR.search(text)
    assert "http://" not in text and "https://" not in text
    assert "url(" not in text.replace("url(#", "")  # only references to the page's own SVG clip paths
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;;' in text
    assert "<svg" in text


def svgs(text: str) -> int:
    return text.count("<svg")


@pytest.fixture(scope="module")
def auction_run(tmp_path_factory):
    return sw.run("auction", seed=2, out=tmp_path_factory.mktemp("run"), run_id="a").path


def test_a_run_report_shows_its_metrics_tables_and_figures(auction_run, tmp_path, cli_inproc):
    res = cli_inproc("report", auction_run, "--out", tmp_path / "r.html")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == str(tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert_self_contained(text)
    metrics = json.loads((auction_run / "metrics.json").read_text())
    assert f"<td>lots</td><td class=\"n\">{metrics['lots']}</td>" in text
    assert f"<td>sold</td><td class=\"n\">{metrics['sold']}</td>" in text
    assert "surplus_by_strategy" in text and "events per kind" in text
    assert svgs(text) >= 4  # metric bars, the items' prices, events per kind and over time
    assert "<h2>Theory of mind</h2>" in text  # the auction states facts (values, bids, outcomes)
    # the same folder gives the same bytes
    assert build_report(auction_run) == text


def test_a_run_of_your_own_scenario_shows_its_stored_metrics_unless_you_pass_the_file(tmp_path):
    from conftest import EXAMPLES

    path = sw.run(str(EXAMPLES / "coin_game.py"), seed=1, out=tmp_path, run_id="coin").path
    stored = build_report(path)
    assert "as stored (metrics.json)" in stored and "pass --scenario FILE.py" in stored
    assert "recomputed from the log" in build_report(path, scenario=EXAMPLES / "coin_game.py")


def test_the_tom_tables_appear_when_the_run_logs_beliefs(tmp_path):
    from simworld.scenarios.tom_rooms import TomRoomsScenario

    path = sw.run(TomRoomsScenario, seed=3, out=tmp_path, run_id="rooms",
                  overrides={"steps": 30, "n_agents": 3, "rooms": 2, "objects": 1}).path
    text = build_report(path)
    assert "Probes the log supports" in text and "<td>belief:1</td>" in text
    assert re.search(r"Logged beliefs \(\d+ scored", text) and "belief accuracy by agent" in text


def make_sweep(folder, metric_name="revenue_mean"):
    """A sweep folder in the engine's shape: sweep.yaml, runs/<id>/, results.csv, summary.csv (2 arms x 3 seeds,
    the first arm the control), made with real runs and simworld.stats."""
    arms = {"arm00": {"format": "english"}, "arm01": {"format": "first_price"}}  # short labels, as the engine's
    rows = []
    for arm, overrides in arms.items():
        for seed in (1, 2, 3):
            run_id = f"{arm}-s{seed}"
            result = sw.run("auction", seed=seed, out=folder / "runs", run_id=run_id,
                            overrides={**overrides, "n_bidders": 4})
            rows.append({"run_id": run_id, "arm": arm, "format": overrides["format"], "seed": seed,
                         "status": "completed", "error": "", metric_name: result.metrics["revenue_mean"],
                         "efficiency": result.metrics["efficiency"]})
    rows.append({"run_id": "arm01-s4", "arm": "arm01", "format": "first_price", "seed": 4,
                 "status": "failed", "error": "ValueError: <b>boom</b>", metric_name: "", "efficiency": ""})
    (folder / "sweep.yaml").write_text("scenario: auction\ngrid:\n  format: [english, first_price]\nseeds: 3\n"
                                       "control: {format: english}\n")
    with (folder / "results.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = []
    for metric in (metric_name, "efficiency"):
        control = [r[metric] for r in rows if r["arm"] == "arm00" and r["status"] == "completed"]
        pvals = []
        for arm in arms:
            vals = [r[metric] for r in rows if r["arm"] == arm and r["status"] == "completed"]
            ci = bootstrap_ci(vals)
            row = {"arm": arm, "format": arms[arm]["format"], "metric": metric, "n": len(vals), "mean": mean(vals), "sd": sd(vals),
                   "ci_low": ci[0], "ci_high": ci[1], "diff": "", "diff_ci_low": "", "diff_ci_high": "",
                   "t_p": "", "wilcoxon_p": "", "p_holm": ""}
            if arm != "arm00":
                test = paired_test(control, vals)
                lo, hi = test.ci95 or ("", "")
                row.update(diff=test.difference, diff_ci_low=lo, diff_ci_high=hi, t_p=test.p_value,
                           wilcoxon_p=test.wilcoxon_p_value)
                pvals.append(row)
            summary.append(row)
        for row, p in zip(pvals, holm([r["t_p"] for r in pvals]), strict=True):
            row["p_holm"] = p
    with (folder / "summary.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(summary[0]))
        writer.writeheader()
        writer.writerows(summary)
    return rows, summary


def test_a_sweep_report_shows_arms_with_cis_metrics_against_keys_and_paired_differences(tmp_path, cli_inproc):
    _, summary = make_sweep(tmp_path / "sweep")
    res = cli_inproc("report", tmp_path / "sweep")
    assert res.returncode == 0, res.stderr
    out = tmp_path / "sweep" / "report.html"  # the default place
    text = out.read_text()
    assert_self_contained(text)
    fp = next(r for r in summary if r["arm"] == "arm01" and r["metric"] == "revenue_mean")
    assert f'<td class="n">{fp["mean"]:,.0f}</td>' in text  # the per-arm mean, as the table shows it
    assert f'<td class="n">{fp["diff"]:,.0f}</td>' in text  # its paired difference against the control
    assert "Per arm: means with 95% bootstrap CIs" in text and "Each metric against each swept key" in text
    assert "Paired differences against the control" in text and "revenue_mean: difference vs control" in text
    assert svgs(text) >= 5  # 2 arm figures, 1 against-key figure, 2 difference figures
    # the failed run is listed with its error, escaped
    assert "Runs that did not complete" in text and "ValueError: &lt;b&gt;boom&lt;/b&gt;" in text
    assert "scenario: auction" in text  # sweep.yaml shown
    assert re.search(r"<text[^>]*>arm01 \(format=first_price\)</text>", text)  # figures name each arm's values


def test_a_hostile_metric_name_is_escaped_in_the_tables_and_the_figures(tmp_path):
    make_sweep(tmp_path / "sweep", metric_name=HOSTILE)
    text = build_report(tmp_path / "sweep")
    assert_self_contained(text)
    assert HOSTILE not in text
    escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
    assert escaped in text  # in the tables
    assert re.search(r"<text[^>]*>[^<]*&lt;script&gt;alert", text)  # in a figure's text, escaped too


def test_a_survey_report_shows_the_profiles_alpha_and_d(tmp_path, cli_inproc):
    people = [Respondent(f"p{i:02d}", profile) for i, profile in enumerate(poles())]
    s = administer("mini-ipip", people, seed=3, out=tmp_path / "survey")
    res = cli_inproc("report", tmp_path / "survey", "--out", tmp_path / "s.html")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "s.html").read_text()
    assert_self_contained(text)
    assert "Mini-IPIP (Donnellan et al., 2006)" in text and "questionnaire profile" in text
    assert "Cronbach&#x27;s alpha" in text and "Cohen&#x27;s d between the poles" in text
    for trait, row in s.scores["traits"].items():
        assert f'<td>{trait}</td><td class="n">4</td><td class="n">32</td>' in text
        assert f'<td class="n">{row["alpha"]:.4g}</td>' in text and f'<td class="n">{row["d_poles"]:.4g}</td>' in text
    assert "I don&#x27;t talk a lot." in text  # the items, in the first person
    assert svgs(text) == 4  # profile, scatter, alpha, d


def test_bad_folders_and_outputs_are_one_line_and_nothing_is_overwritten(auction_run, tmp_path, cli_inproc):
    events = auction_run / "events.jsonl"
    before = hashlib.sha256(events.read_bytes()).hexdigest()
    for args, words in (((tmp_path / "nothing",), "no such folder"),
                        ((tmp_path,), "not a run folder"),
                        ((auction_run, "--out", events), "one of the folder's data files"),
                        ((auction_run, "--out", tmp_path), "is a folder")):
        res = cli_inproc("report", *args)
        assert res.returncode == 2, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and words in res.stderr, res.stderr
    assert hashlib.sha256(events.read_bytes()).hexdigest() == before
    with pytest.raises(BadInput, match="not a survey folder"):
        (tmp_path / "half").mkdir()
        (tmp_path / "half" / "scores.json").write_text("{}")
        (tmp_path / "half" / "survey.json").write_text("{}")
        write_report(tmp_path / "half")


def test_in_a_browser_the_page_requests_nothing_runs_nothing_and_shows_hostile_names_as_text(tmp_path):
    """Chromium (Debian's, as the viewer tests use it) opens the report of a sweep with a hostile metric name."""
    import os
    import shutil

    chromium = os.environ.get("SIMWORLD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must install it)")
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    make_sweep(tmp_path / "sweep", metric_name=HOSTILE)
    out = write_report(tmp_path / "sweep")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            requests, console = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: console.append(m.text))
            page.on("dialog", lambda d: console.append(f"dialog: {d.message}"))
            page.goto(out.as_uri())
            assert requests == [out.as_uri()]  # the page itself, nothing else
            assert page.evaluate("document.scripts.length") == 0
            sizes = page.evaluate("[...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().width)")
            assert len(sizes) >= 5 and min(sizes) > 100  # every figure is drawn
            assert '<script>alert("x")</script>' in page.inner_text("main")  # shown as text, not run
            assert console == []  # no CSP violation, no dialog
        finally:
            browser.close()
