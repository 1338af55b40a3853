"""Protection tests: short escalation clocks, officers at Riyadh, Jeddah and HQ."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.models import Case, CaseEvent, Escalation, Message
from app.protection import officers

SLA = "critical=2,high=4,normal=6"
"""Seconds per level: short clocks, driven by ``as_of`` rather than by sleeping."""

RUH_DUTY = ("+966500000001", "+966500000002")
RUH_SUPERVISOR = "+966500000003"
JED_DUTY = "+966500000004"
HQ_DUTY = "+254700000101"
HQ_SUPERVISOR = "+254700000102"
DOH_DUTY = "+97455000001"

_ids = itertools.count(1)


@pytest.fixture
def config(config: dict) -> dict:
    return {**config, "ESCALATION_SLA_SECONDS": SLA}


@pytest.fixture
def roster(svc) -> dict[str, int]:
    """Register officers: two duty + a supervisor at Riyadh, duty at Jeddah, HQ both roles."""
    people = [
        ("Amina Riyadh", RUH_DUTY[0], "SA", "duty"),
        ("Baraka Riyadh", RUH_DUTY[1], "SA", "duty"),
        ("Chebet Supervisor", RUH_SUPERVISOR, "SA", "supervisor"),
        ("Daudi Jeddah", JED_DUTY, "SA", "duty"),
        ("Esther Desk", HQ_DUTY, "KE", "duty"),
        ("Faith Head", HQ_SUPERVISOR, "KE", "supervisor"),
    ]
    ids = {}
    with svc.db.session() as session:
        for name, phone, country, role in people:
            done = officers.enrol(session, name=name, phone=phone, country=country, role=role)
            ids[phone] = done.officer.id
    # Jeddah shares Saudi Arabia with Riyadh (primary); move the Jeddah officer there.
    with svc.db.session() as session:
        from app.models import Officer

        session.get(Officer, ids[JED_DUTY]).mission_code = "KE-JED"
    return ids


def sms(client, text: str, sender: str, at_id: str | None = None) -> str:
    """Post one incoming SMS exactly as AT does; give its AT id."""
    at_id = at_id or f"ATXid_case{next(_ids)}"
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": at_id, "linkId": "", "networkCode": "",
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    return at_id


def only_case(svc) -> Case:
    with svc.db.Session() as session:
        [case] = session.scalars(select(Case)).all()
        return case


def all_cases(svc) -> list[Case]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def events(svc, case_id: int) -> list[str]:
    with svc.db.Session() as session:
        return list(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                    .order_by(CaseEvent.id)))


def escalations(svc, case_id: int) -> list[tuple[int, str, str, int]]:
    with svc.db.Session() as session:
        rows = session.scalars(select(Escalation).where(Escalation.case_id == case_id)
                               .order_by(Escalation.id))
        return [(r.level, r.mission_code, r.status, r.recipients) for r in rows]


def messages(svc, kind: str | None = None) -> list[Message]:
    with svc.db.Session() as session:
        query = select(Message).order_by(Message.id)
        if kind:
            query = query.where(Message.kind == kind)
        return list(session.scalars(query))


def received(at_api, number: str) -> list[str]:
    """The SMS bodies the local AT server accepted for ``number``, in order."""
    return [body for to, body, _ in at_api.sent if to == number]


def migrant(svc, phone: str = "+254712345678", country: str = "QA", lang: str = "en",
            status: str = "employed") -> dict[str, int]:
    """A registered person working abroad through an agency, for an employer."""
    from app.db import utcnow
    from app.models import Agency, Employer, Person, Placement

    with svc.db.session() as session:
        person = Person(phone=phone, full_name="Wanjiru Kamau", lang=lang, consent_version="v1",
                        consent_channel="ussd", consent_at=utcnow(), status="active")
        agency = Agency(name="Example Recruitment Ltd", name_key="example recruitment")
        employer = Employer(name="Al Noor Household", name_key="al noor household",
                            country=country)
        session.add_all([person, agency, employer])
        session.flush()
        placement = Placement(person_id=person.id, agency_id=agency.id, employer_id=employer.id,
                              phone=phone, country=country, status=status)
        session.add(placement)
        session.flush()
        return {"person": person.id, "placement": placement.id, "agency": agency.id,
                "employer": employer.id}
