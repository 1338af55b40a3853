"""A small, hand-built country of migrants for the report tests: every number is countable.

The reports are asked as of ``TO`` (2026-06-30). What each report should say is
worked out by hand in the tests, from the tables below:

Agencies: A1 valid; A2 suspended; A3 "valid" but expired 2026-01-31 (its name
starts with "=", to catch formula injection in exports); A4 valid and idle.

People P1-P11 (names and phones are there so tests can prove analysts never see
them) and placements::

    PL1a P1  A1 SA domestic_worker employed 2026-03-05 E1  (P1 has two placements:
    PL1b P1  A1 SA domestic_worker employed 2026-03-20 E1   one migrant, two placements)
    PL2  P2  A1 SA domestic_worker employed 2026-03-10 E1
    PL3  P3  A1 SA domestic_worker arrived  2026-03-15 E1
    PL4  P4  A1 SA domestic_worker departed 2026-04-02 E1
    PL5  P5  A1 SA driver          employed 2026-04-20
    PL6  P6  A1 SA driver          employed 2026-05-05
    PL7  P7  A2 QA domestic_worker employed 2026-05-10 E2
    PL8  P8  A2 QA construction    arrived  2026-06-20 E2
    PL9  P9  A3 SA driver          returned 2026-02-01, back 2026-06-15
    PL10 P10 A1 AE caregiver       departed 2026-07-05 (after TO)
    PL11 P11 A1 SA driver          applied (never left)
    PL12 --  A1 AE caregiver       departed 2026-04-01 (no registered person)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    Agency,
    AgencyComplaint,
    Case,
    CheckIn,
    Employer,
    JobListing,
    Licence,
    Person,
    Placement,
    PoliceAlert,
)

TO = date(2026, 6, 30)
"""The day the tests ask the reports about."""

LICENCES = {"A1": "NEA/PEA/2024/0001", "A2": "NEA/PEA/2024/0002",
            "A3": "NEA/PEA/2024/0003", "A4": "NEA/PEA/2024/0004"}

AGENCY_NAMES = {"A1": "Safari Recruiters Ltd", "A2": "Desert Star Agency",
                "A3": "=Coastline Jobs", "A4": "Quiet Agency"}

PEOPLE = {
    # key: (full name, phone, county, gender, occupation)
    "P1": ("Amina Wanjiru", "+254700000001", 47, "female", "domestic_worker"),
    "P2": ("Beatrice Achieng", "+254700000002", 47, "female", "domestic_worker"),
    "P3": ("Carol Njeri", "+254700000003", 47, "female", "domestic_worker"),
    "P4": ("Dorcas Mwende", "+254700000004", 22, "female", "domestic_worker"),
    "P5": ("Evans Otieno", "+254700000005", 1, "male", "driver"),
    "P6": ("Felix Kiprono", "+254700000006", 1, "male", "driver"),
    "P7": ("Grace Akinyi", "+254700000007", 47, "female", "domestic_worker"),
    "P8": ("Hassan Omar", "+254700000008", 3, "male", "construction_worker"),
    "P9": ("Isaac Mutua", "+254700000009", 1, "male", "driver"),
    "P10": ("Joyce Chebet", "+254700000010", 47, "female", "caregiver"),
    "P11": ("Kevin Maina", "+254700000011", 47, "male", "driver"),
}

PLACEMENTS = {
    # key: (person, agency, country, occupation, status, departed_on, ended_at, employer)
    "PL1a": ("P1", "A1", "SA", "domestic_worker", "employed", date(2026, 3, 5), None, "E1"),
    "PL1b": ("P1", "A1", "SA", "domestic_worker", "employed", date(2026, 3, 20), None, "E1"),
    "PL2": ("P2", "A1", "SA", "domestic_worker", "employed", date(2026, 3, 10), None, "E1"),
    "PL3": ("P3", "A1", "SA", "domestic_worker", "arrived", date(2026, 3, 15), None, "E1"),
    "PL4": ("P4", "A1", "SA", "domestic_worker", "departed", date(2026, 4, 2), None, "E1"),
    "PL5": ("P5", "A1", "SA", "driver", "employed", date(2026, 4, 20), None, None),
    "PL6": ("P6", "A1", "SA", "driver", "employed", date(2026, 5, 5), None, None),
    "PL7": ("P7", "A2", "QA", "domestic_worker", "employed", date(2026, 5, 10), None, "E2"),
    "PL8": ("P8", "A2", "QA", "construction_worker", "arrived", date(2026, 6, 20), None, "E2"),
    "PL9": ("P9", "A3", "SA", "driver", "returned", date(2026, 2, 1),
            datetime(2026, 6, 15, 10, 0, tzinfo=UTC), None),
    "PL10": ("P10", "A1", "AE", "caregiver", "departed", date(2026, 7, 5), None, None),
    "PL11": ("P11", "A1", "SA", "driver", "applied", None, None, None),
    "PL12": (None, "A1", "AE", "caregiver", "departed", date(2026, 4, 1), None, None),
}


def _at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


CASES = {
    # key: (country, mission, agency, employer, person, placement, severity, opened, ack, closed)
    "C1": ("SA", "KE-RUH", "A1", "E1", "P1", "PL1a", "critical", _at(2026, 4, 1, 10),
           _at(2026, 4, 1, 10, 10), None),  # 10 min: in time
    "C2": ("SA", "KE-RUH", "A1", "E1", "P2", "PL2", "high", _at(2026, 5, 1, 8),
           _at(2026, 5, 1, 11), None),  # 3 h: late
    "C3": ("QA", "KE-DOH", "A2", "E2", "P7", "PL7", "normal", _at(2026, 6, 10, 9),
           None, None),  # never answered: late
    "C4": ("SA", "KE-RUH", "A1", None, "P5", "PL5", "critical", _at(2026, 6, 20, 12),
           None, _at(2026, 6, 20, 12, 5)),  # closed in 5 min, no ACK: in time
    # 22:30 UTC on the 29th is 01:30 on the 30th in Kenya: a day-boundary case.
    "C5": ("SA", "KE-RUH", None, None, "P3", None, "normal", _at(2026, 6, 29, 22, 30),
           _at(2026, 6, 30, 6), None),  # 7.5 h: in time
    "C7": (None, "HQ", None, None, None, None, "normal", _at(2026, 3, 3, 9),
           _at(2026, 3, 3, 10), None),  # country unknown: in time
}
"""C6 (a case still inside its clock) is opened an hour before the test runs."""

CHECKINS = [
    # (placement, sequence, status, sent_at)
    ("PL1a", 1, "answered", _at(2026, 4, 10, 9)),
    ("PL1a", 2, "answered", _at(2026, 5, 10, 9)),
    ("PL1a", 3, "missed", _at(2026, 6, 10, 9)),
    ("PL2", 1, "answered", _at(2026, 4, 15, 9)),
    ("PL2", 2, "sent", _at(2026, 6, 25, 9)),
    ("PL3", 1, "due", None),
    ("PL7", 1, "answered", _at(2026, 5, 20, 9)),
    ("PL7", 2, "missed", _at(2026, 6, 20, 9)),
    ("PL12", 1, "missed", _at(2026, 4, 20, 9)),
]

LISTINGS = [
    # (code, agency, destination, occupation, status, rules, submitted_at)
    ("KLA2B3", "A1", "SA", "domestic_worker", "rejected", ["worker_fee", "salary_norm"],
     _at(2026, 3, 1, 9)),
    ("KLA2B4", "A2", "QA", "construction_worker", "needs_review", ["worker_fee"],
     _at(2026, 4, 1, 9)),
    ("KLA2B5", "A1", "SA", "driver", "approved", [], _at(2026, 4, 2, 9)),
    ("KLA2B6", "A2", "SA", "domestic_worker", "rejected",
     ["tourist_visa", "worker_fee", "worker_fee"], _at(2026, 5, 1, 9)),
    ("KLA2B7", "A3", "AE", "caregiver", "rejected", ["contract_language"],
     _at(2026, 7, 10, 9)),
]

COMPLAINTS = [("A1", _at(2026, 4, 5, 9)), ("A2", _at(2026, 5, 5, 9)),
              ("A2", _at(2026, 6, 5, 9)), ("A3", _at(2026, 8, 1, 9))]

POLICE_ALERTS = [("A2", _at(2026, 6, 1, 9))]


@dataclass
class Dataset:
    """The ids of what was built, by the keys above."""

    agencies: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    placements: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    employers: dict[str, int] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        """Give what must never reach an analyst: names, phones, registration numbers."""
        found = [p[0] for p in PEOPLE.values()] + [p[1] for p in PEOPLE.values()]
        found += [f"KS{pid:08d}" for pid in self.people.values()]
        return found + ["+254700000012", "Case subject"]


def build(session: Session) -> Dataset:
    """Store the dataset; the caller commits."""
    built = Dataset()
    for key, licence_no in LICENCES.items():
        agency = Agency(name=AGENCY_NAMES[key], name_key=AGENCY_NAMES[key].lower())
        session.add(agency)
        session.flush()
        status = {"A2": "suspended"}.get(key, "valid")
        expires = {"A3": date(2026, 1, 31), "A2": date(2027, 6, 30)}.get(key, date(2027, 12, 31))
        session.add(Licence(agency_id=agency.id, licence_no=licence_no, register_status=status,
                            status=status, expires_on=expires))
        built.agencies[key] = agency.id
    for key, (name, country) in {"E1": ("Al Noor Household Services", "SA"),
                                 "E2": ("Doha Build Co", "QA")}.items():
        employer = Employer(name=name, name_key=name.lower().replace(" ", ""), country=country)
        session.add(employer)
        session.flush()
        built.employers[key] = employer.id
    for key, (name, phone, county, gender, occupation) in PEOPLE.items():
        person = Person(full_name=name, phone=phone, county_code=county, gender=gender,
                        occupation=occupation, birth_year=1995, consent_version="v1",
                        consent_channel="ussd", consent_at=_at(2026, 1, 2))
        session.add(person)
        session.flush()
        person.reg_no = f"KS{person.id:08d}"
        built.people[key] = person.id
    for key, (person, agency, country, occupation, status, departed, ended, employer) \
            in PLACEMENTS.items():
        placement = Placement(
            person_id=built.people.get(person), agency_id=built.agencies[agency],
            employer_id=built.employers.get(employer), country=country, occupation=occupation,
            status=status, departed_on=departed, ended_at=ended,
            phone=PEOPLE[person][1] if person else "+254700000012",
            created_at=_at(2026, 1, 15))
        session.add(placement)
        session.flush()
        built.placements[key] = placement.id
    cases: dict[str, tuple[Any, ...]] = dict(CASES)
    cases["C6"] = ("QA", "KE-DOH", "A2", "E2", "P8", "PL8", "normal",
                   utcnow() - timedelta(hours=1), None, None)  # waiting: inside its clock
    for key, (country, mission, agency, employer, person, placement, severity, opened, ack,
              closed) in cases.items():
        case = Case(ref=f"KS-{key}", reporter_phone=PEOPLE[person][1] if person
                    else "+254799999999", subject_name="Case subject",
                    person_id=built.people.get(person),
                    placement_id=built.placements.get(placement),
                    agency_id=built.agencies.get(agency), employer_id=built.employers.get(employer),
                    country=country, mission_code=mission, category="unpaid_wages",
                    severity=severity, channel="sms", first_text="Help me please",
                    status="closed" if closed else ("acknowledged" if ack else "open"),
                    opened_at=opened, acknowledged_at=ack, closed_at=closed)
        session.add(case)
        session.flush()
        built.cases[key] = case.id
    for placement, sequence, status, sent in CHECKINS:
        session.add(CheckIn(placement_id=built.placements[placement], sequence=sequence,
                            phone=PEOPLE[PLACEMENTS[placement][0]][1]
                            if PLACEMENTS[placement][0] else "+254700000012",
                            due_at=sent or _at(2026, 7, 1), status=status, sent_at=sent,
                            answered_at=sent + timedelta(hours=2) if status == "answered"
                            else None))
    for code, agency, destination, occupation, status, rules, submitted in LISTINGS:
        session.add(JobListing(
            code=code, agency_id=built.agencies[agency], title="Job", occupation=occupation,
            destination=destination, status=status, submitted_at=submitted,
            flags=[{"rule": r, "severity": "reject", "message": r} for r in rules],
            payload={"title": "Job"}))
    for agency, at in COMPLAINTS:
        session.add(AgencyComplaint(agency_id=built.agencies[agency], kind="fee", channel="sms",
                                    phone="+254700000001", created_at=at))
    for agency, at in POLICE_ALERTS:
        session.add(PoliceAlert(agency_id=built.agencies[agency], reason="suspected trafficking",
                                raised_at=at, licence_no=LICENCES[agency]))
    session.flush()
    return built
