"""Store job listings, validate them against the rules, and hold them when a licence lapses.

Nothing here commits: callers own the transaction, and jobs are deferred with
``app.db.defer`` so they are enqueued only after it commits.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import defer, utcnow
from app.jobs import Job, default_retry
from app.listings import codes
from app.listings.rules import ListingFacts, evaluate
from app.listings.submission import Submission
from app.models import Agency, Licence
from app.models.listing import (
    HELD,
    OPEN_STATUSES,
    PENDING,
    REJECTED,
    Employer,
    JobListing,
)

VALIDATE_JOB = "workers.listings.validate_listing"
"""The job that validates one listing by id."""

KENYA = ZoneInfo("Africa/Nairobi")
"""Licence dates on the NEA register are Kenyan calendar days."""

CODE_ATTEMPTS = 20
"""Fresh codes to try before giving up."""

_NOT_NAME = re.compile(r"[^a-z0-9]+")


def today() -> date:
    """Give today's date in Kenya, the calendar licences are dated in."""
    return datetime.now(KENYA).date()


def validate_job(listing_id: int) -> Job:
    """The job that validates one listing, named after it so it is enqueued at most once."""
    return Job(VALIDATE_JOB, (listing_id,), job_id=f"listing:{listing_id}",
               retry=default_retry())


def licence_status(licence: Licence | None, on: date) -> str:
    """Give a licence's status in force on ``on``: a valid one past its expiry is expired."""
    if licence is None:
        return "none"
    if licence.status == "valid" and licence.expires_on is not None and licence.expires_on < on:
        return "expired"
    return licence.status


def agency_licence(session: Session, agency_id: int) -> Licence | None:
    """Give the agency's licence row, if it has one."""
    return session.scalar(select(Licence).where(Licence.agency_id == agency_id))


def name_key(name: str) -> str:
    """Fold a name for matching: lower-case letters and digits only."""
    return _NOT_NAME.sub("", name.lower())


def employer_for(session: Session, name: str, country: str, city: str | None = None,
                 address: str | None = None) -> Employer:
    """Find the employer with this name in this country, or add it.

    Two submissions adding the same new employer at once: one gets an IntegrityError
    from the unique (name_key, country) and is retried whole by its caller. (No
    savepoint here: on SQLite, pysqlite releases a first savepoint as a commit.)
    """
    key = name_key(name) or name.lower()
    found = session.scalar(select(Employer).where(Employer.name_key == key,
                                                  Employer.country == country))
    if found is not None:
        found.city = found.city or city  # fill what an earlier listing left out
        found.address = found.address or address
        return found
    employer = Employer(name=name, name_key=key, country=country, city=city, address=address)
    session.add(employer)
    session.flush()
    return employer


def free_code(session: Session) -> str:
    """Draw codes until one is not taken (a clash is about one in a million per listing)."""
    for _attempt in range(CODE_ATTEMPTS):
        code = codes.new_code()
        if session.scalar(select(JobListing.id).where(JobListing.code == code)) is None:
            return code
    raise RuntimeError("could not draw a free listing code")  # pragma: no cover


def create_listing(session: Session, agency_id: int, sub: Submission, payload: dict,
                   source: str = "api") -> JobListing:
    """Store a pending listing with a fresh public code; validation runs after commit.

    A concurrent insert of the same code or employer raises IntegrityError at flush;
    the caller retries the whole transaction (``IntegrityError`` is rare enough).
    """
    employer = None
    if sub.employer_name and sub.employer_country:
        employer = employer_for(session, sub.employer_name, sub.employer_country,
                                sub.employer_city, sub.employer_address)
    listing = JobListing(
        code=free_code(session), agency_id=agency_id,
        employer_id=employer.id if employer else None,
        title=sub.title, occupation=sub.occupation, destination=sub.employer_country,
        salary_amount=sub.salary_amount, salary_currency=sub.salary_currency,
        salary_period=sub.salary_period, hours_per_week=sub.hours_per_week,
        vacancies=sub.vacancies, contract_languages=sub.contract_languages,
        worker_fee_amount=sub.worker_fee_amount, worker_fee_currency=sub.worker_fee_currency,
        visa_type=sub.visa_type, closing_date=sub.closing_date, status=PENDING, flags=[],
        payload=payload, source=source, submitted_at=utcnow(),
    )
    session.add(listing)
    session.flush()
    session.execute(update(Agency).where(Agency.id == agency_id)
                    .values(listings_total=Agency.listings_total + 1))
    defer(session, validate_job(listing.id))
    return listing


def facts_for(session: Session, listing: JobListing, on: date) -> ListingFacts:
    """Gather what the rules look at: the listing and its agency's licence on ``on``."""
    employer = session.get(Employer, listing.employer_id) if listing.employer_id else None
    return ListingFacts(
        title=listing.title, occupation=listing.occupation, destination=listing.destination,
        employer_name=employer.name if employer else None,
        salary_amount=listing.salary_amount, salary_currency=listing.salary_currency,
        salary_period=listing.salary_period, hours_per_week=listing.hours_per_week,
        vacancies=listing.vacancies,
        contract_languages=tuple(listing.contract_languages or ()) or None,
        worker_fee_amount=listing.worker_fee_amount,
        worker_fee_currency=listing.worker_fee_currency, visa_type=listing.visa_type,
        closing_date=listing.closing_date,
        licence_status=licence_status(agency_licence(session, listing.agency_id), on), on=on,
    )


def validate(session: Session, listing: JobListing, on: date | None = None) -> bool:
    """Decide a pending listing: apply every rule, store outcome and flags, count rejections.

    Gives False (and changes nothing) when the listing is no longer pending, so a
    repeated job does nothing twice.
    """
    if listing.status != PENDING:
        return False
    outcome, flags = evaluate(facts_for(session, listing, on or today()))
    listing.status = outcome
    listing.flags = [flag.as_dict() for flag in flags]
    listing.validated_at = utcnow()
    if outcome == REJECTED:
        session.execute(update(Agency).where(Agency.id == listing.agency_id)
                        .values(listings_rejected=Agency.listings_rejected + 1))
    return True


def hold_open_listings(session: Session, agency_id: int, reason: str) -> int:
    """Hold every open listing of an agency (its licence stopped being valid); give how many.

    Open means pending, approved or needs review. Held listings are shown to people
    who check their code with a warning. Safe to call twice: held ones stay held.
    """
    listings = session.scalars(
        select(JobListing).where(JobListing.agency_id == agency_id,
                                 JobListing.status.in_(OPEN_STATUSES))
    ).all()
    now = utcnow()
    for listing in listings:
        listing.status_before_hold = listing.status
        listing.status = HELD
        listing.held_at = now
        listing.held_reason = (reason or "")[:200] or None
    return len(listings)


def release_held_listings(session: Session, agency_id: int) -> int:
    """Send an agency's held listings back to validation (its licence is valid again)."""
    listings = session.scalars(
        select(JobListing).where(JobListing.agency_id == agency_id, JobListing.status == HELD)
    ).all()
    for listing in listings:
        listing.status = PENDING
        listing.held_at = None
        listing.held_reason = None
        listing.status_before_hold = None
        defer(session, validate_job(listing.id))
    return len(listings)


def find_by_code(session: Session, code: str) -> JobListing | None:
    """Give the listing with this public code, if any."""
    return session.scalar(select(JobListing).where(JobListing.code == code))
