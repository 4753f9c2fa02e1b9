"""The replay viewer end to end in real headless Chromium (Debian's package, driven by Playwright).

Skipped, with the reason, where Chromium or Playwright is absent; under CI (which installs both) their
absence is a failure instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from viewer_runs import (
    SALLY_ANNE,
    XSS_DESC,
    XSS_FACT,
    XSS_ITEM,
    XSS_KIND,
    XSS_NAME,
    XSS_RESPONSE,
    XSS_RUN_ID,
    XSS_TEXT,
    auction_run,
    corrupt_copy,
    get_json,
    memory_run,
    sally_anne_run,
    served,
    tom_run,
    truncated_copy,
    xss_run,
)

CHROMIUM = os.environ.get("SIMWORLD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         # a headless page counts as hidden: keep its timers (debounces, play) on time
         "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
         "--disable-backgrounding-occluded-windows"]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it: see .ci/run)", pytrace=False)
    pytest.skip(f"{what}; install it to run the browser tests (apt-get install chromium)", allow_module_level=True)


if not os.path.exists(CHROMIUM):
    _missing(f"Debian's chromium is not installed ({CHROMIUM} not found)")
try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:
    _missing("the playwright package is not installed (pip install -e '.[viewer]')")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module (Playwright gives each launch a fresh temporary profile)."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


#: Runs before the page's own scripts: records every element that markup in the log could have made.
WATCH_INJECTIONS = """
window.__injected = [];
const suspicious = (n) => n.nodeType === 1 && (
  ["img", "iframe", "b", "object", "embed", "frame"].includes(n.localName)
  || [...n.attributes].some((a) => a.name.startsWith("on") || /^\\s*javascript:/i.test(a.value)));
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    for (const el of [n, ...(n.querySelectorAll ? n.querySelectorAll("*") : [])]) {
      if (suspicious(el)) window.__injected.push(el.outerHTML.slice(0, 120));
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that records script errors, dialogs, every request, and injected elements."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    ctx.add_init_script(WATCH_INJECTIONS)
    pg = ctx.new_page()
    pg.errors, pg.dialogs, pg.requests = [], [], []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests.append(r.url))  # type: ignore[attr-defined]
    yield pg
    ctx.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("viewer-browser-runs")


@pytest.fixture(scope="module")
def auction(runs: Path) -> Path:
    return auction_run(runs)


def open_viewer(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)


def cursor(page: Page) -> int:
    return int(page.get_attribute("body", "data-cursor") or -1)


def settle(page: Page) -> None:
    """Wait until the page has no API call in flight (and so has drawn what they answered)."""
    page.wait_for_selector("body[data-pending='0']", state="attached", timeout=10_000)


def wait_cursor(page: Page, seq: int) -> None:
    page.wait_for_selector(f"body[data-cursor='{seq}']", timeout=10_000)
    settle(page)


def scrub_to(page: Page, fraction: float) -> None:
    page.eval_on_selector("#scrubber", "(el, f) => { el.value = String(Math.round(f * Number(el.max)));"
                          " el.dispatchEvent(new Event('input', {bubbles: true})); }", fraction)


def raw_events(run: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (run / "events.jsonl").read_bytes().splitlines()]


def test_replay_of_an_auction_run_scrubs_selects_an_agent_and_shows_causes(page: Page, auction: Path) -> None:
    events = raw_events(auction)
    last = events[-1]["seq"]
    with served(auction) as url:
        open_viewer(page, url)
        assert auction.name in page.inner_text("#run-header")
        assert page.is_visible("#panel") and "Auction" in page.inner_text("#panel h2")
        assert cursor(page) == 0

        # Scrub to the end: the cursor lands on the last event and the panel shows every lot's outcome.
        scrub_to(page, 1.0)
        wait_cursor(page, last)
        assert f"event #{last} of {len(events)}" in page.inner_text("#cursor-label")
        assert page.inner_text("#event-list li.current .seq") == f"#{last}"
        lots = page.inner_text("#auction-lots")
        for sold in (e for e in events if e["kind"] == "auction.sold"):
            assert f"sold to {sold['data']['winner']}" in lots

        # Step back one event, then scrub to the middle of the second lot.
        page.click("#step-back")
        wait_cursor(page, last - 1)
        second = [e for e in events if e["kind"] == "auction.opened"][1]
        scrub_to(page, (second["t"] + 1 - events[0]["t"]) / (events[-1]["t"] - events[0]["t"]))
        expected = max(e["seq"] for e in events if e["t"] <= second["t"] + 1)
        wait_cursor(page, expected)
        assert "Lot 2" in page.inner_text("#panel-body .lot-head")

        # Select a profiler: persona card from agent.joined; beliefs next to the truth from auction.valuations.
        belief = next(e for e in events if e["kind"] == "belief.updated" and e["seq"] <= expected)
        agent = belief["agent"]
        joined = next(e for e in events if e["kind"] == "agent.joined" and e["agent"] == agent)
        page.click(f"button[data-agent='{agent}']")
        page.wait_for_selector("#agent-beliefs table")
        settle(page)
        assert page.inner_text("#persona-card .persona-name") == joined["data"]["persona"]["name"]
        truth = next(e for e in events if e["kind"] == "auction.valuations"
                     and e["data"]["item"] == belief["data"]["item"])["data"]["values"][belief["data"]["about"]]
        row = page.locator("#agent-beliefs tbody tr", has_text=f"item={belief['data']['item']}").filter(
            has_text=belief["data"]["about"]).first
        assert f"{truth:,.2f}".rstrip("0").rstrip(".") in row.locator(".belief-truth").inner_text()
        perceived = [e for e in events if agent in e["witnesses"] and e["seq"] <= expected]
        assert f"Perceived ({len(perceived)})" in page.inner_text("#agent-perceived h3")

        # Open the causes of the agent's latest decision: the auction.opened event that prompted it.
        acted = [e for e in events if e["kind"] == "agent.acted" and e["agent"] == agent and e["seq"] <= expected][-1]
        page.click(f"#agent-decisions li[data-seq='{acted['seq']}'] button.action")
        page.wait_for_selector("#cause-tree .event-card")
        assert page.is_visible("#causes")
        cause = next(e for e in events if e["seq"] == acted["causes"][0])
        card = page.inner_text(f"#cause-tree .event-card[data-seq='{cause['seq']}']")
        assert cause["kind"] in card and cause["data"]["item"]["id"] in card
        page.click("#close-causes")
        assert not page.is_visible("#causes")

        # Filter the list by kind: every row shown is an auction.bid.
        page.select_option("#kind-filter", "auction.bid")
        settle(page)
        kinds = page.eval_on_selector_all("#event-list li.ev", "els => els.map(e => e.dataset.kind)")
        assert kinds and set(kinds) == {"auction.bid"}

        # Play moves the cursor forward through the filtered events; pause stops it.
        before = cursor(page)
        page.select_option("#speed", "25")
        page.click("#play")
        for _ in range(100):  # (wait_for_function would need eval, which the page's CSP forbids)
            if cursor(page) > before:
                break
            page.wait_for_timeout(100)
        assert cursor(page) > before
        page.click("#play")
        assert page.inner_text("#play").endswith("play")
    assert page.errors == [] and page.dialogs == []  # type: ignore[attr-defined]
    assert all(u.startswith((url, "data:")) for u in page.requests)  # type: ignore[attr-defined]


def assert_inert(page: Page) -> None:
    """Nothing from the log ran or became an element."""
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__injected") == []


def test_html_and_script_in_the_log_are_shown_as_text_and_never_run(page: Page, runs: Path) -> None:
    run = xss_run(runs)
    events = raw_events(run)
    with served(run) as url:
        open_viewer(page, url)
        scripts = page.eval_on_selector_all("script", "els => els.length")
        assert XSS_RUN_ID in page.inner_text("#run-header")
        page.click("button[data-agent='mallory']")
        page.wait_for_selector("#persona-card")
        settle(page)
        card = page.inner_text("#persona-card")
        assert XSS_NAME in card and XSS_DESC in card
        assert_inert(page)

        scrub_to(page, 1.0)
        wait_cursor(page, events[-1]["seq"])
        assert XSS_ITEM in page.inner_text("#panel")
        page.click("button[data-agent='alice']")
        page.wait_for_selector("#agent-decisions li.decision button.action")
        settle(page)
        assert XSS_TEXT[:30] in page.inner_text("#agent-beliefs") and XSS_TEXT in page.inner_text("#agent-memory")
        page.wait_for_selector("#knowledge-table")
        settle(page)
        knowledge = page.inner_text("#knowledge-table")
        assert XSS_FACT in knowledge and XSS_NAME[:39] in knowledge and XSS_RESPONSE[:39] in knowledge
        page.click("#knowledge-table td.false-belief button")
        page.wait_for_selector("#belief-events .event-card")
        settle(page)
        assert XSS_FACT in page.inner_text("#causes")
        assert_inert(page)
        page.click("#close-causes")
        page.click("#agent-decisions li.decision button.action")
        page.wait_for_selector("#cause-tree .model-call")
        settle(page)
        causes = page.inner_text("#causes")
        assert XSS_TEXT in causes and XSS_RESPONSE in causes
        assert_inert(page)

        kind_row = next(e for e in events if e["kind"] == XSS_KIND)["seq"]
        page.click(f"#event-list li[data-seq='{kind_row}']")
        page.wait_for_selector(f"#event-detail .event-card[data-seq='{kind_row}']")
        settle(page)
        detail = page.inner_text("#event-detail")
        assert XSS_KIND in detail and XSS_DESC in detail
        assert XSS_DESC in page.inner_text("#metrics") and XSS_NAME in page.inner_text("#metrics")
        assert_inert(page)
        assert page.eval_on_selector_all("script", "els => els.length") == scripts
    assert page.dialogs == [] and page.errors == []  # type: ignore[attr-defined]


def test_a_damaged_log_shows_a_clear_message_and_what_it_can(page: Page, auction: Path, tmp_path: Path) -> None:
    events = raw_events(auction)
    with served(truncated_copy(auction, tmp_path)) as url:
        open_viewer(page, url)
        warning = page.inner_text("#warnings")
        assert "cut-off line" in warning and f"showing the {len(events) - 1} complete events" in warning
        assert page.locator("#event-list li.ev").count() > 0
    with served(corrupt_copy(auction, tmp_path, line=12)) as url:
        open_viewer(page, url)
        assert "line 12: not valid JSON" in page.inner_text("#warnings")
        assert page.locator("#event-list li.ev").count() > 0
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_the_exported_page_works_from_a_file_offline(page: Page, auction: Path, runs: Path, tmp_path: Path) -> None:
    from simworld.viewer.export import export_html

    events = raw_events(auction)
    out = export_html(auction, tmp_path / "auction.html")
    open_viewer(page, out.as_uri())
    assert page.is_visible("#panel") and page.locator("#auction-lots tbody tr").count() == 3
    scrub_to(page, 1.0)
    wait_cursor(page, events[-1]["seq"])
    acted = next(e for e in events if e["kind"] == "agent.acted")
    page.click(f"button[data-agent='{acted['agent']}']")
    page.click(f"#agent-decisions li[data-seq='{acted['seq']}'] button.action")
    page.wait_for_selector(f"#cause-tree .event-card[data-seq='{acted['causes'][0]}']")
    assert "revenue_total" in page.inner_text("#metrics")
    assert all(u.startswith(("file:", "data:")) for u in page.requests)  # type: ignore[attr-defined]

    hostile = export_html(xss_run(runs), tmp_path / "xss.html")
    open_viewer(page, hostile.as_uri())
    page.click("button[data-agent='mallory']")
    page.wait_for_selector("#persona-card")
    settle(page)
    assert XSS_NAME in page.inner_text("#persona-card") and XSS_RUN_ID in page.inner_text("#run-header")
    assert_inert(page)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


COINS_PANEL = """
simworld.registerPanel("coins", {
  title: "Coin flips",
  async init(ctx) {
    this.flips = (await ctx.api.events({ kind: "coins.flip", limit: 1000 })).events;
  },
  render(ctx, root) {
    const seen = this.flips.filter((e) => e.seq <= ctx.cursor.seq);
    const heads = seen.filter((e) => e.data.side === "heads").length;
    ctx.clear(root).append(ctx.h("p", { id: "coin-count" }, `${heads} heads of ${seen.length} flips`));
  },
  truth(belief) { return belief.key === "bias" ? 0.5 : undefined; },
});
"""


def coin_run(folder: Path, with_panel: bool) -> Path:
    """A run of a user's scenario file that names its panel; the panel script (if any) sits next to the file."""
    from simworld.runlog import RunWriter, dumps

    folder.mkdir(parents=True)
    (folder / "coins.py").write_text("raise SystemExit('the viewer must never import a scenario file')\n")
    if with_panel:
        (folder / "coins.panel.js").write_text(COINS_PANEL)
    w = RunWriter(folder / "run", {"run_id": "coins", "scenario": "coins", "scenario_ref": str(folder / "coins.py"),
                                   "panel": "coins"})
    lines = [
        {"kind": "agent.joined", "agent": "ann", "data": {"persona": {"id": "ann", "name": "Ann"}, "brain": "rule"}},
        {"kind": "coins.flip", "agent": "ann", "witnesses": ["ann"], "data": {"side": "heads"}},
        {"kind": "belief.updated", "agent": "ann", "data": {"about": "coin", "key": "bias", "value": 0.7,
                                                           "confidence": 0.4}},
        {"kind": "coins.flip", "agent": "ann", "witnesses": ["ann"], "data": {"side": "tails"}},
    ]
    for seq, ev in enumerate(lines):
        full = {"seq": seq, "t": float(seq), "agent": None, "witnesses": [], "causes": [], "data": {}, **ev}
        w.append(dumps(full), full["kind"])
    w.close("completed")
    return folder / "run"


def test_a_custom_scenario_panel_is_loaded_only_when_passed_explicitly(page: Page, tmp_path: Path) -> None:
    run = coin_run(tmp_path / "with", with_panel=True)
    with served(run, panel=tmp_path / "with" / "coins.panel.js") as url:
        open_viewer(page, url)
        assert page.inner_text("#panel h2") == "Coin flips"
        scrub_to(page, 1.0)
        wait_cursor(page, 3)
        assert page.inner_text("#coin-count") == "1 heads of 2 flips"
        page.click("button[data-agent='ann']")
        page.wait_for_selector("#agent-beliefs table")
        settle(page)
        assert page.inner_text("#agent-beliefs .belief-truth") == "0.5"  # the panel's truth() for the belief
    # the same run without --panel: the script beside the scenario file is not the run's to load
    page.requests.clear()  # type: ignore[attr-defined]
    with served(run) as url:
        open_viewer(page, url)
        assert not page.is_visible("#panel") and page.locator("#event-list li.ev").count() == 4
        assert not any(u.endswith(".js") and "static/js/" not in u for u in page.requests)  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def scenario_run(out: Path, name: str, overrides: dict[str, Any]) -> tuple[Path, list[dict[str, Any]]]:
    import simworld as sw

    run = Path(sw.run(name, seed=2, out=out, overrides=overrides).path)
    return run, raw_events(run)


def open_at_end(page: Page, url: str, events: list[dict[str, Any]]) -> None:
    open_viewer(page, url)
    scrub_to(page, 1.0)
    wait_cursor(page, events[-1]["seq"])


def test_the_debate_panel_shows_opinions_moves_and_talk_share(page: Page, runs: Path) -> None:
    run, events = scenario_run(runs, "debate", {"n_debaters": 2, "n_audience": 3, "rounds": 2, "update_rule": "degroot"})
    opened = next(e for e in events if e["kind"] == "debate.opened")
    moves = [e for e in events if e["kind"] == "debate.move"]
    with served(run) as url:
        open_at_end(page, url, events)
        assert page.inner_text("#panel h2") == "Debate" and opened["data"]["text"] in page.inner_text("#debate-head")
        verdict = next(e for e in events if e["kind"] == "debate.verdict")["data"]
        assert f"verdict: {verdict['audience_winner']}" in page.inner_text("#debate-head")
        # every move so far, in order
        shown = page.eval_on_selector_all("#debate-moves tbody tr", "rows => rows.map(r => Number(r.dataset.seq))")
        assert shown == [m["seq"] for m in moves]
        # each debater's share of the talk: their moves and seconds spoken in public
        spoken = [m for m in moves if not m["data"].get("private")]
        total = sum(m["data"]["duration"] for m in spoken)
        for debater in opened["data"]["debaters"]:
            mine = [m for m in spoken if m["data"]["speaker"] == debater]
            row = page.inner_text(f"#debate-talk tr[data-who='{debater}']").split("\t")
            assert row[2] == str(len(mine))
            assert row[4].strip() == f"{round(1000 * sum(m['data']['duration'] for m in mine) / total) / 10:g}%"
        # a participant's opinion at a cursor is their latest update at or before it
        step = next(e for e in events if e["kind"] == "debate.step")
        page.evaluate(f"simworld.app.setCursor({step['seq']})")
        wait_cursor(page, step["seq"])
        opinions = [e for e in events if e["kind"] == "belief.updated" and e["data"]["key"] == "opinion"
                    and e["seq"] <= step["seq"]]
        latest = {e["agent"]: e["data"]["value"] for e in opinions}
        for who, value in latest.items():
            cell = page.inner_text(f"#debate-opinions tr[data-who='{who}'] td:nth-child(3)")
            assert float(cell) == pytest.approx(value, abs=5e-4), who
        assert page.locator("#debate-chart path.line[data-who]").count() == len(latest)
        assert page.locator("#debate-chart line.step").count() == sum(e["kind"] == "debate.step" for e in events)
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_support_panel_shows_each_sessions_intensity_strategies_and_end(page: Page, runs: Path) -> None:
    run, events = scenario_run(runs, "support", {"n_seekers": 2, "n_supporters": 1})
    started = [e for e in events if e["kind"] == "support.session_started"]
    with served(run) as url:
        open_at_end(page, url, events)
        assert page.inner_text("#panel h2") == "Support sessions"
        for s in started:
            sid = s["data"]["session"]
            ended = next(e for e in events if e["kind"] == "support.session_ended" and e["data"]["session"] == sid)
            row = page.inner_text(f"#support-sessions tr[data-session='{sid}']")
            assert ended["data"]["reason"] in row and s["data"]["problem_type"] in row
        # pick the first session: its turns, with the strategy and the intensity after each
        sid = started[0]["data"]["session"]
        page.click(f"#support-sessions tr[data-session='{sid}'] button")
        turns = [e for e in events if e["kind"] == "support.intensity" and e["data"]["session"] == sid]
        rows = page.eval_on_selector_all("#support-turns tbody tr", "rows => rows.map(r => r.innerText.split('\\t'))")
        assert [(int(r[0]), r[1].strip(), float(r[2])) for r in rows] == [
            (i + 1, t["data"]["strategy"], round(t["data"]["intensity"], 2)) for i, t in enumerate(turns)]
        assert page.locator("#support-chart circle.point").count() == len(turns) + 1  # and the start
        for d in (e["data"] for e in events if e["kind"] == "support.disclosed" and e["data"]["session"] == sid):
            assert f"{d['part']}: {d['value']}" in page.inner_text("#support-disclosed")
        ended = next(e for e in events if e["kind"] == "support.session_ended" and e["data"]["session"] == sid)
        assert f"ended: {ended['data']['reason']} after {ended['data']['turns']} turns" in page.inner_text("#support-end")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_recommender_panel_shows_arms_the_funnel_and_a_viewers_pages(page: Page, runs: Path) -> None:
    run, events = scenario_run(runs, "recommender", {"n_users": 8, "days": 3})

    def of(kind: str) -> list[dict[str, Any]]:
        return [e for e in events if e["kind"] == f"recommender.{kind}"]

    with served(run) as url:
        open_at_end(page, url, events)
        assert page.inner_text("#panel h2") == "Recommender"
        for arm in {e["data"]["arm"] for e in of("session_started")}:
            row = page.inner_text(f"#rec-arms tr[data-arm='{arm}']").split("\t")
            ended = [e for e in of("session_ended") if e["data"]["arm"] == arm]
            assert int(row[1]) == sum(e["data"]["arm"] == arm for e in of("session_started"))
            assert float(row[3]) == pytest.approx(sum(e["data"]["pages"] for e in ended) / len(ended), abs=0.005)
            for reason in {e["data"]["reason"] for e in ended}:
                assert f"{reason} {sum(e['data']['reason'] == reason for e in ended)}" in row[4]
            funnel = {step: page.inner_text(f"#rec-funnel tr[data-arm='{arm}'] td[data-step='{step}']").split()[0]
                      for step in ("shown", "noticed", "watched", "rated")}
            pages = [e for e in of("page_shown") if e["data"]["arm"] == arm]
            assert funnel == {
                "shown": str(sum(len(e["data"]["items"]) for e in pages)),
                "noticed": str(sum(len(e["data"]["noticed"]) for e in pages)),
                "watched": str(sum(e["data"]["arm"] == arm for e in of("watched"))),
                "rated": str(sum(e["data"]["arm"] == arm for e in of("rated"))),
            }
        # a viewer's pages: what they noticed, watched and rated
        rated = of("rated")[0]
        viewer = rated["agent"]
        page.select_option("#rec-viewer-pick", viewer)
        sessions = {e["data"]["session"] for e in of("session_started") if e["data"]["user"] == viewer}
        assert page.locator("#rec-viewer tr[data-seq]").count() == sum(e["data"]["session"] in sessions
                                                                         for e in of("page_shown"))
        chip = page.locator(f"#rec-viewer tr[data-session='{rated['data']['session']}'] .chip.watched"
                            f"[data-item='{rated['data']['item']}']").first
        assert f"★{rated['data']['rating']}" in chip.inner_text()
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_exported_page_shows_the_same_memory_as_the_server(page: Page, tmp_path: Path) -> None:
    from simworld.viewer.export import export_html

    run = memory_run(tmp_path, short_term=2)
    exported = export_html(run, tmp_path / "memory.html")
    open_viewer(page, exported.as_uri())
    with served(run) as url:
        for agent, upto in [("ann", 3), ("ann", 5), ("ann", 6), ("ann", 13), ("ann", 99), ("carol", 12),
                            ("carol", 14), ("ghost", 16), ("bob", -1)]:
            assert page.evaluate(f"simworld.app.api.memory('{agent}', {upto})") == get_json(
                url, f"/api/memory?agent={agent}&upto={upto}"), (agent, upto)
    # and the agent view draws it
    page.click("button[data-agent='ann']")
    scrub_to(page, 1.0)
    wait_cursor(page, 17)
    page.wait_for_selector("#agent-memory .memory-item")
    settle(page)
    assert page.eval_on_selector_all("#agent-memory .memory-item", "els => els.map(e => e.dataset.id)") == [
        "e15", "e12", "n0"]
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_causes_of_a_model_decision_show_the_retrieval_and_the_full_prompt(page: Page, tmp_path: Path) -> None:
    pytest.importorskip("langchain_openai", reason="model brains need the llm extra")
    from concurrent.futures import ThreadPoolExecutor

    from openai_server import ScriptedServer

    import simworld as sw

    with ScriptedServer() as srv, ThreadPoolExecutor(1) as pool:
        spec = {"base_url": srv.base_url, "model": "scripted", "api_key_env": None,
                "cache_path": str(tmp_path / "cache.sqlite")}
        overrides = {"n_bidders": 2, "n_items": 1, "format": "english", "brain": "llm", "model": spec}
        # in a thread: the model gateway runs its own event loop, and Playwright's is running here
        run = Path(pool.submit(sw.run, "auction", seed=5, out=tmp_path, overrides=overrides).result().path)
    events = raw_events(run)
    acted = next(e for e in events if e["kind"] == "agent.acted" and e["data"]["brain"] == "llm")
    causes = {e["seq"]: e for e in events if e["seq"] in acted["causes"]}
    call = next(e for e in causes.values() if e["kind"] == "model.call")
    with served(run) as url:
        open_viewer(page, url)
        page.click(f"button[data-agent='{acted['agent']}']")
        page.evaluate(f"simworld.app.setCursor({acted['seq']})")
        wait_cursor(page, acted["seq"])
        page.click(f"#agent-decisions li[data-seq='{acted['seq']}'] button.action")
        page.wait_for_selector(f"#cause-tree .event-card[data-seq='{call['seq']}'] .model-call")
        settle(page)
        shown = page.inner_text(f"#cause-tree .event-card[data-seq='{call['seq']}']")
        for message in call["data"]["messages"]:
            assert message["content"].splitlines()[-1] in shown
        assert call["data"]["response"] in shown
        for retrieval in (e for e in causes.values() if e["kind"] == "memory.retrieved"):
            table = page.inner_text(f"#cause-tree .event-card[data-seq='{retrieval['seq']}'] table.retrieved")
            assert all(mem_id in table for mem_id in retrieval["data"]["ids"]) and "relevance" in table
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def tom(runs: Path) -> Path:
    return tom_run(runs)


def knowledge_row(page: Page, fact: str) -> Any:
    return page.locator(f"#knowledge-table tr[data-fact='{fact}']")


def test_the_knowledge_view_marks_a_false_belief_and_shows_the_event_behind_it(page: Page, runs: Path) -> None:
    run = sally_anne_run(runs, "sally-anne-browser")
    put, moved, lie = SALLY_ANNE["put"], SALLY_ANNE["moved"], SALLY_ANNE["lie"]
    with served(run) as url:
        open_viewer(page, url)
        page.click("button[data-agent='sally']")
        page.evaluate(f"simworld.app.setCursor({moved})")
        wait_cursor(page, moved)
        page.wait_for_selector("#knowledge-table")
        settle(page)
        assert page.inner_text("#agent-knowledge h3") == "Knowledge (2 facts · 1 false · 0 unknown)"
        row = knowledge_row(page, "marble.container")
        cells = row.locator("td")
        assert cells.nth(1).inner_text() == "box"  # reality at the cursor
        assert cells.nth(2).inner_text() == "basket ✗ false" and "false-belief" in (cells.nth(2).get_attribute("class") or "")
        assert cells.nth(3).inner_text() == "basket ✗ false (anne: box)"  # what Sally thinks Anne believes
        sally_room = knowledge_row(page, "sally.room").locator("td")
        assert sally_room.nth(2).inner_text() == "hallway" and "false-belief" not in (sally_room.nth(2).get_attribute("class") or "")

        # a click on the false belief: the event it rests on, and the move Sally did not see
        cells.nth(2).locator("button").click()
        page.wait_for_selector(f"#belief-events .event-card[data-seq='{put}']")
        page.wait_for_selector(f"#belief-reality .event-card[data-seq='{moved}']")
        settle(page)
        assert page.inner_text("#belief-summary") == "What sally believes about marble.container: basket ✗ false · reality: box"
        assert "witnesses: sally, anne" in page.inner_text(f"#belief-events .event-card[data-seq='{put}']")
        assert page.inner_text("#belief-reality-witnessed") == "sally was not among its witnesses"
        page.click("#close-causes")

        # at the end: Anne's lie is what Sally believes; Bob's room she does not know
        page.evaluate(f"simworld.app.setCursor({lie + 5})")
        wait_cursor(page, lie + 2)
        page.wait_for_selector("#knowledge-table tr[data-fact='bob.room']")
        settle(page)
        assert knowledge_row(page, "marble.container").locator("td").nth(2).inner_text() == "drawer ✗ false"
        unknown = knowledge_row(page, "bob.room").locator("td").nth(2)
        assert unknown.inner_text() == "unknown" and "unknown-belief" in (unknown.get_attribute("class") or "")
        knowledge_row(page, "marble.container").locator("td").nth(2).locator("button").click()
        page.wait_for_selector(f"#belief-events .event-card[data-seq='{lie}']")
        settle(page)
        assert "It is in the drawer." in page.inner_text("#belief-events")
        page.click("#close-causes")

        page.check("#knowledge-only-false")
        settle(page)
        assert page.eval_on_selector_all("#knowledge-table tbody tr", "rows => rows.map(r => r.dataset.fact)") == [
            "marble.container"]
    assert page.errors == [] and page.dialogs == []  # type: ignore[attr-defined]


def test_the_exported_page_shows_the_same_knowledge_as_the_server(page: Page, tom: Path, tmp_path: Path) -> None:
    from simworld.viewer.export import export_html

    events = raw_events(tom)
    agents = [e["agent"] for e in events if e["kind"] == "agent.joined"]
    open_viewer(page, export_html(tom, tmp_path / "tom.html").as_uri())
    n = len(events)
    with served(tom) as url:
        for agent in agents:
            for upto in (0, n // 3, 2 * n // 3, n - 1):
                for opts in ({}, {"only": "false"}, {"about": agents[0], "fact": "container"}):
                    query = "&".join(f"{k}={v}" for k, v in {"agent": agent, "upto": upto, **opts}.items())
                    exported = page.evaluate("([a, u, o]) => simworld.app.api.knowledge(a, u, o)", [agent, upto, opts])
                    assert exported == get_json(url, f"/api/knowledge?{query}"), query
        # the view draws it from the page alone
        wrong = next((a, f) for a in agents for f in get_json(url, f"/api/knowledge?agent={a}&only=false")["facts"])
    page.click(f"button[data-agent='{wrong[0]}']")
    scrub_to(page, 1.0)
    wait_cursor(page, events[-1]["seq"])
    page.wait_for_selector(f"#knowledge-table tr[data-fact='{wrong[1]['fact']}'] td.false-belief")
    page.click(f"#knowledge-table tr[data-fact='{wrong[1]['fact']}'] td.false-belief button")
    page.wait_for_selector(f"#belief-events .event-card[data-seq='{wrong[1]['seq']}']")
    assert all(u.startswith(("file:", "data:")) for u in page.requests)  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_tom_rooms_panel_shows_rooms_the_story_and_an_agents_false_beliefs(page: Page, tom: Path) -> None:
    from simworld.scenarios.tom_rooms import render

    from simworld.viewer.knowledge_view import KnowledgeQuery
    from simworld.viewer.run import RunView

    events = raw_events(tom)
    names = {e["agent"]: e["data"]["persona"]["name"] for e in events if e["kind"] == "agent.joined"}
    view = RunView(tom)
    # a cursor where someone holds a false belief about where an object is

    def wrong_about_an_object(agent: str, upto: int) -> bool:
        answer = view.knowledge_answer(KnowledgeQuery(agent, only="false"), upto)
        return any(f["fact"].endswith(".container") for f in answer["facts"])

    upto, agent = next((e["seq"], a) for e in reversed(events) for a in names if wrong_about_an_object(a, e["seq"]))
    wrong = view.knowledge_answer(KnowledgeQuery(agent, only="false", second=False), upto)["facts"]
    scene = next(e for e in events if e["kind"] == "tom.scene")["data"]
    reality: dict[str, str] = {}
    for e in events[: upto + 1]:
        reality.update(e["data"].get("facts") or {})
    with served(tom) as url:
        open_viewer(page, url)
        page.evaluate(f"simworld.app.setCursor({upto})")
        wait_cursor(page, upto)
        assert page.inner_text("#panel h2") == "Rooms"
        for room in scene["rooms"]:
            card = page.inner_text(f"#tom-room-{room} .who")
            here = [names[a] for a in names if reality.get(f"{a}.room") == room]
            assert card == ("here: " + ", ".join(here) if here else "nobody here"), room
            for obj in (o for o, r in scene["objects"].items() if r == room):
                cell = page.inner_text(f"#tom-room-{room} tr[data-object='{obj}'] td.reality")
                assert cell == "the " + reality[f"{obj}.container"]
        hallway = [names[a] for a in names if reality.get(f"{a}.room", "hallway") == "hallway"]
        assert page.inner_text("#tom-hallway .who") == (", ".join(hallway) or "nobody")
        story = [line.text for line in render(events) if line.seq <= upto]
        assert page.eval_on_selector_all("#tom-story li", "els => els.map(e => e.textContent)") == story[-300:]

        page.select_option("#tom-agent-pick", agent)
        page.wait_for_selector(f"#tom-false li[data-fact='{wrong[0]['fact']}']")
        settle(page)
        assert page.eval_on_selector_all("#tom-false li", "els => els.map(e => e.dataset.fact)") == [f["fact"] for f in wrong]
        assert f"False beliefs of {names[agent]} ({len(wrong)})" == page.inner_text("#tom-false-head")
        obj_fact = next(f for f in wrong if f["fact"].endswith(".container"))
        obj = obj_fact["fact"].rsplit(".", 1)[0]
        cell = page.locator(f"tr[data-object='{obj}'] td.false-belief")
        assert cell.inner_text() == f"{obj_fact['belief']} ✗ false"
        cell.locator("button").click()
        page.wait_for_selector(f"#belief-events .event-card[data-seq='{obj_fact['seq']}']")
    assert page.errors == []  # type: ignore[attr-defined]
