"""People: find a registered person and read their whole story on one timeline.

A consular officer finds only people linked to their mission's cases or placed in a
country it covers (``scope.people_where``); the cases on a person's timeline are
the ones the user may see. National IDs are never shown whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask import abort, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.console import bp
from app.console.paging import PAGE_SIZE, Page, page_number, paginate
from app.db import aware
from app.extensions import services
from app.models import (
    Case,
    CheckIn,
    InboundSms,
    Message,
    Movement,
    Permit,
    Person,
    Placement,
    PlacementTransition,
    SafeguardingFlag,
)
from app.phones import masked, try_normalise
from app.protection.safeguarding import KINDS as SAFEGUARDING_KINDS
from app.reference.counties import COUNTIES
from app.reference.countries import country_name
from app.staff.audit import audit
from app.staff.login import current_user
from app.staff.roles import roles_required
from app.staff.scope import CASE_ROLES, cases_where, people_where


@bp.get("/people")
@roles_required(*CASE_ROLES)
def people():
    """List (or search) the people the user may see."""
    user = current_user()
    q = (request.args.get("q") or "").strip()
    query = select(Person).where(people_where(user, Person.id))
    kind = None
    if q:
        kind, clause = _search(q)
        query = query.where(clause)
    query = query.order_by(Person.created_at.desc(), Person.id.desc())
    with services().db.Session() as db:
        page = paginate(db, query)
    # The query itself may be a national ID or a phone: record only what kind it was.
    audit("people.list", None, {"search": kind} if kind else None)
    return render_template("people/list.html", page=page, q=q, masked=masked,
                           counties=_county_names())


def _search(q: str) -> tuple[str, Any]:
    """Turn a search into a clause: registration number, phone, national ID or name."""
    text = q.strip()
    if text.upper().startswith("KS") and text[2:].isdigit():
        return "reg_no", Person.reg_no == text.upper()
    phone = try_normalise(text) if any(ch.isdigit() for ch in text) else None
    if text.isdigit() and 6 <= len(text) <= 9:
        bidx = services().cipher.blind_index("national_id", text)
        clauses = [Person.national_id_bidx == bidx]
        if phone:
            clauses.append(Person.phone == phone)
        return "national_id", or_(*clauses)
    if phone:
        return "phone", Person.phone == phone
    return "name", func.lower(Person.full_name).contains(text.lower()[:80], autoescape=True)


@dataclass(frozen=True)
class Line:
    """One line of a person's timeline."""

    at: datetime
    kind: str
    text: str
    ref: str | None = None


@bp.get("/people/<int:person_id>")
@roles_required(*CASE_ROLES)
def person_page(person_id: int):
    """Show a person and their timeline, newest first, a page at a time."""
    user = current_user()
    svc = services()
    with svc.db.Session() as db:
        person = db.scalar(select(Person).where(Person.id == person_id,
                                                people_where(user, Person.id)))
        if person is None:
            abort(404)
        placements = list(db.scalars(select(Placement).where(Placement.person_id == person.id)
                                     .order_by(Placement.created_at.desc())))
        cases = list(db.scalars(select(Case).where(Case.person_id == person.id,
                                                   cases_where(user))
                                .order_by(Case.opened_at.desc()).limit(PAGE_SIZE)))
        page = timeline(db, person, [p.id for p in placements], cases)
        national_id = _masked_id(svc, person.national_id_enc)
    audit("person.view", f"person:{person.id}")
    return render_template(
        "people/person.html", person=person, placements=placements, cases=cases, page=page,
        national_id=national_id, country_name=country_name,
        county=_county_names().get(person.county_code))


def timeline(db: Session, person: Person, placement_ids: list[int],
             cases: list[Case]) -> Page:
    """Merge every source of the person's story, newest first, one page of it.

    Each source gives at most as many of its newest rows as the page needs, so a
    person with thousands of messages costs no more than one with ten.
    """
    number = page_number()
    need = number * PAGE_SIZE
    lines: list[Line] = [Line(_at(person.created_at), "registered",
                              f"registered by {person.consent_channel} "
                              f"(consent {person.consent_version}), {person.reg_no}")]
    if person.withdrawn_at:
        lines.append(Line(_at(person.withdrawn_at), "withdrawn", "withdrew consent"))
    total = len(lines)
    phone = person.phone or "-"
    sources = _sources(person, placement_ids, phone)
    for count_query, rows_query, render in sources:
        total += db.scalar(count_query) or 0
        lines += [render(row) for row in db.scalars(rows_query.limit(need))]
    for case in cases:
        lines.append(Line(_at(case.opened_at), "case",
                          f"case {case.ref} opened: {case.severity}, {case.category or '?'}, "
                          f"{case.status}", ref=case.ref))
    total += len(cases)
    lines.sort(key=lambda line: line.at, reverse=True)
    start = (number - 1) * PAGE_SIZE
    return Page(rows=lines[start:start + PAGE_SIZE], number=number, size=PAGE_SIZE,
                total=total)


def _sources(person: Person, placement_ids: list[int], phone: str) -> list[tuple]:
    """Give (count, newest-first rows, render) for each kind of timeline line."""
    ids = placement_ids or [-1]

    def count(model, *where):
        return select(func.count()).select_from(model).where(*where)

    def newest(model, column, *where):
        return select(model).where(*where).order_by(column.desc(), model.id.desc())

    moves = (PlacementTransition.placement_id.in_(ids),)
    movements = (Movement.person_id == person.id,)
    permits = (Permit.person_id == person.id,)
    checkins = (CheckIn.placement_id.in_(ids),)
    sent = (or_(Message.to_phone == phone, Message.person_id == person.id),)
    received = (InboundSms.from_phone == phone,)
    flags = (SafeguardingFlag.person_id == person.id,)
    return [
        (count(SafeguardingFlag, *flags),
         newest(SafeguardingFlag, SafeguardingFlag.created_at, *flags),
         lambda f: Line(_at(f.created_at), "safeguarding",
                        f"SAFEGUARDING: {SAFEGUARDING_KINDS.get(f.kind, f.kind)}")),
        (count(PlacementTransition, *moves),
         newest(PlacementTransition, PlacementTransition.occurred_at, *moves),
         lambda t: Line(_at(t.occurred_at), "placement",
                        f"placement #{t.placement_id}: {t.from_status or 'new'} -> "
                        f"{t.to_status} (said by {t.source})")),
        (count(Movement, *movements), newest(Movement, Movement.occurred_at, *movements),
         lambda m: Line(_at(m.occurred_at), "movement",
                        f"{m.kind} at {m.port or 'a border post'}"
                        f"{' to/from ' + country_name(m.country) if m.country else ''}")),
        (count(Permit, *permits), newest(Permit, Permit.created_at, *permits),
         lambda p: Line(_at(p.created_at), "permit",
                        f"{p.type or 'permit'} permit, {country_name(p.country)}, "
                        f"{_day(p.issued_on)} to {_day(p.expires_on)}"
                        f"{', REVOKED' if p.revoked_at else ''}")),
        (count(CheckIn, *checkins), newest(CheckIn, CheckIn.due_at, *checkins),
         lambda c: Line(_at(c.answered_at or c.sent_at or c.due_at), "check-in",
                        f"check-in #{c.sequence}: {c.status}"
                        f"{' (' + c.answer + ')' if c.answer else ''}")),
        (count(Message, *sent), newest(Message, Message.created_at, *sent),
         lambda m: Line(_at(m.created_at), "sms out", f"[{m.kind}, {m.status}] {m.body}")),
        (count(InboundSms, *received), newest(InboundSms, InboundSms.received_at, *received),
         lambda m: Line(_at(m.received_at), "sms in", m.text)),
    ]


def _at(moment: datetime | date | None) -> datetime:
    if isinstance(moment, datetime):
        return aware(moment)
    if isinstance(moment, date):
        return aware(datetime.combine(moment, time()))
    return aware(datetime.min)


def _day(day: date | None) -> str:
    return day.isoformat() if day else "?"


def _masked_id(svc, token: bytes | None) -> str | None:
    if not token:
        return None
    try:
        plain = svc.cipher.decrypt(token)
    except Exception:  # noqa: BLE001 - a key rotated away: show that it exists, not fail
        return "(on file)"
    return "*" * max(len(plain) - 3, 0) + plain[-3:]


def _county_names() -> dict[int, str]:
    return {c.code: c.name for c in COUNTIES}
