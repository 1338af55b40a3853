"""The analytics dashboard in a real browser: Debian's Chromium, driven by Playwright.

Flows: the dashboard with filters; a CSV and an XLSX export. The app is served on a
loopback port from this process (same database as the test), and a screenshot of each
page is saved under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from app.staff.accounts import create_user
from tests.reports.dataset import TO, build

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
"""Debian's Chromium; Playwright never downloads a browser here."""

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

EMAIL, PASSWORD = "analyst.browser@nea.go.ke", "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install playwright)")


@pytest.fixture
def server(app) -> Iterator[str]:
    """Serve the app on a free loopback port for the length of the test."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(server, svc):
    """A signed-in analyst's browser tab, over the report dataset."""
    with svc.db.session() as session:
        build(session)
        create_user(session, EMAIL, "analyst", None, PASSWORD)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1200,
                                                                       "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(15000)
        tab.goto(f"{server}/console/login?next=/console/analytics")
        tab.fill("input[name=email]", EMAIL)
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url("**/console/analytics")
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def _loaded(page) -> None:
    """Wait until the page's script has replaced every chart placeholder with its chart."""
    page.wait_for_function("!document.querySelector('[data-chart-url]')")
    assert page.locator(".chart-failed").count() == 0
    assert page.locator("section.chart-card svg").count() == 13


def _cells(page, slug: str) -> list[list[str]]:
    return [[c.strip() for c in row.locator("td").all_inner_texts()]
            for row in page.locator(f"#{slug} tbody tr").all()]


def test_the_dashboard_with_filters(page):
    assert page.locator("h1").inner_text() == "Analytics"
    _loaded(page)
    page.screenshot(path=str(SHOTS / "analytics-dashboard.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "analytics-dashboard-top.png"))
    for slug in ("departures", "cases-country", "sla"):
        page.locator(f"#{slug}").screenshot(path=str(SHOTS / f"analytics-{slug}.png"))

    page.fill("input[name=to]", TO.isoformat())
    page.select_option("select[name=gender]", "female")
    page.fill("input[name=country]", "SA")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    _loaded(page)
    assert "gender=female" in page.url and "country=SA" in page.url
    assert page.locator("select[name=gender]").input_value() == "female"
    # Four women in Saudi Arabia on 30 June: shown; their placements by agency: 5.
    assert _cells(page, "stock") == [["SA", "Saudi Arabia", "<5"]]
    assert _cells(page, "placements-gender") == [["female", "female", "5"]]
    assert "Filters that do not apply here: gender." in page.locator("#red-flags").inner_text()
    page.locator("#stock").screenshot(path=str(SHOTS / "analytics-stock-filtered.png"))
    page.screenshot(path=str(SHOTS / "analytics-filtered.png"), full_page=True)

    page.fill("input[name=from]", "2026-07-01")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#filter-error").inner_text().startswith("Filter “from”")
    page.screenshot(path=str(SHOTS / "analytics-bad-filter.png"), full_page=True)


def test_a_csv_and_an_xlsx_export(page, tmp_path):
    page.goto(page.url.split("?")[0] + f"?to={TO.isoformat()}")
    _loaded(page)
    card = page.locator("#placements-agency")
    with page.expect_download() as caught:
        card.get_by_role("link", name="Download CSV").click()
    download = caught.value
    assert download.suggested_filename.startswith("kazi-placements-agency-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows == [["value", "label", "placements"],
                    ["NEA/PEA/2024/0001", "Safari Recruiters Ltd", "8"],
                    ["NEA/PEA/2024/0002", "Desert Star Agency", "<5"],
                    ["NEA/PEA/2024/0003", "'=Coastline Jobs", "<5"]]

    card = page.locator("#agency-risk")
    with page.expect_download() as caught:
        card.get_by_role("link", name="Download XLSX").click()
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    book = load_workbook(saved)
    sheet = list(book.worksheets[0].iter_rows(values_only=True))
    assert [(r[0], r[3]) for r in sheet[1:]] == [
        ("NEA/PEA/2024/0002", 38), ("NEA/PEA/2024/0003", 20), ("NEA/PEA/2024/0001", 12)]
    assert dict(book["About"].iter_rows(values_only=True))["filters"] == f"to={TO}"
    card.screenshot(path=str(SHOTS / "analytics-export-card.png"))


PEAK = """
window.__inflight = 0; window.__peak = 0;
const fetchFirst = window.fetch;
window.fetch = function (...args) {
  window.__inflight += 1; window.__peak = Math.max(window.__peak, window.__inflight);
  return fetchFirst.apply(this, args).finally(() => { window.__inflight -= 1; });
};
"""
"""Count the page's fetches in flight, to see it asks for at most three charts at once."""


def test_charts_load_three_at_a_time_and_a_failure_is_said(page):
    page.add_init_script(PEAK)
    page.route("**/console/analytics/chart/sla?*", lambda route: route.fulfill(
        status=500, body="boom"))
    page.goto(page.url.split("?")[0] + f"?to={TO.isoformat()}&gender=male")  # not cached
    page.wait_for_function("!document.querySelector('[data-chart-url]')")
    assert page.evaluate("window.__peak") == 3
    assert page.locator("section.chart-card svg").count() == 12
    failed = page.locator("#sla.chart-failed")
    assert failed.locator(".loading").inner_text() == (
        "This chart could not be loaded. Reload the page to try again.")
    assert page.locator(".chart-failed").count() == 1
    failed.screenshot(path=str(SHOTS / "analytics-chart-failed.png"))
