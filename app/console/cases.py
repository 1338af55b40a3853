"""The case inbox and the case page: read a case, and ACK, NOTE, CLOSE, reassign, SMS.

Every action calls the function an officer's SMS command calls (``app.protection``),
with the console user as a ``Staff`` in the officer's place, inside one transaction
with its audit entry.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import case as when
from sqlalchemy import select

from app.console import bp
from app.console.paging import paginate
from app.db import aware, utcnow
from app.extensions import services
from app.models import (
    Agency,
    Case,
    CaseEvent,
    Employer,
    Escalation,
    InboundSms,
    Licence,
    Message,
    Officer,
    Person,
    Placement,
)
from app.models.protection import CATEGORIES, SEVERITIES
from app.phones import masked
from app.protection import actions
from app.protection.cases import OPEN_STATES
from app.protection.escalation import sla_seconds
from app.protection.texts import CATEGORY_LABELS
from app.reference.countries import country_name
from app.reference.missions import HQ, MISSIONS
from app.staff.audit import audit
from app.staff.login import current_user
from app.staff.roles import roles_required
from app.staff.scope import CASE_ROLES, cases_where

AGES = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "24h": timedelta(hours=24),
        "7d": timedelta(days=7), "30d": timedelta(days=30)}
"""The age filter: cases opened at least this long ago."""

STATUSES = {"open": OPEN_STATES, "unacknowledged": ("open",), "closed": ("closed",),
            "all": ("open", "acknowledged", "closed")}
"""The status filter; the inbox shows open and acknowledged cases unless asked."""

SEVERITY_RANK = {"critical": 0, "high": 1, "normal": 2}

MESSAGE_ROWS = 50
"""Most of the reporter's messages shown, newest first."""


@dataclass(frozen=True)
class Sla:
    """Where a case stands against its severity's clock."""

    colour: str  # red | amber | green
    label: str


def sla_of(case: Case, now: datetime, clock: int) -> Sla:
    """Colour a case: red past its clock, amber past half of it, green otherwise.

    The clock runs from opening to acknowledgement; once acknowledged it stops, and
    the colour says whether that was in time.
    """
    opened = aware(case.opened_at) or now
    taken = aware(case.acknowledged_at)
    waited = ((taken or now) - opened).total_seconds()
    colour = "red" if waited > clock else "amber" if waited > clock / 2 else "green"
    if taken is not None:
        label = f"taken up after {span(waited)} (clock {span(clock)})"
    else:
        label = f"waiting {span(waited)} of {span(clock)}"
    return Sla(colour, label)


def span(seconds: float) -> str:
    """Say a duration briefly: 40 s, 12 min, 5 h 10 min, 3 d 4 h."""
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"
    days, rest = divmod(seconds, 86400)
    return f"{days} d {rest // 3600} h" if rest >= 3600 else f"{days} d"


@bp.get("/cases")
@roles_required(*CASE_ROLES)
def inbox():
    """List the cases the user may see, most urgent first, with filters and pages."""
    user = current_user()
    args = request.args
    status = args.get("status", "open")
    query = select(Case).where(cases_where(user),
                               Case.status.in_(STATUSES.get(status, OPEN_STATES)))
    country = args.get("country", "").strip().upper()
    if country:
        query = query.where(Case.country == country)
    if args.get("category") in CATEGORIES:
        query = query.where(Case.category == args["category"])
    if args.get("severity") in SEVERITIES:
        query = query.where(Case.severity == args["severity"])
    now = utcnow()
    if args.get("age") in AGES:
        query = query.where(Case.opened_at <= now - AGES[args["age"]])
    query = query.order_by(
        when((Case.status == "open", 0), (Case.status == "acknowledged", 1), else_=2),
        when(*((Case.severity == k, v) for k, v in SEVERITY_RANK.items()), else_=3),
        Case.opened_at, Case.id)
    svc = services()
    with svc.db.Session() as db:
        page = paginate(db, query)
        countries = sorted(c for c in db.scalars(
            select(Case.country).where(cases_where(user)).distinct()) if c)
    rows = [(c, sla_of(c, now, sla_seconds(svc, c.severity))) for c in page.rows]
    audit("cases.list", None, {k: v for k, v in args.items() if v} or None)
    return render_template(
        "cases/inbox.html", page=page, rows=rows, masked=masked, countries=countries,
        country_name=country_name, categories=CATEGORY_LABELS, severities=SEVERITIES,
        ages=AGES, statuses=STATUSES, args=args, status=status)


def _visible_case(db, ref: str, *, lock: bool = False) -> Case:
    """Give the case ``ref`` if the user may see it; 404 otherwise (existence not told)."""
    query = select(Case).where(Case.ref == ref.strip().upper(), cases_where(current_user()))
    if lock:
        query = query.with_for_update()
    case = db.scalar(query)
    if case is None:
        abort(404)
    return case


@bp.get("/cases/<ref>")
@roles_required(*CASE_ROLES)
def case_page(ref: str):
    """Show one case: facts, timeline, the reporter's messages, links, and actions."""
    svc = services()
    now = utcnow()
    with svc.db.Session() as db:
        case = _visible_case(db, ref)
        timeline = paginate(db, select(CaseEvent).where(CaseEvent.case_id == case.id)
                            .order_by(CaseEvent.at, CaseEvent.id))
        escalations = list(db.scalars(select(Escalation).where(Escalation.case_id == case.id)
                                      .order_by(Escalation.level, Escalation.id)))
        person = db.get(Person, case.person_id) if case.person_id else None
        placement = db.get(Placement, case.placement_id) if case.placement_id else None
        agency = db.get(Agency, case.agency_id) if case.agency_id else None
        licence = db.scalar(select(Licence).where(Licence.agency_id == agency.id)) \
            if agency else None
        employer = db.get(Employer, case.employer_id) if case.employer_id else None
        holder = db.get(Officer, case.acknowledged_by) if case.acknowledged_by else None
        messages = reporter_messages(db, case.reporter_phone)
        officers = list(db.scalars(select(Officer).where(Officer.active.is_(True))
                                   .order_by(Officer.mission_code, Officer.name)))
    audit("case.view", f"case:{case.ref}")
    return render_template(
        "cases/case.html", case=case, sla=sla_of(case, now, sla_seconds(svc, case.severity)),
        page=timeline, escalations=escalations, person=person, placement=placement,
        agency=agency, licence=licence, employer=employer, holder=holder,
        messages=messages, officers=officers, missions=(HQ, *MISSIONS),
        country_name=country_name, categories=CATEGORY_LABELS,
        sms_room=actions.staff_sms_room(case), nonce=secrets.token_urlsafe(12))


def reporter_messages(db, phone: str) -> list[dict]:
    """Give the newest SMS from and to ``phone``, merged, newest first."""
    inbound = db.scalars(select(InboundSms).where(InboundSms.from_phone == phone)
                         .order_by(InboundSms.received_at.desc()).limit(MESSAGE_ROWS))
    outbound = db.scalars(select(Message).where(Message.to_phone == phone)
                          .order_by(Message.created_at.desc()).limit(MESSAGE_ROWS))
    rows = [{"at": aware(m.received_at), "way": "in", "text": m.text, "state": m.status}
            for m in inbound]
    rows += [{"at": aware(m.created_at), "way": "out", "text": m.body,
              "state": m.delivery_status or m.status, "kind": m.kind} for m in outbound]
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[:MESSAGE_ROWS]


ACTIONS = ("ack", "note", "close", "reassign", "sms")
"""What the case page's forms post to ``/console/cases/<ref>/<action>``."""


@bp.post("/cases/<ref>/<action>")
@roles_required(*CASE_ROLES)
def case_action(ref: str, action: str):
    """Take one action on a case, the way an officer's SMS command takes it."""
    if action not in ACTIONS:
        abort(404)
    user = current_user()
    by = actions.Staff(user_id=user.id, name=user.email)
    svc = services()
    text = (request.form.get("text") or "").strip()
    message = None
    try:
        with svc.db.session() as db:
            case = _visible_case(db, ref, lock=True)
            details: dict = {}
            if action == "ack":
                done = actions.acknowledge(db, svc, case, by)
                message = "Case taken up; the reporter is told." if done else \
                    "The case was already taken up."
            elif action == "note":
                if not text:
                    raise actions.ActionError("Write the note.")
                actions.add_note(db, svc, case, by, text)
                message = "Note added."
            elif action == "close":
                if not text:
                    raise actions.ActionError("Write the closing note; the reporter gets it.")
                done = actions.close(db, svc, case, by, text)
                message = "Case closed; the reporter gets your note." if done else \
                    "The case was closed already."
            elif action == "reassign":
                officer = _officer(db, request.form.get("officer_id"))
                mission = request.form.get("mission_code")
                moved = actions.reassign(db, svc, case, by, mission_code=mission,
                                         officer=officer)
                details = {"mission": moved, "officer_id": officer.id if officer else None}
                message = f"Case reassigned to {moved}."
            else:
                actions.message_reporter(db, svc, case, by, text,
                                         nonce=request.form.get("nonce") or
                                         secrets.token_urlsafe(12))
                message = "SMS queued to the reporter."
            audit(f"case.{action}", f"case:{case.ref}", details or None, session=db)
    except actions.ActionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.case_page", ref=ref), 303)
    flash(message)
    if action == "reassign" and not _still_visible(ref):
        return redirect(url_for("console.inbox"), 303)
    return redirect(url_for("console.case_page", ref=ref), 303)


def _officer(db, raw: str | None) -> Officer | None:
    if not raw:
        return None
    officer = db.get(Officer, int(raw)) if raw.isdigit() else None
    if officer is None:
        raise actions.ActionError("No such officer.")
    return officer


def _still_visible(ref: str) -> bool:
    with services().db.Session() as db:
        return db.scalar(select(Case.id).where(Case.ref == ref.strip().upper(),
                                               cases_where(current_user()))) is not None
