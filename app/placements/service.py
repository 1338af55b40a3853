"""Move a placement along its path, keeping each step with its source, time and evidence.

Every source (the person, an agency, immigration, a destination country, staff)
goes through ``transition`` so the rules are the same for all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import aware, utcnow
from app.models.placement import ABROAD_STATES, PLACEMENT_STATES, Placement, PlacementTransition

SOURCES = ("person", "agency", "immigration", "destination", "staff", "system")
"""Who may say a placement moved."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a reported time may be before it is refused."""

OPEN_STATES = PLACEMENT_STATES[:7]
"""States of a placement that has not ended."""


class TransitionError(ValueError):
    """A step that cannot happen: wrong order, a time in the future or before the last."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def allowed(current: str | None, target: str) -> bool:
    """Tell whether a placement in ``current`` may move to ``target``.

    The path only goes forward (a source may skip steps it did not see, e.g. an
    immigration departure for a placement last seen ``contracted``). ``employed``
    repeats on each job change. A person may return from any state abroad.
    """
    if target not in PLACEMENT_STATES:
        return False
    if current is None:
        return True
    if current == "returned":
        return False
    if current == "ended":  # the job ended; the person may still come home
        return target == "returned"
    if target == "employed" and current == "employed":
        return True
    if target == "returned":
        return current in (*ABROAD_STATES, "ended")
    if target == "ended":
        return current in ("arrived", "employed")
    return PLACEMENT_STATES.index(target) > PLACEMENT_STATES.index(current)


def transition(session: Session, placement: Placement, target: str, *, source: str,
               source_ref: str | None = None, evidence: str | None = None,
               occurred_at: datetime | None = None, employer_id: int | None = None,
               now: datetime | None = None) -> PlacementTransition:
    """Record one step of ``placement`` and update its current state and dates."""
    now = now or utcnow()
    when = aware(occurred_at) or now
    if source not in SOURCES:
        raise TransitionError("bad_source", f"unknown source {source!r}")
    if when > now + CLOCK_SKEW:
        raise TransitionError("future_date", "the date is in the future")
    if not allowed(placement.status if placement.id else None, target):
        raise TransitionError(
            "bad_transition", f"a placement cannot go from {placement.status} to {target}"
        )
    last = _last_step(session, placement)
    if last is not None and when < aware(last.occurred_at) - CLOCK_SKEW:
        raise TransitionError("out_of_order", "the date is before the placement's last step")
    step = PlacementTransition(
        placement_id=placement.id, from_status=placement.status if placement.id else None,
        to_status=target, source=source, source_ref=source_ref, evidence=evidence,
        occurred_at=when,
    )
    placement.status = target
    if target == "departed":
        placement.departed_on = when.date()
    elif target == "arrived":
        placement.arrived_at = when
    elif target == "employed" and employer_id is not None:
        placement.employer_id = employer_id
    elif target in ("ended", "returned"):
        placement.ended_at = when
    if placement.id is None:
        session.add(placement)
        session.flush()
        step.placement_id = placement.id
    session.add(step)
    return step


def open_placement(session: Session, *, person_id: int | None = None,
                   phone: str | None = None) -> Placement | None:
    """Give the person's most recent placement that has not ended, if any."""
    query = select(Placement).where(Placement.status.in_(OPEN_STATES))
    if person_id is not None:
        query = query.where(Placement.person_id == person_id)
    elif phone is not None:
        query = query.where(Placement.phone == phone)
    else:
        return None
    return session.scalar(query.order_by(Placement.id.desc()).limit(1))


def _last_step(session: Session, placement: Placement) -> PlacementTransition | None:
    if placement.id is None:
        return None
    return session.scalar(
        select(PlacementTransition)
        .where(PlacementTransition.placement_id == placement.id)
        .order_by(PlacementTransition.occurred_at.desc(), PlacementTransition.id.desc())
        .limit(1)
    )
