"""app/placements/irregular.py for everyone at once: as the rules say, in two statements.

The recompute runs every night for everyone, and for one person on each partner event.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import event, select

from app.db import utcnow
from app.models import Placement, PoliceAlert
from app.placements.irregular import RULES, explain, recompute, recompute_person, split
from tests.partners.helpers import (
    PartnerClient,
    add_agency,
    add_listing,
    add_person,
    days_ago,
    departure,
    new_partner,
    permit,
)
from tests.placements.irregular_world import DEPARTED, TODAY, at, give_permit, place


def _random_world(svc, rng: random.Random, people: int = 40) -> list[int]:
    agencies = [
        add_agency(svc, licence_no=f"NEA/PEA/2024/{n:04d}", status=status, phone=None,
                   history=hist)
        for n, (status, hist) in enumerate([
            ("valid", [(at(DEPARTED - timedelta(days=400)), None, "valid")]),
            ("valid", [(at(DEPARTED - timedelta(days=400)), None, "valid"),
                       (at(DEPARTED - timedelta(days=20)), "valid", "suspended"),
                       (at(DEPARTED + timedelta(days=20)), "suspended", "valid")]),
            ("revoked", []),
            ("expired", [(at(DEPARTED + timedelta(days=30)), None, "expired")]),
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
