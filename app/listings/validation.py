"""Validate job listings: one listing once it is stored, and any whose job Redis lost.

Each runs in its own transaction; ``service`` decides and defers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.extensions import Services
from app.listings import service
from app.models.listing import PENDING, JobListing

log = logging.getLogger(__name__)

PENDING_GRACE = timedelta(minutes=2)
"""A listing pending this long has lost its validation job (normally it takes < 1 s)."""


def validate_listing(svc: Services, listing_id: int) -> str | None:
    """Decide a pending listing (approved, needs_review, rejected); give its status.

    Safe to run twice: a listing that is no longer pending is left as it is.
    """
    with svc.db.session() as session:
        # The row lock (PostgreSQL) makes a concurrent run wait, then see it decided.
        listing = session.get(JobListing, listing_id, with_for_update=True)
        if listing is None:
            log.info("listing %d is gone", listing_id)
            return None
        decided = service.validate(session, listing)
        status = listing.status
    if decided:
        log.info("listing %d validated: %s", listing_id, status)
    else:
        log.info("listing %d already %s", listing_id, status)
    return status


def revalidate_pending(svc: Services, now: datetime | None = None) -> int:
    """Enqueue validation again for listings pending past ``PENDING_GRACE``; give how many.

    SQL is the truth: emptying Redis must not leave a listing pending for ever. A job
    still queued or running under the same id is left alone.
    """
    cutoff = (now or utcnow()) - PENDING_GRACE
    with svc.db.Session() as session:
        ids = session.scalars(
            select(JobListing.id).where(JobListing.status == PENDING,
                                        JobListing.submitted_at <= cutoff)
            .order_by(JobListing.id).limit(5000)
        ).all()
    for listing_id in ids:
        svc.enqueue(service.validate_job(listing_id))
    if ids:
        log.info("re-enqueued validation of %d pending listing(s)", len(ids))
    return len(ids)
