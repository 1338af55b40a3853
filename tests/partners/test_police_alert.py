"""A police alert: listings held, placements flagged, the agency counted, people warned once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Agency, Contact, JobListing, Message, Placement
from app.models.partner import PoliceAlert
from tests.partners.helpers import (
    PartnerClient,
    add_agency,
    add_check,
    add_listing,
    add_person,
    declare,
    error,
    event,
    new_partner,
)

LICENCE = "NEA/PEA/2024/0001"


@pytest.fixture
def police(client, svc) -> PartnerClient:
    return PartnerClient(client, *new_partner(svc, "police"))


def alert(**data) -> dict:
    return event("police.alert", data={"reason": "Recruits held in Athi River", **data})


def warnings(svc) -> dict[str, str]:
    with svc.db.Session() as session:
        return {m.to_phone: m.body for m in session.scalars(
            select(Message).where(Message.kind == "police_warning"))}


def recruit(svc, agency_id: int, national_id: str, phone: str, status: str,
            lang: str = "en") -> int:
    person_id = add_person(svc, national_id=national_id, phone=phone, lang=lang)
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone=phone, country="SA", status=status,
                              agency_id=agency_id, visa_type="work")
        session.add(placement)
        session.flush()
        return placement.id


def test_a_police_alert_on_an_agency_cascades(svc, police, work):
    agency_id = add_agency(svc, licence_no=LICENCE)
    other_id = add_agency(svc, licence_no="NEA/PEA/2024/0002", name="Other Ltd",
                          phone="+254711000002")
    open_listing = add_listing(svc, agency_id, "approved")
    pending = add_listing(svc, agency_id, "pending")
    rejected = add_listing(svc, agency_id, "rejected")
    untouched = add_listing(svc, other_id, "approved")
    abroad = recruit(svc, agency_id, "11111111", "+254711111111", "employed")
    waiting = recruit(svc, agency_id, "22222222", "+254722222222", "contracted", lang="sw")
    back = recruit(svc, agency_id, "33333333", "+254733333333", "returned")
    elsewhere = recruit(svc, other_id, "44444444", "+254744444444", "employed")
    add_check(svc, agency_id, "+254755555555")
    add_check(svc, agency_id, "+254755555555", days_ago=1)  # two checks, one warning
    add_check(svc, agency_id, "+254766666666", days_ago=200)  # too long ago
    add_check(svc, other_id, "+254777777777")
    with svc.db.session() as session:
        session.add(Contact(phone="+254755555555", lang="sw"))

    body = alert(licence_no="nea/pea/2024/1")
    response = police.post(body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "applied"

    with svc.db.Session() as session:
        statuses = {lid: session.get(JobListing, lid).status
                    for lid in (open_listing, pending, rejected, untouched)}
        assert statuses == {open_listing: "held", pending: "held", rejected: "rejected",
                            untouched: "approved"}
        assert session.get(JobListing, open_listing).held_reason.startswith("police alert")
        assert session.get(Agency, agency_id).police_alerts == 1
        assert session.get(Agency, other_id).police_alerts == 0
        flags = {pid: session.get(Placement, pid).irregular_reasons
                 for pid in (abroad, waiting, back, elsewhere)}
        assert "police_alert" in flags[abroad] and flags[waiting] == "police_alert"
        assert flags[back] is None and "police_alert" not in (flags[elsewhere] or "")
        stored = session.scalars(select(PoliceAlert)).one()
        assert stored.licence_no == LICENCE and stored.agency_id == agency_id

    assert warnings(svc) == {}  # the warnings are a job, after commit
    work()
    sent = warnings(svc)
    assert set(sent) == {"+254711111111", "+254722222222", "+254755555555"}
    assert sent["+254711111111"].startswith("Kazi Salama WARNING: police alert on Example")
    assert sent["+254722222222"].startswith("Kazi Salama ONYO")  # the person's language
    assert sent["+254755555555"].startswith("Kazi Salama ONYO")  # the contact's language
    assert all(len(text) <= 160 and LICENCE in text for text in sent.values())

    # The same event again: 200, nothing new anywhere.
    again = police.post(body)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    work()
    with svc.db.Session() as session:
        assert session.get(Agency, agency_id).police_alerts == 1
        assert session.scalar(select(func.count()).select_from(PoliceAlert)) == 1
        assert session.scalar(select(func.count()).select_from(Message)
                              .where(Message.kind == "police_warning")) == 3


def test_a_second_alert_on_the_agency_counts_but_does_not_warn_again(svc, police, work):
    agency_id = add_agency(svc, licence_no=LICENCE)
    recruit(svc, agency_id, "11111111", "+254711111111", "employed")
    police.post(alert(licence_no=LICENCE))
    work()
    police.post(alert(licence_no=LICENCE, reason="More reports"))
    work()
    with svc.db.Session() as session:
        assert session.get(Agency, agency_id).police_alerts == 2
        assert session.scalar(select(func.count()).select_from(Message)
                              .where(Message.kind == "police_warning")) == 1


def test_a_rerun_of_the_warning_job_sends_nothing_twice(svc, police, work):
    from app.partners.police import warn

    agency_id = add_agency(svc, licence_no=LICENCE)
    recruit(svc, agency_id, "11111111", "+254711111111", "employed")
    police.post(alert(licence_no=LICENCE))
    work()
    with svc.db.session() as session:
        alert_id = session.scalars(select(PoliceAlert.id)).one()
        assert warn(svc, session, alert_id) == 1
    assert len(warnings(svc)) == 1


def test_an_alert_on_the_agencys_phone_finds_the_agency(svc, police, work):
    agency_id = add_agency(svc, licence_no=LICENCE, phone="+254711000001")
    add_check(svc, agency_id, "+254755555555")
    response = police.post(alert(phone="0711 000 001"))
    assert response.get_json()["status"] == "applied"
    work()
    assert set(warnings(svc)) == {"+254755555555"}  # never the alerted number itself
    with svc.db.Session() as session:
        assert session.get(Agency, agency_id).police_alerts == 1


def test_an_alert_on_an_agents_phone_warns_who_named_that_agent(svc, police, work):
    agency_id = add_agency(svc, licence_no=LICENCE)
    placement_id = recruit(svc, agency_id, "11111111", "+254711111111", "visa_issued")
    with svc.db.session() as session:
        declare(session, session.get(Placement, placement_id), agent_phone="+254799000111")
        declare(session, None, agent_phone="+254799000111", phone="+254788888888")
    response = police.post(alert(phone="+254799000111"))
    assert response.get_json()["status"] == "applied"
    work()
    sent = warnings(svc)
    assert set(sent) == {"+254711111111", "+254788888888"}
    assert "+254799000111" in sent["+254788888888"]
    with svc.db.Session() as session:
        assert session.get(Placement, placement_id).irregular_reasons == "police_alert"
        assert session.get(Agency, agency_id).police_alerts == 0  # not the agency's number


def test_an_alert_on_nobody_we_know_is_kept_for_review(svc, police, work):
    response = police.post(alert(licence_no="NEA/PEA/2024/0999", phone="+254799999999"))
    assert response.status_code == 202 and response.get_json()["status"] == "unmatched"
    assert work() == 0
    with svc.db.Session() as session:
        assert session.scalar(select(func.count()).select_from(PoliceAlert)) == 0


@pytest.mark.parametrize("data,field", [
    ({"reason": "x"}, "data"),
    ({"licence_no": "NEA/PEA/2024/0001"}, "data.reason"),
    ({"licence_no": "ABC", "reason": "x"}, "data.licence_no"),
    ({"phone": "12", "reason": "x"}, "data.phone"),
])
def test_a_bad_alert_gets_422(svc, police, data, field):
    response = police.post(event("police.alert", data=data))
    assert response.status_code == 422 and error(response)["field"] == field


def test_an_alert_whose_warning_job_was_lost_is_warned_later(svc, police, work):
    from datetime import timedelta

    from app.db import utcnow
    from workers.irregular import rewarn_police_alerts

    agency_id = add_agency(svc, licence_no=LICENCE)
    recruit(svc, agency_id, "11111111", "+254711111111", "employed")
    police.post(alert(licence_no=LICENCE))
    svc.redis.flushdb()  # Redis lost the queued job
    assert work() == 0 and warnings(svc) == {}
    assert rewarn_police_alerts() == 0  # too recent: its job may still be on its way
    with svc.db.session() as session:
        session.scalars(select(PoliceAlert)).one().created_at = utcnow() - timedelta(hours=1)
    assert rewarn_police_alerts() == 1
    work()
    assert set(warnings(svc)) == {"+254711111111"}
    assert rewarn_police_alerts() == 0  # warned now
