"""The console in a real browser: Debian's Chromium, headless, driven by Playwright.

Flows: login; the inbox; ACK and CLOSE a case; a consular officer who cannot open
another mission's case by URL or API; an analyst who sees no personal data; the
simulator registering a person (with and without JavaScript). The app is served from
this process on a loopback port; each page is saved as a screenshot under
``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.db import utcnow
from app.models import Case, Person, User
from app.staff.keys import issue_staff_key
from tests.console.conftest import ACCOUNTS, DOHA_REPORTER, PASSWORD, REPORTER
from tests.console.test_simulator import REGISTRATION

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
"""Debian's Chromium (``apt-get install chromium``); Playwright never downloads one here."""

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

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
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tab(browser):
    """Give ``tab(javascript=True)``: a fresh browser tab (its own cookies)."""
    contexts = []

    def open_tab(javascript: bool = True):
        context = browser.new_context(java_script_enabled=javascript,
                                      viewport={"width": 1200, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield open_tab
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def sign_in(page, server: str, role: str, then: str = "") -> None:
    page.goto(f"{server}/console/login" + (f"?next={then}" if then else ""))
    page.fill("input[name=email]", ACCOUNTS[role][0])
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_login_and_the_inbox(server, tab, world, staff, svc):
    now = utcnow()
    with svc.db.session() as session:  # one case past its clock, one past half of it
        for ref, severity, age in (("OLD234", "critical", timedelta(minutes=20)),
                                   ("HALF56", "normal", timedelta(hours=13))):
            session.add(Case(ref=ref, reporter_phone="+966511111111", mission_code="KE-RUH",
                             country="SA", severity=severity, category="unpaid_wages",
                             channel="sms", status="open", opened_at=now - age))
    page = tab()
    page.goto(f"{server}/console/cases")
    assert "/console/login" in page.url
    shot(page, "login")
    page.fill("input[name=email]", ACCOUNTS["consular_officer"][0])
    page.fill("input[name=password]", "wrong password!!")
    page.click("main button[type=submit]")
    assert "not accepted" in page.locator(".flash").inner_text()
    shot(page, "login-refused")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/cases")
    assert page.locator("h1").inner_text() == "Cases · KE-RUH"
    rows = page.locator("tbody tr[data-sla]")
    assert [rows.nth(i).get_attribute("data-sla") for i in range(rows.count())] == [
        "red", "green", "amber"]                  # critical first, then high, then normal
    assert world.riyadh_case in rows.nth(1).inner_text()
    assert world.doha_case not in page.content()
    shot(page, "inbox")
    page.select_option("select[name=severity]", "normal")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "severity=normal" in page.url
    assert page.locator("tbody tr[data-sla]").count() == 1
    shot(page, "inbox-filtered")


def test_ack_and_close_a_case(server, tab, world, staff, svc):
    page = tab()
    sign_in(page, server, "consular_officer", then=f"/console/cases/{world.riyadh_case}")
    assert page.locator("h1").inner_text().startswith(f"Case {world.riyadh_case}")
    shot(page, "case")
    page.click(f"text=ACK {world.riyadh_case}")
    page.wait_for_load_state()
    assert "Case taken up" in page.locator(".flash").inner_text()
    assert "acknowledged" in page.locator("dl.facts").first.inner_text()
    shot(page, "case-acked")
    page.fill("#close-text", "Wages paid and passport returned.")
    page.click("text=Close case")
    page.wait_for_load_state()
    assert "Case closed" in page.locator(".flash").inner_text()
    shot(page, "case-closed")
    with svc.db.Session() as session:
        case = session.scalar(select(Case).where(Case.ref == world.riyadh_case))
    assert case.status == "closed" and case.close_note == "Wages paid and passport returned."


def test_a_consular_officer_cannot_open_another_missions_case(server, tab, world, staff, svc):
    page = tab()
    sign_in(page, server, "consular_officer")
    response = page.goto(f"{server}/console/cases/{world.doha_case}")
    assert response.status == 404
    shot(page, "other-mission-case-404")
    with svc.db.session() as session:
        user = session.scalar(select(User).where(User.email == ACCOUNTS["consular_officer"][0]))
        key = issue_staff_key(session, user)
    api = page.request.get(f"{server}/api/v1/cases/{world.doha_case}",
                           headers={"Authorization": f"Bearer {key}"})
    assert api.status == 404 and api.json()["error"]["code"] == "not_found"
    own = page.request.get(f"{server}/api/v1/cases/{world.riyadh_case}",
                           headers={"Authorization": f"Bearer {key}"})
    assert own.status == 200


def test_an_analyst_sees_no_personal_data(server, tab, world, staff, svc):
    page = tab()
    sign_in(page, server, "analyst")
    page.wait_for_url("**/console/analytics")
    with svc.db.Session() as session:
        people = list(session.scalars(select(Person)))
    secrets = [REPORTER, DOHA_REPORTER, world.riyadh_case, world.doha_case]
    secrets += [p.full_name for p in people] + [p.reg_no for p in people]
    assert [s for s in secrets if s in page.content()] == []
    nav = page.locator("header nav").inner_text()
    assert "Cases" not in nav and "People" not in nav
    shot(page, "analyst-home")
    response = page.goto(f"{server}/console/cases")
    assert response.status == 403
    response = page.goto(f"{server}/console/people/{world.person_id}")
    assert response.status == 403
    assert [s for s in secrets if s in page.content()] == []
    shot(page, "analyst-refused")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_simulator_registers_a_person(server, tab, svc, javascript):
    page = tab(javascript=javascript)
    page.goto(f"{server}/simulator")
    shot(page, "simulator")
    page.fill("#phoneNumber", "+254712345678")
    page.click("#dial")
    page.wait_for_function("document.getElementById('screen').innerText.includes('1 ')")
    for value in REGISTRATION:
        before = page.locator("#screen").inner_text()
        page.fill("#input", value)
        page.click("#send")
        if javascript:
            page.wait_for_function(
                "prev => document.getElementById('screen').innerText !== prev", arg=before)
        else:
            page.wait_for_load_state()
    assert page.locator("#screen").inner_text().startswith("Registered! Your number is KS")
    with svc.db.Session() as session:
        person = session.scalar(select(Person))
    assert person.full_name == "Jane Wanjiru"
    assert person.reg_no in page.locator("#inbox").inner_text()
    shot(page, f"simulator-registered-{'js' if javascript else 'nojs'}")
