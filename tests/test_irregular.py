"""Irregular detection: every rule alone, the set-based SQL against the Python rules."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from app.db import utcnow
from app.listings.service import today
from app.models import Licence, Permit, Placement, PoliceAlert
from app.placements.irregular import RULES, explain, recompute, recompute_person, split
from tests.partners.helpers import (
    PartnerClient,
    add_agency,
    add_listing,
    add_person,
    days_ago,
    declare,
    departure,
    new_partner,
    permit,
)

TODAY = today()
DEPARTED = TODAY - timedelta(days=60)


def place(svc, person_id: int | None, *, status: str = "employed", country: str = "SA",
          agency_id: int | None = None, listing_id: int | None = None,
          visa_type: str | None = "work", departed_on: date | None = DEPARTED,
          agent_phone: str | None = None) -> int:
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone="+254712345678", country=country,
                              status=status, agency_id=agency_id, listing_id=listing_id,
                              visa_type=visa_type, departed_on=departed_on)
        session.add(placement)
        session.flush()
        if agent_phone:
            declare(session, placement, agent_phone=agent_phone)
        return placement.id


def give_permit(svc, person_id: int, *, permit_no: str = "IQ-1", type_: str = "work",
                country: str = "SA", issued_on: date | None = DEPARTED + timedelta(days=5),
                expires_on: date | None = TODAY + timedelta(days=300),
                revoked: bool = False) -> None:
    with svc.db.session() as session:
        session.add(Permit(person_id=person_id, country=country, permit_no=permit_no, type=type_,
                           issued_on=issued_on, expires_on=expires_on,
                           revoked_at=utcnow() if revoked else None))


def reasons(svc, placement_id: int, on: date = TODAY) -> list[str]:
    with svc.db.session() as session:
        recompute(session, on)
    with svc.db.Session() as session:
        placement = session.get(Placement, placement_id)
        found = split(placement.irregular_reasons)
        assert placement.irregular == bool(found)
        assert explain(session, placement, on) == found  # the Python rules agree
        return found


@pytest.fixture
def regular(svc):
    """A person abroad by the book: approved listing, valid agency, work permit in force."""
    person_id = add_person(svc)
    agency_id = add_agency(svc, history=[(utcnow() - timedelta(days=400), None, "valid")])
    listing_id = add_listing(svc, agency_id)
    placement_id = place(svc, person_id, agency_id=agency_id, listing_id=listing_id)
    give_permit(svc, person_id)
    return {"person": person_id, "agency": agency_id, "listing": listing_id,
            "placement": placement_id}


def test_a_person_abroad_by_the_book_is_regular(svc, regular):
    assert reasons(svc, regular["placement"]) == []


def test_no_work_permit(svc, regular):
    with svc.db.session() as session:
        session.execute(Permit.__table__.delete())
    assert reasons(svc, regular["placement"]) == ["no_work_permit"]


def test_a_revoked_permit_is_no_work_permit(svc, regular):
    with svc.db.session() as session:
        session.scalars(select(Permit)).one().revoked_at = utcnow()
    assert reasons(svc, regular["placement"]) == ["no_work_permit"]


def test_a_work_permit_for_another_country_does_not_count(svc, regular):
    with svc.db.session() as session:
        session.scalars(select(Permit)).one().country = "QA"
    assert reasons(svc, regular["placement"]) == ["no_work_permit"]


def test_a_permit_not_yet_in_force_is_no_work_permit(svc, regular):
    with svc.db.session() as session:
        session.scalars(select(Permit)).one().issued_on = TODAY + timedelta(days=3)
    assert reasons(svc, regular["placement"]) == ["no_work_permit"]


def test_permit_expired(svc, regular):
    with svc.db.session() as session:
        session.scalars(select(Permit)).one().expires_on = TODAY - timedelta(days=1)
    assert reasons(svc, regular["placement"]) == ["permit_expired"]
    # The day it expires it is still in force.
    assert reasons(svc, regular["placement"], on=TODAY - timedelta(days=1)) == []


def test_a_visit_visa_as_the_latest_papers(svc, regular):
    give_permit(svc, regular["person"], permit_no="V-1", type_="visit",
                issued_on=TODAY - timedelta(days=2))
    assert reasons(svc, regular["placement"]) == ["visit_visa"]


def test_a_tourist_visa_on_the_placement_with_no_permit(svc, regular):
    with svc.db.session() as session:
        session.execute(Permit.__table__.delete())
        session.get(Placement, regular["placement"]).visa_type = "tourist"
    assert reasons(svc, regular["placement"]) == ["no_work_permit", "visit_visa"]


def test_a_work_permit_after_a_visit_visa_regularises(svc, regular):
    with svc.db.session() as session:
        session.get(Placement, regular["placement"]).visa_type = "visit"
    assert reasons(svc, regular["placement"]) == []  # the work permit is the latest papers


@pytest.mark.parametrize("listing_status,flagged", [
    (None, True), ("pending", True), ("rejected", True), ("needs_review", True),
    ("approved", False),
])
def test_no_approved_placement(svc, regular, listing_status, flagged):
    with svc.db.session() as session:
        placement = session.get(Placement, regular["placement"])
        if listing_status is None:
            placement.listing_id = None
        else:
            from app.models import JobListing

            session.get(JobListing, regular["listing"]).status = listing_status
    assert reasons(svc, regular["placement"]) == (["no_approved_placement"] if flagged else [])


def test_a_listing_held_after_approval_still_counts_as_approved(svc, regular):
    from app.listings.service import hold_open_listings

    with svc.db.session() as session:
        hold_open_listings(session, regular["agency"], "licence suspended")
    assert reasons(svc, regular["placement"]) == []


def _history(svc, agency_id: int, changes, expires_on: date | None = date(2099, 12, 31)):
    from app.models import LicenceChange

    with svc.db.session() as session:
        licence = session.scalar(select(Licence).where(Licence.agency_id == agency_id))
        session.execute(LicenceChange.__table__.delete())
        for learned_on, old, new in changes:
            session.add(LicenceChange(licence_id=licence.id, old_status=old, new_status=new,
                                      new_expires_on=expires_on, source="test",
                                      learned_at=_at(learned_on)))
        licence.status = licence.register_status = changes[-1][2]


def _at(day: date):
    from datetime import UTC, datetime, time

    return datetime.combine(day, time(9), UTC)


def test_an_agency_suspended_at_departure_and_valid_again_now(svc, regular):
    _history(svc, regular["agency"], [
        (DEPARTED - timedelta(days=300), None, "valid"),
        (DEPARTED - timedelta(days=10), "valid", "suspended"),
        (DEPARTED + timedelta(days=10), "suspended", "valid"),
    ])
    assert reasons(svc, regular["placement"]) == ["agency_not_valid"]


def test_an_agency_suspended_on_the_day_of_departure(svc, regular):
    _history(svc, regular["agency"], [(DEPARTED - timedelta(days=300), None, "valid"),
                                      (DEPARTED, "valid", "suspended")])
    assert reasons(svc, regular["placement"]) == ["agency_not_valid"]


def test_an_agency_valid_at_departure_and_revoked_since(svc, regular):
    _history(svc, regular["agency"], [(DEPARTED - timedelta(days=300), None, "valid"),
                                      (DEPARTED + timedelta(days=1), "valid", "revoked")])
    assert reasons(svc, regular["placement"]) == []


def test_an_agency_whose_licence_had_passed_its_expiry_date_at_departure(svc, regular):
    _history(svc, regular["agency"], [(DEPARTED - timedelta(days=300), None, "valid")],
             expires_on=DEPARTED - timedelta(days=1))
    assert reasons(svc, regular["placement"]) == ["agency_not_valid"]


def test_an_agency_first_learned_of_after_departure_uses_that_first_status(svc, regular):
    _history(svc, regular["agency"], [(DEPARTED + timedelta(days=5), None, "suspended"),
                                      (DEPARTED + timedelta(days=9), "suspended", "valid")])
    assert reasons(svc, regular["placement"]) == ["agency_not_valid"]


def test_an_agency_without_history_uses_its_licence_now(svc):
    person_id = add_person(svc)
    agency_id = add_agency(svc, status="revoked")
    listing_id = add_listing(svc, agency_id)
    placement_id = place(svc, person_id, agency_id=agency_id, listing_id=listing_id)
    give_permit(svc, person_id)
    assert reasons(svc, placement_id) == ["agency_not_valid"]


def test_an_agency_without_a_licence_is_not_valid(svc, regular):
    with svc.db.session() as session:
        from app.models import LicenceChange

        session.execute(LicenceChange.__table__.delete())
        session.execute(Licence.__table__.delete())
    assert reasons(svc, regular["placement"]) == ["agency_not_valid"]


def test_the_arrival_date_stands_in_for_an_unknown_departure(svc, regular):
    _history(svc, regular["agency"], [(DEPARTED - timedelta(days=300), None, "valid"),
                                      (DEPARTED + timedelta(days=1), "valid", "suspended")])
    with svc.db.session() as session:
        placement = session.get(Placement, regular["placement"])
        placement.departed_on = None
        placement.arrived_at = _at(DEPARTED + timedelta(days=2))
    assert reasons(svc, regular["placement"]) == ["agency_not_valid"]


def test_a_police_alert_flags_the_agencys_placements_abroad_and_at_home(svc, regular):
    at_home = place(svc, add_person(svc, national_id="33333333", phone="+254733333333"),
                    status="contracted", agency_id=regular["agency"],
                    listing_id=regular["listing"], departed_on=None)
    with svc.db.session() as session:
        session.add(PoliceAlert(agency_id=regular["agency"], reason="trafficking",
                                raised_at=utcnow()))
    assert reasons(svc, regular["placement"]) == ["police_alert"]
    assert reasons(svc, at_home) == ["police_alert"]


def test_a_police_alert_on_the_declared_agent_phone(svc, regular):
    with svc.db.session() as session:
        declare(session, session.get(Placement, regular["placement"]),
                agent_phone="+254799000111")
        session.add(PoliceAlert(phone="+254799000111", reason="x", raised_at=utcnow()))
    assert reasons(svc, regular["placement"]) == ["police_alert"]


def test_people_at_home_or_back_home_carry_no_reasons(svc):
    person_id = add_person(svc)
    waiting = place(svc, person_id, status="visa_issued", departed_on=None)
    back = place(svc, person_id, status="returned")
    with svc.db.session() as session:
        session.get(Placement, back).irregular = True
        session.get(Placement, back).irregular_reasons = "no_work_permit"
    assert reasons(svc, waiting) == []
    assert reasons(svc, back) == []


def test_reasons_are_written_in_rule_order(svc):
    person_id = add_person(svc)
    agency_id = add_agency(svc, status="suspended")
    placement_id = place(svc, person_id, agency_id=agency_id, visa_type="visit")
    with svc.db.session() as session:
        session.add(PoliceAlert(agency_id=agency_id, reason="x", raised_at=utcnow()))
    assert reasons(svc, placement_id) == ["no_work_permit", "visit_visa",
                                          "no_approved_placement", "agency_not_valid",
                                          "police_alert"]


# ------------------------------------------------------------ set-based recompute


def _random_world(svc, rng: random.Random, people: int = 40) -> list[int]:
    agencies = [
        add_agency(svc, licence_no=f"NEA/PEA/2024/{n:04d}", status=status, phone=None,
                   history=hist)
        for n, (status, hist) in enumerate([
            ("valid", [(_at(DEPARTED - timedelta(days=400)), None, "valid")]),
            ("valid", [(_at(DEPARTED - timedelta(days=400)), None, "valid"),
                       (_at(DEPARTED - timedelta(days=20)), "valid", "suspended"),
                       (_at(DEPARTED + timedelta(days=20)), "suspended", "valid")]),
            ("revoked", []),
            ("expired", [(_at(DEPARTED + timedelta(days=30)), None, "expired")]),
        ], start=1)
    ]
    listings = [add_listing(svc, a, status) for a in agencies
                for status in ("approved", "pending", "rejected")]
    with svc.db.session() as session:
        session.add(PoliceAlert(agency_id=agencies[2], reason="x", raised_at=utcnow()))
    ids = []
    statuses = ["applied", "contracted", "departed", "arrived", "employed", "employed",
                "ended", "returned"]
    for n in range(people):
        person_id = add_person(svc, national_id=f"{40000000 + n}", phone=f"+2547{n:08d}")
        for _ in range(rng.randint(1, 2)):
            departed = DEPARTED + timedelta(days=rng.randint(-90, 90))
            ids.append(place(svc, person_id, status=rng.choice(statuses),
                             country=rng.choice(["SA", "QA"]),
                             agency_id=rng.choice([None, *agencies]),
                             listing_id=rng.choice([None, *listings]),
                             visa_type=rng.choice([None, "work", "visit", "tourist"]),
                             departed_on=rng.choice([None, departed, departed]),
                             agent_phone=rng.choice([None, "+254799000111"])))
        for k in range(rng.randint(0, 3)):
            give_permit(svc, person_id, permit_no=f"P{n}-{k}",
                        type_=rng.choice(["work", "work", "visit", "tourist", "student"]),
                        country=rng.choice(["SA", "QA"]),
                        issued_on=rng.choice([None, DEPARTED + timedelta(days=rng.randint(
                            -30, 60))]),
                        expires_on=rng.choice([None, TODAY + timedelta(days=rng.randint(
                            -100, 100))]),
                        revoked=rng.random() < 0.2)
    with svc.db.session() as session:
        session.add(PoliceAlert(phone="+254799000111", reason="x", raised_at=utcnow()))
    return ids


def _flags(svc) -> dict[int, tuple[bool, str | None]]:
    with svc.db.Session() as session:
        return {p.id: (p.irregular, p.irregular_reasons)
                for p in session.scalars(select(Placement).order_by(Placement.id))}


def test_the_set_based_recompute_equals_the_rules_and_the_per_person_one(svc):
    _random_world(svc, random.Random(2026))
    with svc.db.session() as session:
        recompute(session, TODAY)
    everyone = _flags(svc)
    assert sum(flag for flag, _ in everyone.values()) > 10  # the world has irregular people
    assert any(r is None for f, r in everyone.values())  # and regular ones
    used = {code for _, r in everyone.values() for code in split(r)}
    assert used == set(RULES), used
    with svc.db.Session() as session:
        for placement in session.scalars(select(Placement)):
            assert split(placement.irregular_reasons) == explain(session, placement, TODAY), \
                placement.id
    # Wipe the flags and recompute person by person: the same result.
    with svc.db.session() as session:
        session.execute(Placement.__table__.update().values(irregular=False,
                                                            irregular_reasons=None))
        people = session.scalars(select(Placement.person_id).distinct()).all()
        for person_id in people:
            recompute_person(session, person_id, TODAY)
    assert _flags(svc) == everyone


def test_the_nightly_recompute_is_two_statements_whatever_the_rows(svc):
    _random_world(svc, random.Random(7), people=25)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(svc.db.engine, "before_cursor_execute", count)
    try:
        with svc.db.session() as session:
            changed = recompute(session, TODAY)
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", count)
    assert changed > 10
    assert statements.count("UPDATE") == 2
    assert [s for s in statements if s not in ("UPDATE", "BEGIN", "COMMIT")] == []
    with svc.db.session() as session:
        assert recompute(session, TODAY) == 0  # nothing changed: nothing written


def test_the_nightly_job_recomputes_everyone(svc):
    from app.schedule import SCHEDULE
    from workers.irregular import recompute_irregular

    person_id = add_person(svc)
    placement_id = place(svc, person_id)
    assert recompute_irregular() >= 1
    with svc.db.Session() as session:
        assert session.get(Placement, placement_id).irregular is True
    assert any(e.func == "workers.irregular.recompute_irregular" and e.cron for e in SCHEDULE)


def test_each_event_recomputes_its_person(svc, client):
    immigration = PartnerClient(client, *new_partner(svc, "immigration"))
    destination = PartnerClient(client, *new_partner(svc, "destination"))
    person_id = add_person(svc)
    immigration.post(departure(occurred_at=days_ago(30)))

    def flags():
        with svc.db.Session() as session:
            placement = session.scalars(select(Placement)
                                        .where(Placement.person_id == person_id)).one()
            return split(placement.irregular_reasons)

    assert flags() == ["no_work_permit", "no_approved_placement"]
    destination.post(permit("IQ-1", occurred_at=days_ago(20)))
    assert flags() == ["no_approved_placement"]
    destination.post(permit("V-2", permit_type="visit", occurred_at=days_ago(10)))
    assert flags() == ["visit_visa", "no_approved_placement"]
