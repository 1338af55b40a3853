"""Escalation jobs: go up a level when a case's clock runs out without an ACK.

Two ways in, both idempotent: the timer job each level enqueues for its due time
(``escalate_case``, on ``critical``), and ``escalate_due`` every minute from the
schedule, which catches any timer Redis lost. Each case is escalated in its own
transaction with its row locked, and a level is told at most once per officer
(the SMS dedupe key ``esc:<case>:<level>:<officer>``), so running both, twice,
or on two workers at once sends nothing twice.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from app.db import aware, utcnow
from app.jobs import Job
from app.models import Case
from app.protection import escalation
from workers import services

log = logging.getLogger(__name__)


def escalate_due(as_of: datetime | str | None = None) -> dict[str, int]:
    """Escalate every open case whose clock has run out by ``as_of`` (default now)."""
    svc = services()
    now = _moment(as_of)
    with svc.db.Session() as session:
        ids = list(session.scalars(
            select(Case.id).where(Case.status == "open", Case.next_escalation_at.is_not(None),
                                  Case.next_escalation_at <= now).order_by(Case.id)))
    counts: dict[str, int] = {}
    for case_id in ids:
        outcome = escalate_case(case_id, as_of=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    if ids:
        log.info("escalate_due: %s", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return counts


def escalate_case(case_id: int, as_of: datetime | str | None = None) -> str:
    """Escalate one case if it is still open and due; say what happened."""
    svc = services()
    now = _moment(as_of)
    try:
        with svc.db.session() as session:
            case = session.get(Case, case_id, with_for_update=True)
            if case is None:
                return "gone"
            outcome = escalation.escalate(session, svc, case, now)
    except IntegrityError:
        # Another worker escalated this case at the same moment and committed first.
        log.info("case %d escalated concurrently elsewhere", case_id)
        return "concurrent"
    if outcome not in ("not_due", "not_open"):
        log.info("case %d: %s", case_id, outcome)
    return outcome


def _moment(as_of: datetime | str | None) -> datetime:
    if as_of is None:
        return utcnow()
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    return aware(as_of)


def pending_timers() -> Select:
    """Select the open cases whose clock is running: each needs a live timer job."""
    return (select(Case.id, Case.escalation_level, Case.next_escalation_at)
            .where(Case.status == "open", Case.next_escalation_at.is_not(None))
            .order_by(Case.id))


def timer_job(row: Any, now: datetime) -> Job:
    """The timer job a running clock needs (for the reconciler): at its due time, or now."""
    due = aware(row.next_escalation_at)
    delay = max(math.ceil((due - now).total_seconds()), 0)
    return escalation.timer_job(row.id, row.escalation_level, due, delay or None)
