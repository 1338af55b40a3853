"""A case's timeline: one line for each thing that happened to it.

Opened, a message, alerted or escalated, acknowledged, a note, closed: every part of
a case's handling adds its line here, inside the caller's transaction. A line may
keep the ``source_ref`` of what caused it (an SMS, a console form), so a repeat is
recognised (``case_of``, ``seen``) and not acted on twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, CaseEvent


def add(session: Session, case: Case, kind: str, text: str | None, *, now: datetime,
        actor: str = "system", source_ref: str | None = None) -> CaseEvent:
    """Add one line to the case's timeline."""
    row = CaseEvent(case_id=case.id, kind=kind, actor=actor, text=text, at=now,
                    source_ref=source_ref)
    session.add(row)
    return row


def seen(session: Session, source_ref: str) -> bool:
    """Tell whether a line was already written for ``source_ref``."""
    return session.scalar(select(CaseEvent.id).where(CaseEvent.source_ref == source_ref)
                          .limit(1)) is not None


def case_of(session: Session, source_ref: str) -> Case | None:
    """Give the case a line for ``source_ref`` was written on, if any."""
    case_id = session.scalar(select(CaseEvent.case_id).where(CaseEvent.source_ref == source_ref))
    return session.get(Case, case_id) if case_id is not None else None
