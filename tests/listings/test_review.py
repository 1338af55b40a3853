"""app/listings/review.py: an officer's decision on a listing the rules sent for review."""

from __future__ import annotations

import pytest

from app.listings import review, service
from app.listings.submission import parse
from app.models.listing import JobListing
from tests.listings.helpers import GOOD, add_agency, agency


def waiting(svc) -> tuple[int, str]:
    """Store a listing that waits for review; give its id and code."""
    agency_id = add_agency(svc)
    with svc.db.session() as session:
        listing = service.create_listing(session, agency_id, parse(GOOD), GOOD)
        listing.status = "needs_review"
        return listing.id, listing.code


def test_a_rejection_keeps_the_reason_as_a_flag_and_counts_against_the_agency(svc) -> None:
    listing_id, code = waiting(svc)
    with svc.db.session() as session:
        listing = review.for_review(session, code.lower())
        review.decide(session, listing, "reject", "  A guard job\nwith no employer. ")
    with svc.db.Session() as session:
        stored = session.get(JobListing, listing_id)
        assert stored.status == "rejected" and stored.validated_at is not None
        assert stored.flags[-1] == {"rule": "nea_review", "severity": "reject",
                                    "message": "Rejected after NEA review: A guard job with "
                                               "no employer."}
        assert agency(svc, stored.agency_id).listings_rejected == 1


def test_a_decision_needs_a_reason_a_known_verb_and_a_listing_waiting(svc) -> None:
    _listing_id, code = waiting(svc)
    with svc.db.session() as session:
        listing = review.for_review(session, code)
        with pytest.raises(ValueError, match="give a reason"):
            review.decide(session, listing, "approve", " \n ")
        with pytest.raises(ValueError, match="approve or reject"):
            review.decide(session, listing, "maybe", "ok")
        review.decide(session, listing, "approve", "ok")
        with pytest.raises(ValueError, match="not waiting for review"):
            review.decide(session, listing, "reject", "changed my mind")
    assert len(review.clean_reason("x" * 400)) == review.REASON_MAX
