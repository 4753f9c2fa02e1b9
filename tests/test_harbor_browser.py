"""The replay viewer shows a HARBOR run's budget and priority beliefs next to their truth (in Chromium;
skipped, like every browser test, where Chromium or Playwright is missing)."""

from __future__ import annotations

from pathlib import Path

from test_harbor import TRUE_BUDGET, TRUE_PRIORITY, beliefs_of, run_tiny
from test_viewer_browser import browser, open_viewer, page, raw_events, scrub_to, settle, wait_cursor  # noqa: F401
from viewer_runs import served


def test_the_agent_view_shows_budget_and_priority_beliefs_with_their_truth(page, tmp_path: Path) -> None:  # noqa: F811
    res = run_tiny(tmp_path, format="first_price")
    events = raw_events(res.path)
    held = {(b["about"], b["key"]) for b in beliefs_of(res.path, "budget") + beliefs_of(res.path, "priority")
            if b["owner"] == "Bidder_0"}
    assert ("Bidder_1", "budget") in held and ("Bidder_1", "priority") in held
    with served(res.path) as url:
        open_viewer(page, url)
        scrub_to(page, 1.0)
        wait_cursor(page, events[-1]["seq"])
        page.click("button[data-agent='Bidder_0']")
        page.wait_for_selector("#agent-beliefs table")
        settle(page)
        for about, key in sorted(held):
            row = page.locator(f"#agent-beliefs tbody tr[data-about='{about}']").filter(
                has=page.locator("td", has_text=key)).first
            truth = row.locator(".belief-truth").inner_text()
            expected = TRUE_BUDGET[about] if key == "budget" else TRUE_PRIORITY[about]
            assert truth.replace(",", "") == str(expected), (about, key, truth)
    assert page.errors == []  # type: ignore[attr-defined]
