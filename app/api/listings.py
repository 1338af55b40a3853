"""Agencies submit job listings and read their outcome.

``POST /api/v1/job-listings`` stores a ``pending`` listing and asks for its
validation job after commit; ``GET /api/v1/job-listings/{code}`` and
``GET /api/v1/job-listings?status=`` show the agency its own listings only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, g, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.api import bp, fail, json_response, read_json
from app.api.keys import require_agency
from app.extensions import services
from app.listings import codes, service
from app.listings.submission import FieldError, parse
from app.models.listing import LISTING_STATUSES, Employer, JobListing

PER_PAGE = 20
"""Listings per page unless ``per_page`` says otherwise."""

MAX_PER_PAGE = 100
"""The most listings one page may hold."""

SUBMIT_ATTEMPTS = 3
"""Transactions to try when a concurrent submission clashes on a code or an employer."""


@bp.post("/job-listings")
@require_agency
def submit() -> Response:
    body = read_json()
    try:
        sub = parse(body)
    except FieldError as exc:
        fail(422, exc.code, exc.message, exc.field)
    svc = services()
    for attempt in range(SUBMIT_ATTEMPTS):
        try:
            with svc.db.session() as session:
                listing = service.create_listing(session, g.agency_id, sub, body)
                employer = (session.get(Employer, listing.employer_id)
                            if listing.employer_id else None)
                answer = listing_json(listing, employer)
            break
        except IntegrityError:
            # A concurrent submission took the same code or added the same employer.
            if attempt + 1 == SUBMIT_ATTEMPTS:
                raise
    return json_response(answer, 201, headers={"Location": f"{bp.url_prefix}/job-listings/"
                                                           f"{answer['code']}"})


@bp.get("/job-listings/<string:code>")
@require_agency
def show(code: str) -> Response:
    wanted = codes.clean(code)
    if not codes.is_code(wanted):
        fail(404, "not_found", "There is no listing with that code.")
    svc = services()
    with svc.db.Session() as session:
        listing = session.scalar(select(JobListing).where(JobListing.code == wanted,
                                                          JobListing.agency_id == g.agency_id))
        # Another agency's listing is "not found": its existence is not yours to learn.
        if listing is None:
            fail(404, "not_found", "There is no listing with that code.")
        employer = session.get(Employer, listing.employer_id) if listing.employer_id else None
        return json_response(listing_json(listing, employer))


@bp.get("/job-listings")
@require_agency
def index() -> Response:
    status = request.args.get("status")
    if status is not None and status not in LISTING_STATUSES:
        fail(422, "invalid", f"status must be one of: {', '.join(LISTING_STATUSES)}.", "status")
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", PER_PAGE, 1, MAX_PER_PAGE)
    where = [JobListing.agency_id == g.agency_id]
    if status is not None:
        where.append(JobListing.status == status)
    svc = services()
    with svc.db.Session() as session:
        total = session.scalar(select(func.count()).select_from(JobListing).where(*where))
        rows = session.execute(
            select(JobListing, Employer)
            .outerjoin(Employer, Employer.id == JobListing.employer_id)
            .where(*where)
            .order_by(JobListing.id.desc())
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
        items = [listing_json(listing, employer) for listing, employer in rows]
    return json_response({"items": items, "page": page, "per_page": per_page, "total": total})


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        fail(422, "invalid", f"{name} must be a whole number from {low} to {high:,}.", name)
    return int(raw)


def listing_json(listing: JobListing, employer: Employer | None) -> dict[str, Any]:
    """Give a listing as the API shows it: the submitted fields plus outcome and dates."""
    return {
        "code": listing.code,
        "status": listing.status,
        "flags": [dict(flag) for flag in listing.flags or []],
        "title": listing.title,
        "occupation": listing.occupation,
        "employer": None if employer is None else {
            "name": employer.name, "country": employer.country, "city": employer.city,
            "address": employer.address,
        },
        "salary": None if listing.salary_amount is None else {
            "amount": _number(listing.salary_amount), "currency": listing.salary_currency,
            "period": listing.salary_period,
        },
        "hours_per_week": listing.hours_per_week,
        "vacancies": listing.vacancies,
        "contract_languages": list(listing.contract_languages or []),
        "worker_fees": None if listing.worker_fee_amount is None else {
            "amount": _number(listing.worker_fee_amount),
            "currency": listing.worker_fee_currency,
        },
        "visa_type": listing.visa_type,
        "closing_date": listing.closing_date.isoformat() if listing.closing_date else None,
        "submitted_at": _moment(listing.submitted_at),
        "validated_at": _moment(listing.validated_at),
        "held_reason": listing.held_reason,
    }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _moment(value: Any) -> str | None:
    from app.db import aware

    moment = aware(value)
    return moment.isoformat().replace("+00:00", "Z") if moment else None
