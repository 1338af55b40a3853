"""The case inbox and page: SLA colours, filters, pages, and the actions officers take by SMS."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db import utcnow
from app.models import AuditEntry, Case, CaseEvent, Escalation, Message, User
from app.staff.keys import issue_staff_key
from tests.console.conftest import ACCOUNTS, REPORTER, case_of
from tests.protection.conftest import sms

OFFICER_PHONE = "+966500000001"
"""The Riyadh duty officer of the ``world`` fixture."""


def set_case(svc, ref: str, **values) -> None:
    with svc.db.session() as session:
        session.execute(update(Case).where(Case.ref == ref).values(**values))


def sla_colours(html: str) -> dict[str, str]:
    """Give each case row's SLA colour by case reference."""
    rows = re.findall(r'data-sla="(\w+)">\s*<td><a href="/console/cases/(\w+)"', html)
    return {ref: colour for colour, ref in rows}


def timeline(svc, ref: str) -> list[tuple[str, str | None]]:
    case = case_of(svc, ref)
    with svc.db.Session() as session:
        return [(e.kind, e.actor) for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]


def outbox(svc, phone: str) -> list[Message]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Message).where(Message.to_phone == phone)
                                    .order_by(Message.id)))


def audited(svc, action: str) -> list[AuditEntry]:
    with svc.db.Session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def staff_id(svc, role: str) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(User.id).where(User.email == ACCOUNTS[role][0]))


# inbox ----------------------------------------------------------------------------------


def test_inbox_colours_cases_by_their_severity_clock(console, world, svc):
    now = utcnow()
    # high: 2 h clock. 1.5 h waiting is past half (amber); the normal one (24 h) is green.
    set_case(svc, world.riyadh_case, severity="high", opened_at=now - timedelta(minutes=90))
    set_case(svc, world.doha_case, severity="normal", opened_at=now - timedelta(hours=2))
    colours = sla_colours(console("nea_admin").get("/console/cases").get_data(as_text=True))
    assert colours == {world.riyadh_case: "amber", world.doha_case: "green"}
    set_case(svc, world.riyadh_case, opened_at=now - timedelta(hours=3))
    colours = sla_colours(console("nea_admin").get("/console/cases").get_data(as_text=True))
    assert colours[world.riyadh_case] == "red"


def test_an_acknowledged_case_keeps_the_colour_of_its_answer(console, world, svc):
    now = utcnow()
    set_case(svc, world.riyadh_case, severity="critical", status="acknowledged",
             opened_at=now - timedelta(days=2), acknowledged_at=now - timedelta(days=2)
             + timedelta(minutes=5))
    page = console("nea_admin").get("/console/cases").get_data(as_text=True)
    assert sla_colours(page)[world.riyadh_case] == "green"
    assert "taken up after 5 min" in page


def test_inbox_puts_the_most_urgent_first(console, world, svc):
    set_case(svc, world.doha_case, severity="critical")
    set_case(svc, world.riyadh_case, severity="normal")
    page = console("nea_admin").get("/console/cases").get_data(as_text=True)
    assert page.index(world.doha_case) < page.index(world.riyadh_case)


@pytest.mark.parametrize(("query", "riyadh", "doha"), [
    ("country=SA", True, False),
    ("country=QA", False, True),
    ("severity=critical", True, False),
    ("category=wants_return", False, True),
    ("age=24h", True, False),
    ("status=closed", False, False),
])
def test_inbox_filters(console, world, svc, query, riyadh, doha):
    set_case(svc, world.riyadh_case, severity="critical",
             opened_at=utcnow() - timedelta(days=2))
    set_case(svc, world.doha_case, severity="normal", category="wants_return")
    page = console("nea_admin").get(f"/console/cases?{query}").get_data(as_text=True)
    assert (world.riyadh_case in page, world.doha_case in page) == (riyadh, doha)


def test_inbox_pages_fifty_cases_at_a_time(console, world, svc):
    with svc.db.session() as session:
        for n in range(55):
            session.add(Case(ref=f"P{n:05d}", reporter_phone=f"+9665000{n:05d}",
                             mission_code="KE-RUH", country="SA", severity="normal",
                             channel="sms", status="open", opened_at=utcnow()))
    admin = console("nea_admin")
    first = admin.get("/console/cases?country=SA").get_data(as_text=True)
    assert first.count('data-sla="') == 50
    assert "Page 1 of 2 (56 rows)" in first
    assert 'href="/console/cases?page=2&amp;country=SA"' in first
    second = admin.get("/console/cases?country=SA&page=2").get_data(as_text=True)
    assert second.count('data-sla="') == 6


def test_a_consular_officer_sees_only_their_missions_cases(console, world):
    page = console("consular_officer").get("/console/cases").get_data(as_text=True)
    assert world.riyadh_case in page and world.doha_case not in page
    page = console("doha").get("/console/cases").get_data(as_text=True)
    assert world.doha_case in page and world.riyadh_case not in page


# the case page ----------------------------------------------------------------------------


def test_case_page_shows_timeline_messages_and_links(console, world, svc):
    page = console("consular_officer").get(f"/console/cases/{world.riyadh_case}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "My employer took my passport" in html          # the report, on the timeline
    assert "from reporter" not in html or "to reporter" in html
    assert "to reporter" in html                            # our receipt SMS
    assert "Amina Wanjiku" in html and "Example Recruitment Ltd" in html
    assert "Al Noor Household Services" in html
    assert f'/console/people/{world.person_id}' in html
    [entry] = audited(svc, "case.view")
    assert entry.target == f"case:{world.riyadh_case}" and entry.actor == "ruh@mfa.go.ke"
    assert entry.ip == "127.0.0.1" and entry.user_agent


def test_a_consular_officer_cannot_open_another_missions_case_by_url(console, world, svc):
    response = console("consular_officer").get(f"/console/cases/{world.doha_case}")
    assert response.status_code == 404
    assert world.doha_case not in response.get_data(as_text=True)
    assert audited(svc, "case.view") == []
    acted = console("consular_officer").post(f"/console/cases/{world.doha_case}/close",
                                             {"text": "not mine"})
    assert acted.status_code == 404
    assert case_of(svc, world.doha_case).status == "open"


# actions: the same as officers' SMS commands ---------------------------------------------


def test_ack_here_is_the_ack_an_officer_sends_by_sms(console, world, svc, client, work):
    officer = console("consular_officer")
    response = officer.post(f"/console/cases/{world.riyadh_case}/ack")
    assert response.status_code == 303
    case = case_of(svc, world.riyadh_case)
    assert case.status == "acknowledged" and case.next_escalation_at is None
    assert ("ack", f"staff:{staff_id(svc, 'consular_officer')}") in timeline(svc, case.ref)
    [acked] = [m for m in outbox(svc, REPORTER) if m.kind == "case_acked"]
    assert acked.dedupe_key == f"case:{case.id}:ack"     # the SMS path's key: never twice
    with svc.db.Session() as session:
        assert {e.status for e in session.scalars(
            select(Escalation).where(Escalation.case_id == case.id))} == {"acked"}
    # The duty officer's ACK by SMS now finds it taken.
    sms(client, f"ACK {case.ref}", OFFICER_PHONE)
    work()
    reply = outbox(svc, OFFICER_PHONE)[-1]
    assert reply.kind == "officer_reply" and "already" in reply.body.lower()
    assert [e.action for e in audited(svc, "case.ack")] == ["case.ack"]


def test_an_sms_ack_shows_in_the_console(console, world, svc, client, work):
    sms(client, f"ACK {world.riyadh_case}", OFFICER_PHONE)
    work()
    page = console("consular_officer").get(f"/console/cases/{world.riyadh_case}")
    html = page.get_data(as_text=True)
    assert "acknowledged" in html and "held by officer Amina Riyadh" in html


def test_note_and_close_are_the_sms_notes_and_close(console, world, svc, client, work):
    officer = console("consular_officer")
    officer.post(f"/console/cases/{world.riyadh_case}/note", {"text": "Called the employer."})
    case = case_of(svc, world.riyadh_case)
    assert case.status == "acknowledged"            # a note takes the case up, as by SMS
    officer.post(f"/console/cases/{world.riyadh_case}/close",
                 {"text": "Wages paid, passport returned."})
    case = case_of(svc, world.riyadh_case)
    assert case.status == "closed" and case.close_note == "Wages paid, passport returned."
    kinds = [kind for kind, _ in timeline(svc, case.ref)]
    assert kinds[-3:] == ["ack", "note", "closed"]
    [closed] = [m for m in outbox(svc, REPORTER) if m.kind == "case_closed"]
    assert closed.dedupe_key == f"case:{case.id}:closed"
    assert "Wages paid, passport returned." in closed.body
    sms(client, f"CLOSE {case.ref} again", OFFICER_PHONE)
    work()
    assert "closed" in outbox(svc, OFFICER_PHONE)[-1].body.lower()
    assert len([m for m in outbox(svc, REPORTER) if m.kind == "case_closed"]) == 1
    assert {e.action for e in audited(svc, "case.note") + audited(svc, "case.close")} == {
        "case.note", "case.close"}


def test_close_needs_a_note(console, world, svc):
    response = console("consular_officer").post(f"/console/cases/{world.riyadh_case}/close",
                                                 {"text": "  "})
    assert response.status_code == 303
    assert case_of(svc, world.riyadh_case).status == "open"
    assert audited(svc, "case.close") == []


def test_reassign_to_another_mission_hands_the_case_over(console, world, svc):
    from app.protection import officers

    with svc.db.session() as session:
        officers.enrol(session, name="Zawadi Doha", phone="+97455000001", country="QA")
    officer = console("consular_officer")
    officer.post(f"/console/cases/{world.riyadh_case}/ack")
    response = officer.post(f"/console/cases/{world.riyadh_case}/reassign",
                            {"mission_code": "KE-DOH"})
    assert response.status_code == 303 and response.location == "/console/cases"
    case = case_of(svc, world.riyadh_case)
    assert case.mission_code == "KE-DOH" and case.status == "open"
    assert ("reassigned", f"staff:{staff_id(svc, 'consular_officer')}") in timeline(
        svc, case.ref)
    with svc.db.Session() as session:
        rows = session.scalars(select(Escalation).where(Escalation.case_id == case.id,
                                                        Escalation.mission_code == "KE-DOH"))
        assert [(r.level, r.status) for r in rows] == [(0, "notified")]
    [alert] = outbox(svc, "+97455000001")
    assert alert.kind == "officer_alert" and case.ref in alert.body
    # Riyadh no longer sees it; Doha does.
    assert officer.get(f"/console/cases/{case.ref}").status_code == 404
    assert console("doha").get(f"/console/cases/{case.ref}").status_code == 200
    [entry] = audited(svc, "case.reassign")
    assert entry.details["mission"] == "KE-DOH"


def test_reassign_to_an_officer_tells_them(console, world, svc):
    from app.protection import officers

    with svc.db.session() as session:
        jed = officers.enrol(session, name="Daudi Jeddah", phone="+966500000004",
                             country="SA").officer
        jed.mission_code = "KE-JED"
        jed_id = jed.id
    console("nea_admin").post(f"/console/cases/{world.riyadh_case}/reassign",
                              {"officer_id": str(jed_id)})
    assert case_of(svc, world.riyadh_case).mission_code == "KE-JED"
    [alert] = outbox(svc, "+966500000004")
    assert alert.kind == "officer_alert" and world.riyadh_case in alert.body


def test_sms_the_reporter_once_per_form(console, world, svc):
    officer = console("consular_officer")
    form = {"text": "We will call you at 3 pm today.", "nonce": "form-1"}
    officer.post(f"/console/cases/{world.riyadh_case}/sms", form)
    officer.post(f"/console/cases/{world.riyadh_case}/sms", form)  # a double click
    sent = [m for m in outbox(svc, REPORTER) if m.kind == "staff_message"]
    assert [m.body for m in sent] == [
        f"Kazi Salama, case {world.riyadh_case}: We will call you at 3 pm today."]
    assert sent[0].queue == "critical"
    assert [k for k, _ in timeline(svc, world.riyadh_case)].count("sms_out") == 1


def test_sms_the_reporter_must_fit_one_sms(console, world, svc):
    officer = console("consular_officer")
    response = officer.post(f"/console/cases/{world.riyadh_case}/sms",
                            {"text": "x" * 200, "nonce": "long"})
    assert response.status_code == 303
    assert "one SMS leaves room" in officer.get(response.location).get_data(as_text=True)
    assert [m for m in outbox(svc, REPORTER) if m.kind == "staff_message"] == []


# the API ------------------------------------------------------------------------------------


def key_for(svc, email: str) -> dict[str, str]:
    with svc.db.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        return {"Authorization": f"Bearer {issue_staff_key(session, user)}"}


def test_a_consular_officer_cannot_read_another_missions_case_by_api(client, world, svc,
                                                                   staff):
    ruh = key_for(svc, "ruh@mfa.go.ke")
    mine = client.get(f"/api/v1/cases/{world.riyadh_case}", headers=ruh)
    assert mine.status_code == 200 and mine.json["mission"] == "KE-RUH"
    other = client.get(f"/api/v1/cases/{world.doha_case}", headers=ruh)
    assert other.status_code == 404 and other.json["error"]["code"] == "not_found"
    listed = client.get("/api/v1/cases", headers=ruh).json["cases"]
    assert [c["ref"] for c in listed] == [world.riyadh_case]
    admin = key_for(svc, ACCOUNTS["nea_admin"][0])
    assert client.get(f"/api/v1/cases/{world.doha_case}", headers=admin).status_code == 200
    assert [e.target for e in audited(svc, "case.view")] == [
        f"case:{world.riyadh_case}", f"case:{world.doha_case}"]


@pytest.mark.parametrize("role", ["analyst", "nea_officer"])
def test_case_api_refuses_roles_without_cases(client, world, svc, staff, role):
    headers = key_for(svc, ACCOUNTS[role][0])
    response = client.get(f"/api/v1/cases/{world.riyadh_case}", headers=headers)
    assert response.status_code == 403


def test_case_api_needs_a_key(client, world):
    assert client.get(f"/api/v1/cases/{world.riyadh_case}").status_code == 401
    bad = {"Authorization": "Bearer kzs_" + "x" * 40}
    assert client.get(f"/api/v1/cases/{world.riyadh_case}", headers=bad).status_code == 401


def test_case_timeline_is_paginated(console, world, svc):
    from app.protection import timeline

    case = case_of(svc, world.riyadh_case)
    with svc.db.session() as session:
        for n in range(55):
            timeline.add(session, session.get(Case, case.id), "note", f"line {n}",
                             now=utcnow(), actor="system")
    admin = console("nea_admin")
    first = admin.get(f"/console/cases/{case.ref}").get_data(as_text=True)
    assert "Page 1 of 2" in first and "line 0<" in first and "line 54<" not in first
    second = admin.get(f"/console/cases/{case.ref}?page=2").get_data(as_text=True)
    assert "line 54<" in second
