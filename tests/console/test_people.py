"""People: search, the timeline, and a consular officer's scope."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AuditEntry
from tests.console.conftest import DOHA_REPORTER, REPORTER


def audited(svc, action: str) -> list[AuditEntry]:
    with svc.db.Session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_person_timeline_tells_the_whole_story(console, world, svc):
    page = console("consular_officer").get(f"/console/people/{world.person_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for line in ("registered by ussd", "contracted -&gt; departed (said by immigration)",
                 "departure at JKIA", "work permit, Saudi Arabia", "check-in #1: answered",
                 world.riyadh_case, "sms out"):
        assert line in html, line
    assert "31415926" not in html and "*****926" in html   # the national ID, masked
    [entry] = audited(svc, "person.view")
    assert entry.target == f"person:{world.person_id}"


def test_person_page_shows_only_the_cases_the_user_may_see(console, world, svc):
    from app.models import Case

    with svc.db.session() as session:
        session.add(Case(ref="QATAR2", reporter_phone=REPORTER, person_id=world.person_id,
                         mission_code="KE-DOH", country="QA", severity="normal",
                         channel="sms", status="open"))
    assert "QATAR2" not in console("consular_officer").get(
        f"/console/people/{world.person_id}").get_data(as_text=True)
    assert "QATAR2" in console("nea_admin").get(
        f"/console/people/{world.person_id}").get_data(as_text=True)


def test_consular_officers_find_only_people_of_their_mission(console, world):
    ruh = console("consular_officer").get("/console/people").get_data(as_text=True)
    assert "Amina Wanjiku" in ruh and "Halima Otieno" not in ruh
    doha = console("doha").get("/console/people").get_data(as_text=True)
    assert "Halima Otieno" in doha and "Amina Wanjiku" not in doha
    assert console("doha").get(f"/console/people/{world.person_id}").status_code == 404


def test_people_search_by_reg_no_phone_national_id_and_name(console, world, svc):
    from app.models import Person

    with svc.db.Session() as session:
        reg_no = session.get(Person, world.person_id).reg_no
    admin = console("nea_admin")
    for q in (reg_no, REPORTER, "31415926", "wanjiku"):
        html = admin.get("/console/people", query_string={"q": q}).get_data(as_text=True)
        assert "Amina Wanjiku" in html and "Halima Otieno" not in html, q
    html = admin.get("/console/people", query_string={"q": DOHA_REPORTER}).get_data(
        as_text=True)
    assert "Halima Otieno" in html
    # The search words may be a national ID: the audit log keeps only their kind.
    kinds = [e.details for e in audited(svc, "people.list")]
    assert {"search": "national_id"} in kinds
    assert all("31415926" not in str(k) for k in kinds)


def test_timeline_is_paginated(console, world, svc):
    from app.sms.outbox import queue_sms

    with svc.db.session() as session:
        for n in range(60):
            queue_sms(session, REPORTER, f"message {n}", kind="test", dedupe_key=f"t:{n}")
    admin = console("nea_admin")
    first = admin.get(f"/console/people/{world.person_id}").get_data(as_text=True)
    assert first.count("<tr><td>") - first.split("<h2>Timeline")[0].count("<tr><td>") == 50
    assert "Page 1 of 2" in first
    second = admin.get(f"/console/people/{world.person_id}?page=2").get_data(as_text=True)
    assert "registered by ussd" in second and "registered by ussd" not in first
