"""Console fixtures: one account per role, a signed-in client per role, and a small world
of cases, people, agencies and listings stored through the real code paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.listings.service import name_key
from app.models import (
    Agency,
    AgencyComplaint,
    Case,
    CheckIn,
    Employer,
    JobListing,
    Licence,
    LicenceChange,
    Movement,
    PartnerEvent,
    Permit,
    Person,
    Placement,
    PlacementTransition,
    PoliceAlert,
)
from app.models.person import reg_no_for
from app.partners.registry import add_partner
from app.protection import officers
from app.protection.cases import open_case
from app.staff.accounts import create_user

PASSWORD = "correct horse battery staple"
"""Every test account's password."""

ACCOUNTS = {
    "nea_admin": ("admin@nea.go.ke", None),
    "nea_officer": ("officer@nea.go.ke", None),
    "consular_officer": ("ruh@mfa.go.ke", "SA"),
    "analyst": ("analyst@nea.go.ke", None),
}
"""One account per role; the consular officer is at Riyadh (KE-RUH)."""

DOHA_OFFICER = ("doh@mfa.go.ke", "QA")
"""A second consular officer, at Doha, who must not see Riyadh's cases."""

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console:
    """A staff member's browser without the browser: signs in and posts forms with CSRF."""

    def __init__(self, client) -> None:
        self.client = client

    def csrf(self) -> str:
        """Give the session's CSRF token (reading a page makes one)."""
        with self.client.session_transaction() as session:
            token = session.get("csrf")
        if token is None:
            page = self.client.get("/console/login").get_data(as_text=True)
            token = _CSRF.search(page).group(1)
        return token

    def login(self, email: str, password: str = PASSWORD):
        token = self.csrf()
        return self.client.post("/console/login", data={
            "csrf_token": token, "email": email, "password": password})

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf(), **(data or {})},
                                **kwargs)

    def logout(self):
        return self.post("/console/logout")


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """Hash test passwords with argon2id at its cheapest: the real cost is for attackers."""
    from argon2 import PasswordHasher

    from app.staff import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                        parallelism=1))


@pytest.fixture
def staff(svc) -> dict[str, int]:
    """Create one account per role (and the Doha officer); give their ids by role."""
    ids = {}
    with svc.db.session() as session:
        for role, (email, country) in ACCOUNTS.items():
            ids[role] = create_user(session, email, role, country, PASSWORD).user.id
        ids["doha"] = create_user(session, DOHA_OFFICER[0], "consular_officer",
                                  DOHA_OFFICER[1], PASSWORD).user.id
    return ids


@pytest.fixture
def console(app, staff):
    """Give ``console(role)``: a fresh client signed in with that role ("doha" too)."""

    def sign_in(role: str | None) -> Console:
        helper = Console(app.test_client())
        if role is not None:
            email = DOHA_OFFICER[0] if role == "doha" else ACCOUNTS[role][0]
            response = helper.login(email)
            assert response.status_code == 302, response.get_data(as_text=True)
        return helper

    return sign_in


@dataclass
class World:
    """What the ``world`` fixture stored."""

    person_id: int
    doha_person_id: int
    placement_id: int
    agency_id: int
    riyadh_case: str
    doha_case: str
    listing_code: str
    event_id: int
    officer_id: int


REPORTER = "+966512345678"
"""The Riyadh case's reporter, a registered person working in Saudi Arabia."""

DOHA_REPORTER = "+97450123456"


@pytest.fixture
def world(svc) -> World:
    """Store an agency, two people abroad (Riyadh and Doha), their cases and records."""
    now = utcnow()
    with svc.db.session() as db:
        officer = officers.enrol(db, name="Amina Riyadh", phone="+966500000001",
                                 country="SA").officer
        agency = Agency(name="Example Recruitment Ltd", name_key=name_key("Example Recruitment"),
                        phone="+254711000001", complaints_count=1, placements_count=2,
                        listings_total=2, listings_rejected=0, police_alerts=1)
        db.add(agency)
        db.flush()
        licence = Licence(agency_id=agency.id, licence_no="NEA/PEA/2024/0001",
                          register_status="valid", status="valid", expires_on=date(2099, 12, 31))
        db.add(licence)
        db.flush()
        db.add(LicenceChange(licence_id=licence.id, old_status=None, new_status="valid",
                             new_expires_on=date(2099, 12, 31), source="import:test.csv",
                             learned_at=now - timedelta(days=400)))
        db.add(AgencyComplaint(agency_id=agency.id, kind="fees", channel="sms",
                               text="asked for a visa deposit"))
        db.add(PoliceAlert(agency_id=agency.id, reason="Visa fraud reported in Nairobi",
                           raised_at=now - timedelta(days=3)))
        employer = Employer(name="Al Noor Household Services", name_key="alnoorhousehold",
                            country="SA", city="Riyadh")
        db.add(employer)
        db.flush()
        people = []
        for phone, national_id, name, country in (
                (REPORTER, "31415926", "Amina Wanjiku", "SA"),
                (DOHA_REPORTER, "27182818", "Halima Otieno", "QA")):
            person = Person(phone=phone, full_name=name,
                            national_id_enc=svc.cipher.encrypt(national_id),
                            national_id_bidx=svc.cipher.blind_index("national_id", national_id),
                            lang="en", consent_version="v1", consent_channel="ussd",
                            consent_at=now - timedelta(days=200), status="active",
                            occupation="domestic_worker", gender="female", county_code=22,
                            created_at=now - timedelta(days=200))
            db.add(person)
            db.flush()
            person.reg_no = reg_no_for(person.id)
            placement = Placement(person_id=person.id, agency_id=agency.id,
                                  employer_id=employer.id, phone=phone, country=country,
                                  occupation="domestic_worker", visa_type="work",
                                  status="employed", departed_on=date.today() - timedelta(90),
                                  arrived_at=now - timedelta(days=89))
            db.add(placement)
            db.flush()
            db.add(PlacementTransition(placement_id=placement.id, from_status="contracted",
                                       to_status="departed", source="immigration",
                                       occurred_at=now - timedelta(days=90)))
            db.add(Movement(person_id=person.id, placement_id=placement.id, kind="departure",
                            port="JKIA", country=country, occurred_at=now - timedelta(days=90)))
            db.add(Permit(person_id=person.id, placement_id=placement.id, country=country,
                          permit_no=f"WP-{person.id}", type="work",
                          issued_on=date.today() - timedelta(80),
                          expires_on=date.today() + timedelta(300)))
            db.add(CheckIn(placement_id=placement.id, phone=phone, sequence=1,
                           due_at=now - timedelta(days=30), status="answered",
                           sent_at=now - timedelta(days=30), answered_at=now - timedelta(29),
                           answer="ok"))
            people.append((person, placement))
        riyadh = open_case(db, svc, reporter_phone=REPORTER, channel="sms",
                           text="My employer took my passport and has not paid me",
                           source_ref="sms:test-riyadh")
        doha = open_case(db, svc, reporter_phone=DOHA_REPORTER, channel="sms",
                         text="I want to go home", source_ref="sms:test-doha")
        listing = JobListing(code="RV1234", agency_id=agency.id, employer_id=employer.id,
                             title="Security guard", occupation="security_guard",
                             destination="SA", status="needs_review",
                             flags=[{"rule": "salary_norm", "severity": "review",
                                     "message": "The salary is far above the norm."}],
                             payload={}, visa_type="work")
        db.add(listing)
        partner, _secret = add_partner(db, svc.cipher, "Immigration test", "immigration")
        event = PartnerEvent(partner_id=partner.id, event_id="evt-unmatched-1",
                             type="departure", occurred_at=now - timedelta(days=1),
                             body_enc=svc.cipher.encrypt("{}"),
                             status="unmatched", detail="no person with that national ID")
        db.add(event)
        db.flush()
        return World(person_id=people[0][0].id, doha_person_id=people[1][0].id,
                     placement_id=people[0][1].id, agency_id=agency.id,
                     riyadh_case=riyadh.ref, doha_case=doha.ref, listing_code=listing.code,
                     event_id=event.id, officer_id=officer.id)


def case_of(svc, ref: str) -> Case:
    with svc.db.Session() as session:
        return session.scalar(select(Case).where(Case.ref == ref))
