"""NEA staff decide a listing the rules sent for review: approve or reject, with a reason.

The reason stays on the listing as a flag the agency reads (``nea_review``), and a
rejection counts against the agency like a rule's. Nothing here commits: the caller
(the console's review queue) owns the transaction and audits the decision.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Agency, JobListing
from app.models.listing import APPROVED, NEEDS_REVIEW, REJECTED

REASON_MAX = 300
"""Longest review reason kept (it is shown to the agency as the flag's message)."""

def clean_reason(reason: str) -> str:
    """Give the reason as kept: one line, at most ``REASON_MAX`` characters."""
    return " ".join(reason.split())[:REASON_MAX]


def for_review(session: Session, code: str) -> JobListing | None:
    """Give the listing with this code, locked until the decision commits (two officers
    deciding the same listing at once take turns)."""
    return session.scalar(select(JobListing).where(JobListing.code == code.upper())
                          .with_for_update())


def decide(session: Session, listing: JobListing, decision: str, reason: str) -> None:
    """Approve or reject a listing that needs review; the reason becomes a flag the agency
    reads (``nea_review``). A rejection counts against the agency like a rule's.

    Raises ValueError, in words for the officer, when the listing is not waiting for
    review, the reason is empty or the decision is neither ``approve`` nor ``reject``.
    """
    if listing.status != NEEDS_REVIEW:
        raise ValueError(f"listing {listing.code} is {listing.status}, not waiting for review")
    reason = clean_reason(reason)
    if not reason:
        raise ValueError("give a reason")
    if decision == "approve":
        listing.status = APPROVED
        flag = {"rule": "nea_review", "severity": "review",
                "message": f"Approved after NEA review: {reason}"}
    elif decision == "reject":
        listing.status = REJECTED
        flag = {"rule": "nea_review", "severity": "reject",
                "message": f"Rejected after NEA review: {reason}"}
        session.execute(update(Agency).where(Agency.id == listing.agency_id)
                        .values(listings_rejected=Agency.listings_rejected + 1))
    else:
        raise ValueError("decide approve or reject")
    listing.flags = [*(listing.flags or []), flag]
    listing.validated_at = utcnow()
