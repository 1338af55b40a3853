"""app/listings/demo.py: realistic demo listings, decided by the same rules as the API's."""

from __future__ import annotations

import dataclasses
from collections import Counter

from sqlalchemy import select

from app.listings import demo, rules, service
from app.models import Agency
from app.models.listing import JobListing
from tests.listings.helpers import add_agency


def seeded(svc, count: int = 60) -> dict:
    add_agency(svc, "Savanna Recruitment Agency Ltd", "NEA/PEA/2024/0001")
    add_agency(svc, "Gulf Star Manpower Services Ltd", "NEA/PEA/2024/0002", status="suspended")
    for n in range(3, 12):
        add_agency(svc, f"Agency {n} Ltd", f"NEA/PEA/2024/{n:04d}",
                   status="revoked" if n == 11 else "valid")
    with svc.db.session() as session:
        agencies = session.scalars(select(Agency).order_by(Agency.id)).all()
        return demo.seed_listings(session, agencies, count=count)


def listings(svc) -> list[JobListing]:
    with svc.db.Session() as session:
        return list(session.scalars(select(JobListing).order_by(JobListing.id)))


def test_demo_listings_mix_every_outcome(svc) -> None:
    result = seeded(svc)
    rows = listings(svc)
    assert result["listings"] == len(rows) == 63
    outcomes = Counter(row.status for row in rows)
    assert set(outcomes) == {"approved", "needs_review", "rejected", "held"}
    assert outcomes["approved"] > len(rows) / 2  # most offers on the corridors are fine
    assert {row.destination for row in rows} >= {"SA", "QA", "AE", "RU"}
    assert all(row.source == "demo" and row.flags is not None for row in rows)


def test_fixed_codes_give_each_answer(svc) -> None:
    seeded(svc)
    by_code = {row.code: row for row in listings(svc)}
    assert by_code["HSE2SA"].status == "approved" and by_code["HSE2SA"].destination == "SA"
    russia = by_code["RUS8GW"]
    assert russia.status == "rejected"
    assert {"tourist_visa", "vague_title", "worker_fee", "contract_language"} <= {
        flag["rule"] for flag in russia.flags}
    assert by_code["GLF4DR"].status == "held"
    assert "suspended" in by_code["GLF4DR"].held_reason


def test_demo_outcomes_are_what_the_rules_decide(svc) -> None:
    seeded(svc)
    with svc.db.Session() as session:
        for row in session.scalars(select(JobListing)):
            facts = service.facts_for(session, row, service.today())
            if row.status == "held":
                assert row.status_before_hold in ("approved", "needs_review", "pending")
                continue
            if facts.licence_status != "valid":  # decided while the agency was licensed
                facts = dataclasses.replace(facts, licence_status="valid")
            outcome, flags = rules.evaluate(facts)
            assert row.status == outcome
            assert row.flags == [flag.as_dict() for flag in flags]


def test_seeding_twice_adds_nothing_and_counters_follow(svc) -> None:
    seeded(svc, count=12)
    first = len(listings(svc))
    with svc.db.session() as session:
        again = demo.seed(session)
    assert again == {"listings": 0, "skipped": True}
    assert len(listings(svc)) == first
    with svc.db.Session() as session:
        totals = sum(a.listings_total for a in session.scalars(select(Agency)))
        rejected = sum(a.listings_rejected for a in session.scalars(select(Agency)))
    assert totals == first
    assert rejected == sum(1 for row in listings(svc)
                           if row.status == "rejected")
