"""Who is abroad without valid papers: the irregular rules, computed in SQL.

A placement is *abroad* in ``departed``, ``arrived`` or ``employed``. It is
irregular when any of these holds on the day ``on`` (Kenyan calendar), each kept
as a code in ``Placement.irregular_reasons`` (comma-separated, in this order):

``no_work_permit``
    No unrevoked work permit for the person in the placement's country is in force
    on ``on`` (issued on or before it, not expired), and none has expired either
    (a permit never recorded, revoked, or not yet in force).
``permit_expired``
    No work permit is in force, but an unrevoked one for that country has expired.
``visit_visa``
    The person's current papers are a visit or tourist visa: the latest unrevoked
    permit for that country (by issue date) is a visit or tourist one, or, with no
    permit on record, the placement's ``visa_type`` says visit or tourist.
``no_approved_placement``
    The placement does not rest on an NEA-approved job listing: it has no listing
    (for instance immigration saw a departure nobody declared, so the placement was
    opened by that departure), or its listing is not approved (held after approval
    still counts as approved: the hold came later).
``agency_not_valid``
    The placement names an agency whose licence was not valid on the day of
    departure: no licence at all, or the licence as the register stood that day
    (the newest ``LicenceChange`` learned on or before it; when the register only
    learned of the licence later, the first status it was learned with) was not
    ``valid``, or was past its expiry date. Without a departure date the arrival
    date stands in; with neither the rule cannot tell and does not fire.

One more flag rides along, on every placement that has not ended (abroad or not):

``police_alert``
    Police raised an alert (``PoliceAlert``) on the placement's agency, or on the
    agent's phone the person gave in their pre-departure declaration.

Placements that ended or returned carry no reasons. ``recompute`` does all of this
in two UPDATE statements whatever the number of placements (the nightly run), or
for one person's or one agency's placements (after each partner event); ``explain``
is the same rules in plain Python for one placement, to show and to test against.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Select, Subquery

from app.db import aware
from app.listings.service import today
from app.models import (
    JobListing,
    Licence,
    LicenceChange,
    Permit,
    Placement,
    PoliceAlert,
)
from app.models.departure import DepartureDeclaration
from app.models.listing import APPROVED, HELD
from app.models.placement import ABROAD_STATES
from app.placements.service import OPEN_STATES

if TYPE_CHECKING:
    from app.extensions import Services

log = logging.getLogger(__name__)

RULES = ("no_work_permit", "permit_expired", "visit_visa", "no_approved_placement",
         "agency_not_valid", "police_alert")
"""Every reason code, in the order they are written into ``irregular_reasons``."""

VISIT_VISAS = ("visit", "tourist")
"""Visas that do not allow work."""

SEPARATOR = ","
"""Between codes in ``irregular_reasons``."""


class utc_date(FunctionElement):  # noqa: N801 - reads like the SQL function it renders
    """The UTC calendar date of a timestamp column, on SQLite and PostgreSQL alike."""

    type = Date()
    inherit_cache = True


@compiles(utc_date)
def _utc_date_sqlite(element, compiler, **kw):  # SQLite stores UTC text: date() is enough
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


def computed(on: date | BindParameter, where: Sequence[ColumnElement[bool]] = ()) -> Subquery:
    """Give ``(placement_id, reasons)`` for every placement that has not ended, as a subquery.

    Each rule reads a small derived table joined once (hash joins on PostgreSQL), not
    a subquery run per placement: per person and country, whether an unrevoked work
    permit is in force and whether one has expired, and the latest papers; the
    licence periods of every agency (``licence_periods``); the agencies and the
    placements police alerted. With ``where``, only those placements, and only
    their people's permits, are read.
    """
    scope = [Placement.status.in_(OPEN_STATES), *where]
    own = [Permit.person_id.in_(select(Placement.person_id).where(*scope))] if where else []
    in_force_now = and_(or_(Permit.issued_on.is_(None), Permit.issued_on <= on),
                        or_(Permit.expires_on.is_(None), Permit.expires_on >= on))
    work = (select(Permit.person_id, Permit.country,
                   func.max(case((in_force_now, 1), else_=0)).label("in_force"),
                   func.max(case((Permit.expires_on < on, 1), else_=0)).label("expired"))
            .where(Permit.type == "work", Permit.revoked_at.is_(None), *own)
            .group_by(Permit.person_id, Permit.country).subquery("work"))
    ranked = (select(Permit.person_id, Permit.country, Permit.type,
                     func.row_number().over(
                         partition_by=(Permit.person_id, Permit.country),
                         order_by=(Permit.issued_on.desc().nulls_last(), Permit.id.desc()))
                     .label("n"))
              .where(Permit.revoked_at.is_(None), Permit.type.is_not(None), *own)
              .subquery("ranked"))
    latest = (select(ranked.c.person_id, ranked.c.country, ranked.c.type)
              .where(ranked.c.n == 1).subquery("latest"))
    periods = licence_periods(select(Placement.agency_id).where(*scope) if where else None)
    alerted_agencies = (select(PoliceAlert.agency_id).where(PoliceAlert.agency_id.is_not(None))
                        .distinct().subquery("alerted_agencies"))
    alerted_placements = (
        select(DepartureDeclaration.placement_id)
        .join(PoliceAlert, PoliceAlert.phone == DepartureDeclaration.agent_phone)
        .where(DepartureDeclaration.placement_id.is_not(None))
        .distinct().subquery("alerted_placements"))
    departed = func.coalesce(Placement.departed_on, utc_date(Placement.arrived_at))

    abroad = Placement.status.in_(ABROAD_STATES)
    in_force = func.coalesce(work.c.in_force, 0) == 1
    expired = func.coalesce(work.c.expired, 0) == 1
    approved = or_(JobListing.status == APPROVED,
                   and_(JobListing.status == HELD,
                        func.coalesce(JobListing.status_before_hold, "") == APPROVED))
    not_valid_then = or_(periods.c.agency_id.is_(None), periods.c.status != "valid",
                         and_(periods.c.expires_on.is_not(None), periods.c.expires_on < departed))
    rules = {
        "no_work_permit": and_(abroad, not_(in_force), not_(expired)),
        "permit_expired": and_(abroad, not_(in_force), expired),
        "visit_visa": and_(abroad, func.coalesce(latest.c.type, Placement.visa_type)
                           .in_(VISIT_VISAS)),
        "no_approved_placement": and_(abroad, or_(JobListing.id.is_(None), not_(approved))),
        "agency_not_valid": and_(abroad, Placement.agency_id.is_not(None),
                                 departed.is_not(None), not_valid_then),
        "police_alert": or_(alerted_agencies.c.agency_id.is_not(None),
                            alerted_placements.c.placement_id.is_not(None)),
    }
    joined = None
    for code in RULES:
        part = case((rules[code], literal(code + SEPARATOR, String)), else_=literal("", String))
        joined = part if joined is None else joined + part
    reasons = func.nullif(func.rtrim(joined, SEPARATOR), "")
    in_period = and_(periods.c.agency_id == Placement.agency_id,
                     or_(periods.c.valid_from.is_(None), periods.c.valid_from <= departed),
                     or_(periods.c.valid_to.is_(None), departed < periods.c.valid_to))
    return (
        select(Placement.id.label("placement_id"), reasons.label("reasons"))
        .select_from(Placement)
        .outerjoin(work, and_(work.c.person_id == Placement.person_id,
                              work.c.country == Placement.country))
        .outerjoin(latest, and_(latest.c.person_id == Placement.person_id,
                                latest.c.country == Placement.country))
        .outerjoin(JobListing, JobListing.id == Placement.listing_id)
        .outerjoin(periods, in_period)
        .outerjoin(alerted_agencies, alerted_agencies.c.agency_id == Placement.agency_id)
        .outerjoin(alerted_placements, alerted_placements.c.placement_id == Placement.id)
        .where(*scope)
        .subquery("computed")
    )


def licence_periods(agencies: Select | None = None) -> Subquery:
    """Give each agency's licence status and expiry in force between two register changes.

    One row per ``LicenceChange``: in force from the day it was learned (UTC) until
    the day the next was learned; the first also covers every day before it (the
    register only tells us from then on). Of several changes on one day only the
    last is in force. A licence with no recorded change is one period: as it is now.
    An agency with no licence has no period, so it is not valid on any day. With
    ``agencies`` (a SELECT of agency ids), only theirs.
    """
    only = [Licence.agency_id.in_(agencies)] if agencies is not None else []
    learned = utc_date(LicenceChange.learned_at)
    window = {"partition_by": LicenceChange.licence_id,
              "order_by": (LicenceChange.learned_at, LicenceChange.id)}
    first = func.row_number().over(**window) == 1
    changes = (
        select(Licence.agency_id, LicenceChange.new_status.label("status"),
               LicenceChange.new_expires_on.label("expires_on"),
               case((first, null()), else_=learned).label("valid_from"),
               func.lead(learned, type_=Date).over(**window).label("valid_to"))
        .join(Licence, Licence.id == LicenceChange.licence_id)
        .where(*only)
    )
    unchanged = (
        select(Licence.agency_id, Licence.status, Licence.expires_on,
               cast(null(), Date).label("valid_from"), cast(null(), Date).label("valid_to"))
        .where(~exists().where(LicenceChange.licence_id == Licence.id), *only)
    )
    return union_all(changes, unchanged).subquery("periods")


def statements(on: date | BindParameter, where: Sequence[ColumnElement[bool]] = ()
               ) -> tuple[Update, Update]:
    """Give the two UPDATEs of a recompute: placements that have not ended, then the rest.

    The first joins ``computed`` back to ``placements`` (UPDATE ... FROM) and writes
    only the rows whose reasons changed. The second clears the flags of placements
    that ended or returned.
    """
    found = computed(on, where)
    flag = (update(Placement)
            .where(Placement.id == found.c.placement_id,
                   Placement.irregular_reasons.is_distinct_from(found.c.reasons))
            .values(irregular_reasons=found.c.reasons,
                    irregular=case((found.c.reasons.is_(None), false()), else_=true()),
                    updated_at=func.now())
            .execution_options(synchronize_session=False))
    clear = (update(Placement)
             .where(Placement.status.not_in(OPEN_STATES), *where,
                    or_(Placement.irregular.is_(True), Placement.irregular_reasons.is_not(None)))
             .values(irregular=False, irregular_reasons=None, updated_at=func.now())
             .execution_options(synchronize_session=False))
    return flag, clear


def recompute(session: Session, on: date | None = None, *,
              where: Sequence[ColumnElement[bool]] = ()) -> int:
    """Recompute ``irregular`` and its reasons in set-based SQL; give the rows changed.

    With no ``where``: every placement (the nightly run). With ``where``: only those
    placements, e.g. ``[Placement.agency_id == 7]``. Rows whose reasons did not
    change are not written.
    """
    return _run(session, statements(on or today(), where), {})


def recompute_all(svc: Services, as_of: str | None = None) -> int:
    """The nightly job: recompute every placement in one transaction; give rows changed."""
    on = date.fromisoformat(as_of[:10]) if as_of else None
    with svc.db.session() as session:
        changed = recompute(session, on)
    log.info("irregular recompute: %d placement(s) changed", changed)
    return changed


def recompute_person(session: Session, person_id: int, on: date | None = None) -> int:
    """Recompute one person's placements (after an event about them)."""
    return _run(session, _scoped("person"), {"on": on or today(), "scope_id": person_id},
                few=True)


def recompute_agency(session: Session, agency_id: int, on: date | None = None) -> int:
    """Recompute one agency's placements (after a police alert on it)."""
    return _run(session, _scoped("agency"), {"on": on or today(), "scope_id": agency_id},
                few=True)


@cache
def _scoped(scope: str) -> tuple[Update, Update]:
    """The statements for one person or agency, built once with bound parameters.

    Built once, they are compiled once (SQLAlchemy's cache): an event pays only for
    running them, not for assembling this tree of joins again.
    """
    column = {"person": Placement.person_id, "agency": Placement.agency_id}[scope]
    return statements(bindparam("on", type_=Date()), [column == bindparam("scope_id")])


def _run(session: Session, statements_: tuple[Update, Update], params: dict,
         few: bool = False) -> int:
    session.flush()
    fixed = few and session.get_bind().dialect.name == "postgresql"
    if fixed:
        # For a handful of rows PostgreSQL spends far longer choosing among the orders
        # of these eight joins than running them: take them as written.
        session.execute(text("SET LOCAL join_collapse_limit = 1"))
    changed = sum(session.execute(statement, params).rowcount for statement in statements_)
    if fixed:
        session.execute(text("RESET join_collapse_limit"))
    # Placements loaded in this session now hold stale flags: reload just those columns.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Placement):
            session.expire(obj, ["irregular", "irregular_reasons", "updated_at"])
    return changed


def split(reasons: str | None) -> list[str]:
    """Give the codes of an ``irregular_reasons`` value."""
    return [code for code in (reasons or "").split(SEPARATOR) if code]


# ------------------------------------------------------------------ plain Python


def explain(session: Session, placement: Placement, on: date | None = None) -> list[str]:
    """Give the reasons for one placement, rule by rule in Python (same rules as the SQL)."""
    on = on or today()
    if placement.status not in OPEN_STATES:
        return []
    found: list[str] = []
    abroad = placement.status in ABROAD_STATES
    if abroad:
        permits = list(session.scalars(select(Permit).where(
            Permit.person_id == placement.person_id, Permit.country == placement.country,
            Permit.revoked_at.is_(None))))
        work = [p for p in permits if p.type == "work"]
        in_force = [p for p in work if (p.issued_on is None or p.issued_on <= on)
                    and (p.expires_on is None or p.expires_on >= on)]
        expired = [p for p in work if p.expires_on is not None and p.expires_on < on]
        if not in_force:
            found.append("permit_expired" if expired else "no_work_permit")
        typed = sorted((p for p in permits if p.type),
                       key=lambda p: (p.issued_on is not None, p.issued_on or date.min, p.id))
        current = typed[-1].type if typed else placement.visa_type
        if current in VISIT_VISAS:
            found.append("visit_visa")
        listing = session.get(JobListing, placement.listing_id) if placement.listing_id else None
        if listing is None or not (listing.status == APPROVED or (
                listing.status == HELD and listing.status_before_hold == APPROVED)):
            found.append("no_approved_placement")
        if _agency_not_valid_py(session, placement):
            found.append("agency_not_valid")
    if _alerted_py(session, placement):
        found.append("police_alert")
    return found


def _agency_not_valid_py(session: Session, placement: Placement) -> bool:
    if placement.agency_id is None:
        return False
    departed = placement.departed_on or (aware(placement.arrived_at).date()
                                         if placement.arrived_at else None)
    if departed is None:
        return False
    licence = session.scalar(select(Licence).where(Licence.agency_id == placement.agency_id))
    if licence is None:
        return True
    changes = list(session.scalars(select(LicenceChange)
                                   .where(LicenceChange.licence_id == licence.id)
                                   .order_by(LicenceChange.learned_at, LicenceChange.id)))
    if not changes:
        status, expires = licence.status, licence.expires_on
    else:
        before = [c for c in changes if aware(c.learned_at).date() <= departed]
        chosen = before[-1] if before else changes[0]
        status, expires = chosen.new_status, chosen.new_expires_on
    return status != "valid" or (expires is not None and expires < departed)


def _alerted_py(session: Session, placement: Placement) -> bool:
    if placement.agency_id is not None and session.scalar(
            select(PoliceAlert.id).where(PoliceAlert.agency_id == placement.agency_id).limit(1)):
        return True
    agents = set(session.scalars(select(DepartureDeclaration.agent_phone).where(
        DepartureDeclaration.placement_id == placement.id,
        DepartureDeclaration.agent_phone.is_not(None))))
    return bool(agents) and session.scalar(
        select(PoliceAlert.id).where(PoliceAlert.phone.in_(agents)).limit(1)) is not None


__all__ = ["RULES", "computed", "explain", "licence_periods", "recompute",
           "recompute_agency", "recompute_person", "split", "statements"]
