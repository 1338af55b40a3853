"""app/placements/irregular.py: every rule alone, and the SQL agreeing with the Python rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import Licence, Permit, Placement, PoliceAlert
from app.placements.irregular import explain, recompute, split
from tests.partners.helpers import add_agency, add_listing, add_person, declare
from tests.placements.irregular_world import DEPARTED, TODAY, at, give_permit, place


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
                                      learned_at=at(learned_on)))
        licence.status = licence.register_status = changes[-1][2]


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
        placement.arrived_at = at(DEPARTED + timedelta(days=2))
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
