"""app/listings/service.py and workers/listings.py: storing, validating and holding listings."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy import select

from app.listings import codes, service
from app.listings.submission import parse
from app.models.listing import JobListing
from tests.listings.helpers import GOOD, add_agency, agency, good, set_licence
from workers.listings import validate_listing


def create(svc, agency_id: int, body=None) -> JobListing:
    body = body or GOOD
    with svc.db.session() as session:
        return service.create_listing(session, agency_id, parse(body), body)


def load(svc, listing_id: int) -> JobListing:
    with svc.db.Session() as session:
        return session.get(JobListing, listing_id)


def test_created_listing_is_pending_and_its_validation_job_runs_after_commit(svc, work) -> None:
    agency_id = add_agency(svc)
    listing = create(svc, agency_id)
    assert load(svc, listing.id).status == "pending"
    assert f"listing-{listing.id}" in svc.queues["default"].job_ids
    work()
    done = load(svc, listing.id)
    assert done.status == "approved" and done.validated_at is not None and done.flags == []


def test_nothing_is_enqueued_when_the_transaction_rolls_back(svc) -> None:
    agency_id = add_agency(svc)
    try:
        with svc.db.session() as session:
            service.create_listing(session, agency_id, parse(GOOD), GOOD)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert svc.queues["default"].count == 0
    with svc.db.Session() as session:
        assert session.scalars(select(JobListing)).all() == []


def test_validation_is_idempotent_and_counts_a_rejection_once(svc, work) -> None:
    agency_id = add_agency(svc)
    listing = create(svc, agency_id, good(visa_type="tourist"))
    assert validate_listing(listing.id) == "rejected"
    assert validate_listing(listing.id) == "rejected"
    work()
    assert load(svc, listing.id).flags[0]["rule"] == "tourist_visa"
    counted = agency(svc, agency_id)
    assert (counted.listings_total, counted.listings_rejected) == (1, 1)


def test_validate_listing_of_a_missing_row_does_nothing(svc) -> None:
    assert validate_listing(999_999) is None


def test_the_licence_is_checked_on_the_day_of_validation(svc) -> None:
    agency_id = add_agency(svc)
    listing = create(svc, agency_id)
    # Submitted while valid; the licence lapses before the job runs.
    set_licence(svc, agency_id, "valid", expires_on=date.today() - timedelta(days=1))
    assert validate_listing(listing.id) == "rejected"
    assert [f["rule"] for f in load(svc, listing.id).flags] == ["licence_not_valid"]


def test_a_taken_code_is_drawn_again(svc, monkeypatch) -> None:
    agency_id = add_agency(svc)
    first = create(svc, agency_id)
    drawn = iter([first.code, first.code, "ZZZZZ2"])
    monkeypatch.setattr(codes, "new_code", lambda: next(drawn))
    second = create(svc, agency_id)
    assert second.code == "ZZZZZ2"
    assert agency(svc, agency_id).listings_total == 2


def test_hold_open_listings_holds_pending_approved_and_review_only(svc) -> None:
    agency_id = add_agency(svc)
    other_id = add_agency(svc, name="Other Ltd", licence_no="NEA/PEA/2024/0002")
    approved = create(svc, agency_id)
    review = create(svc, agency_id, good(hours_per_week=80))
    rejected = create(svc, agency_id, good(visa_type="tourist"))
    for listing in (approved, review, rejected):
        validate_listing(listing.id)
    pending = create(svc, agency_id)
    elsewhere = create(svc, other_id)
    with svc.db.session() as session:
        held = service.hold_open_listings(session, agency_id, "licence suspended")
    assert held == 3
    states = {n: load(svc, x.id) for n, x in (("approved", approved), ("review", review),
                                              ("rejected", rejected), ("pending", pending),
                                              ("elsewhere", elsewhere))}
    assert {n: s.status for n, s in states.items()} == {
        "approved": "held", "review": "held", "rejected": "rejected", "pending": "held",
        "elsewhere": "pending"}
    assert states["approved"].held_reason == "licence suspended"
    assert states["review"].status_before_hold == "needs_review"
    # Again: nothing is left open, nothing changes.
    with svc.db.session() as session:
        assert service.hold_open_listings(session, agency_id, "again") == 0
    assert load(svc, approved.id).held_reason == "licence suspended"
    # A held listing is not validated by a late job.
    assert validate_listing(pending.id) == "held"


def test_released_listings_are_validated_again(svc, work) -> None:
    agency_id = add_agency(svc)
    listing = create(svc, agency_id)
    work()
    with svc.db.session() as session:
        service.hold_open_listings(session, agency_id, "licence suspended")
    with svc.db.session() as session:
        assert service.release_held_listings(session, agency_id) == 1
    assert load(svc, listing.id).status == "pending"
    work()
    assert load(svc, listing.id).status == "approved"


def test_licence_status_counts_a_valid_licence_past_its_date_as_expired() -> None:
    from app.models import Licence

    today = date(2026, 11, 24)
    lic = Licence(status="valid", expires_on=date(2026, 11, 23))
    assert service.licence_status(lic, today) == "expired"
    assert service.licence_status(Licence(status="valid", expires_on=today), today) == "valid"
    assert service.licence_status(Licence(status="suspended", expires_on=None), today) == (
        "suspended")
    assert service.licence_status(None, today) == "none"


def test_listings_whose_job_redis_lost_are_validated_again(svc, work) -> None:
    from app.listings.validation import PENDING_GRACE
    from workers.listings import revalidate_pending

    agency_id = add_agency(svc)
    listing = create(svc, agency_id)
    svc.redis.flushdb()  # Redis lost the queued job
    work()
    assert load(svc, listing.id).status == "pending"
    assert revalidate_pending() == 0  # too fresh: its job may still be on the way
    later = load(svc, listing.id).submitted_at + PENDING_GRACE + timedelta(seconds=1)
    assert revalidate_pending(now=later.replace(tzinfo=later.tzinfo or UTC)) == 1
    work()
    assert load(svc, listing.id).status == "approved"
    assert revalidate_pending(now=later.replace(tzinfo=later.tzinfo or UTC)) == 0
