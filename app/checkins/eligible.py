"""Who a check-in run reaches: the SQL that finds the placements due a check-in.

A placement is eligible when its person is abroad (``CHECKIN_STATES``) long enough
for a first check-in, has a number and consent, is not paused, is in a country that
is awake, had no check-in in the last ``MIN_GAP`` and has no other SMS dialogue
open. A run reads them by keyset pages (``page_query``), which the page writers in
``app.checkins.pages`` turn into check-ins and SMS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, false, func, or_, select, text
from sqlalchemy.orm import Session

from app.checkins.due import FIRST_AFTER, MIN_GAP, is_waking
from app.models import CheckIn, Contact, Person, Placement, SmsDialogue

CHECKIN_STATES = ("arrived", "employed")
"""Placement states in which a person gets check-ins."""


def plan_small(session: Session) -> None:
    """Keep PostgreSQL from planning a page as if it read the whole table.

    A page is a few thousand index lookups, but its cost estimate (the table, before
    LIMIT) made PostgreSQL start parallel workers and JIT-compile the plan, which cost
    far more than the work itself. ``SET LOCAL`` ends with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        session.execute(text("SET LOCAL jit = off"))


def split_countries(session: Session,
                    moment: datetime) -> tuple[list[str | None], list[str | None]]:
    """Split the destinations of people abroad into those awake and asleep at ``moment``."""
    found = session.scalars(
        select(Placement.country).where(Placement.status.in_(CHECKIN_STATES)).distinct()
    ).all()
    awake = [c for c in found if is_waking(c, moment)]
    return awake, [c for c in found if c not in awake]


def _country_in(countries: Sequence[str | None]):
    named = [c for c in countries if c is not None]
    clauses = [Placement.country.in_(named)] if named else []
    if None in countries:
        clauses.append(Placement.country.is_(None))
    return or_(*clauses) if clauses else false()


def _phone():
    return func.coalesce(Placement.phone, Person.phone)


def abroad(moment: datetime) -> Select:
    """Placements abroad long enough for a first check-in, with their number and language."""
    phone = _phone()
    return (
        select(Placement.id, Placement.arrived_at, Placement.person_id, phone.label("phone"),
               func.coalesce(Contact.lang, Person.lang, "en").label("lang"))
        .select_from(Placement)
        .outerjoin(Person, Person.id == Placement.person_id)
        .outerjoin(Contact, Contact.phone == phone)
        .where(
            Placement.status.in_(CHECKIN_STATES),
            Placement.arrived_at.is_not(None),
            Placement.arrived_at <= moment - FIRST_AFTER,
            phone.is_not(None),
            # No consent, no contact: a person who withdrew is not checked on.
            or_(Placement.person_id.is_(None), Person.status == "active"),
        )
    )


def eligible(moment: datetime, countries: Sequence[str | None]) -> Select:
    """Abroad, not paused, in ``countries``, and with no check-in in the last MIN_GAP."""
    # Scalar subqueries, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join
    # that scans the whole checkins (or dialogues) table for every page when its
    # statistics lag behind a campaign that is filling that table; a scalar subquery
    # stays one index probe per placement.
    last_due = (select(func.max(CheckIn.due_at)).where(CheckIn.placement_id == Placement.id)
                .scalar_subquery())
    open_until = (select(func.max(SmsDialogue.expires_at))
                  .where(SmsDialogue.phone == _phone()).scalar_subquery())
    return abroad(moment).where(
        or_(Contact.checkins_paused.is_(None), Contact.checkins_paused.is_(False)),
        _country_in(countries),
        or_(last_due.is_(None), last_due <= moment - MIN_GAP),
        # A number in another dialogue waits for the next run rather than lose it.
        or_(open_until.is_(None), open_until <= moment),
    )


def page_query(moment: datetime, awake: Sequence[str | None], after: int, size: int) -> Select:
    """One keyset page of eligible placements, each with its latest check-in sequence."""
    latest = (select(func.max(CheckIn.sequence)).where(CheckIn.placement_id == Placement.id)
              .scalar_subquery())
    return (eligible(moment, awake).add_columns(latest.label("latest"))
            .where(Placement.id > after).order_by(Placement.id).limit(size))


def count_of(session: Session, query: Select) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0
