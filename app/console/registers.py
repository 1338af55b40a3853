"""Registers for NEA staff: agencies, the listing review queue, irregular worklists,
partner events nobody could be matched to, and safeguarding flags."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.console import bp
from app.console.paging import PAGE_SIZE, paginate
from app.extensions import services
from app.listings import review
from app.models import (
    Agency,
    AgencyCheck,
    AgencyComplaint,
    Case,
    Employer,
    JobListing,
    Licence,
    LicenceChange,
    Partner,
    PartnerEvent,
    Person,
    Placement,
    PoliceAlert,
    SafeguardingFlag,
)
from app.models.agency import LICENCE_STATUSES
from app.models.listing import NEEDS_REVIEW
from app.models.placement import ABROAD_STATES
from app.placements.irregular import split
from app.protection.safeguarding import KINDS as SAFEGUARDING_KINDS
from app.reference.countries import country_name
from app.reference.missions import HQ, MISSIONS, by_code
from app.staff.audit import audit
from app.staff.login import current_user
from app.staff.roles import has_role, roles_required

REGISTER_ROLES = ("nea_officer",)
"""Roles (besides nea_admin) that keep the registers."""

WORKLIST_ROLES = ("nea_officer", "consular_officer")
"""Roles that read irregular worklists; a consular officer only their mission's."""

# --------------------------------------------------------------------------- agencies


@bp.get("/agencies")
@roles_required(*REGISTER_ROLES)
def agencies():
    """List agencies with their licence status and risk counters; search by name or licence."""
    q = (request.args.get("q") or "").strip()
    status = request.args.get("status", "")
    query = select(Agency, Licence).outerjoin(Licence, Licence.agency_id == Agency.id)
    if q:
        key = "".join(ch for ch in q.lower() if ch.isalnum())
        query = query.where(or_(Licence.licence_no == q.upper(),
                                Agency.name_key.contains(key, autoescape=True)))
    if status in LICENCE_STATUSES:
        query = query.where(Licence.status == status)
    order = request.args.get("order", "risk")
    if order == "name":
        query = query.order_by(Agency.name, Agency.id)
    else:
        query = query.order_by((Agency.police_alerts * 10 + Agency.complaints_count * 2
                                + Agency.listings_rejected).desc(), Agency.id)
    with services().db.Session() as db:
        page = paginate(db, query, scalars=False)
    audit("agencies.list", None, {"q": q[:60], "status": status} if q or status else None)
    return render_template("registers/agencies.html", page=page, q=q, status=status,
                           statuses=LICENCE_STATUSES, order=order)


@bp.get("/agencies/<int:agency_id>")
@roles_required(*REGISTER_ROLES)
def agency_page(agency_id: int):
    """Show an agency: licence and its history, listings, complaints, risk, police alerts."""
    from app.agencies.checks import risk

    with services().db.Session() as db:
        agency = db.get(Agency, agency_id)
        if agency is None:
            abort(404)
        licence = db.scalar(select(Licence).where(Licence.agency_id == agency.id))
        history = list(db.scalars(
            select(LicenceChange).where(LicenceChange.licence_id == licence.id)
            .order_by(LicenceChange.learned_at.desc()).limit(PAGE_SIZE))) if licence else []
        listings = paginate(db, select(JobListing).where(JobListing.agency_id == agency.id)
                            .order_by(JobListing.submitted_at.desc(), JobListing.id.desc()))
        complaints = list(db.scalars(
            select(AgencyComplaint).where(AgencyComplaint.agency_id == agency.id)
            .order_by(AgencyComplaint.created_at.desc()).limit(PAGE_SIZE)))
        alerts = list(db.scalars(select(PoliceAlert).where(PoliceAlert.agency_id == agency.id)
                                 .order_by(PoliceAlert.raised_at.desc()).limit(PAGE_SIZE)))
        checks_total = db.scalar(select(func.count()).select_from(AgencyCheck).where(
            AgencyCheck.agency_id == agency.id)) or 0
        open_cases = db.scalar(select(func.count()).select_from(Case).where(
            Case.agency_id == agency.id, Case.status != "closed")) or 0
        irregular = db.scalar(select(func.count()).select_from(Placement).where(
            Placement.agency_id == agency.id, Placement.irregular.is_(True))) or 0
        signals = risk(agency)
        directors = [d.name for d in agency.directors]
    audit("agency.view", f"agency:{agency.id}")
    return render_template("registers/agency.html", agency=agency, licence=licence,
                           history=history, page=listings, complaints=complaints,
                           alerts=alerts, checks=checks_total, open_cases=open_cases,
                           irregular=irregular, signals=signals, directors=directors,
                           country_name=country_name)


# --------------------------------------------------------------------------- listings


@bp.get("/listings/review")
@roles_required(*REGISTER_ROLES)
def listing_queue():
    """The listings waiting for a person: oldest first, with the flags that sent them here."""
    query = (select(JobListing, Agency.name.label("agency_name"), Employer.name.label("employer"))
             .join(Agency, Agency.id == JobListing.agency_id)
             .outerjoin(Employer, Employer.id == JobListing.employer_id)
             .where(JobListing.status == NEEDS_REVIEW)
             .order_by(JobListing.submitted_at, JobListing.id))
    with services().db.Session() as db:
        page = paginate(db, query, scalars=False)
    audit("listings.review_queue")
    return render_template("registers/listing_queue.html", page=page,
                           country_name=country_name, reason_max=review.REASON_MAX)


@bp.post("/listings/<code>/review")
@roles_required(*REGISTER_ROLES)
def review_listing(code: str):
    """Approve or reject one listing from the queue, with a reason."""
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "")
    try:
        with services().db.session() as db:
            listing = review.for_review(db, code)
            if listing is None:
                abort(404)
            review.decide(db, listing, decision, reason)
            audit(f"listing.{decision}", f"listing:{listing.code}",
                  {"reason": review.clean_reason(reason)}, session=db)
    except ValueError as exc:
        flash(f"Listing {code}: {exc}.", "error")
        return redirect(url_for("console.listing_queue"), 303)
    flash(f"Listing {code.upper()} {'approved' if decision == 'approve' else 'rejected'}.")
    return redirect(url_for("console.listing_queue"), 303)


# --------------------------------------------------------------------------- worklists


@bp.get("/worklists")
@roles_required(*WORKLIST_ROLES)
def worklists():
    """Each mission's irregular worklist: people abroad without valid papers, with reasons.

    Read from the stored flags (``Placement.irregular`` and its reasons), which the
    nightly recompute and every event about a person keep current; a page of a
    national list is then an index range, not the whole computation. ``kazi report
    irregular`` computes the same list live, for a given day.
    """
    user = current_user()
    if user.role == "consular_officer":
        code = user.mission_code or ""
    else:
        code = (request.args.get("mission") or "").strip().upper()
    mission = by_code(code) if code else None
    if code and mission is None:
        abort(404)
    where = [Placement.irregular.is_(True), Placement.status.in_(ABROAD_STATES)]
    if mission is not None:
        where.append(Placement.country.in_(mission.covers or ("--",)))
    # One row per person: their newest irregular placement abroad.
    newer = aliased(Placement)
    where.append(~exists().where(newer.person_id == Placement.person_id,
                                 newer.irregular.is_(True),
                                 newer.status.in_(ABROAD_STATES), newer.id > Placement.id))
    query = (select(Placement.id, Placement.person_id, Placement.country, Placement.status,
                    Placement.departed_on, Placement.irregular_reasons.label("reasons"),
                    Person.reg_no, Licence.licence_no, Agency.name.label("agency_name"))
             .outerjoin(Person, Person.id == Placement.person_id)
             .outerjoin(Agency, Agency.id == Placement.agency_id)
             .outerjoin(Licence, Licence.agency_id == Placement.agency_id)
             .where(*where)
             .order_by(Placement.country, Placement.departed_on, Placement.id))
    with services().db.Session() as db:
        page = paginate(db, query, scalars=False)
    audit("worklist.view", f"mission:{mission.code}" if mission else "mission:all")
    return render_template("registers/worklists.html", page=page, mission=mission,
                           missions=(HQ, *MISSIONS), split=split, country_name=country_name,
                           people_link=has_role("consular_officer"))


# --------------------------------------------------------------------------- partner events


@bp.get("/partner-events")
@roles_required(*REGISTER_ROLES)
def partner_events():
    """Partner events kept for review: nobody matched, or contradicting our records."""
    status = request.args.get("status", "unmatched")
    wanted = ("unmatched", "rejected") if status == "all" else (status,)
    query = (select(PartnerEvent, Partner.name.label("partner"), Partner.kind.label("kind"))
             .join(Partner, Partner.id == PartnerEvent.partner_id)
             .where(PartnerEvent.status.in_(wanted))
             .order_by(PartnerEvent.received_at.desc(), PartnerEvent.id.desc()))
    with services().db.Session() as db:
        page = paginate(db, query, scalars=False)
    audit("partner_events.list", None, {"status": status})
    return render_template("registers/partner_events.html", page=page, status=status)


# --------------------------------------------------------------------------- safeguarding


@bp.get("/safeguarding")
@roles_required(*REGISTER_ROLES)
def safeguarding():
    """Safeguarding flags the system raised itself, newest first: possible trafficking."""
    kind = request.args.get("kind", "")
    query = (select(SafeguardingFlag, Person.reg_no.label("reg_no"),
                    Person.id.label("person"))
             .outerjoin(Person, Person.id == SafeguardingFlag.person_id)
             .order_by(SafeguardingFlag.created_at.desc(), SafeguardingFlag.id.desc()))
    if kind in SAFEGUARDING_KINDS:
        query = query.where(SafeguardingFlag.kind == kind)
    with services().db.Session() as db:
        page = paginate(db, query, scalars=False)
        agencies = _agency_names(db, [_details(row.SafeguardingFlag) for row in page.rows])
    audit("safeguarding.list", None, {"kind": kind} if kind else None)
    return render_template("registers/safeguarding.html", page=page, kind=kind,
                           kinds=SAFEGUARDING_KINDS, details=_details, agencies=agencies,
                           country_name=country_name)


def _details(flag: SafeguardingFlag) -> dict:
    try:
        details = json.loads(flag.details or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def _agency_names(db: Session, details: list[dict]) -> dict[int, str]:
    ids = {d["agency_id"] for d in details if isinstance(d.get("agency_id"), int)}
    if not ids:
        return {}
    return dict(db.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all())
