"""Silence after a check-in: missed check-ins, and a ``2`` that never said what was wrong.

A check-in unanswered ``REPLY_WINDOW`` after it went out, or by the time the next
one went out, is ``missed``. The second missed in a row opens a ``normal`` case
for follow-up; later misses of the same streak join that case instead of opening
more. A ``2`` whose problem menu went unanswered for ``PROBLEM_GRACE`` opens a case
too: someone who said they have a problem must not be dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session, aliased

from app.checkins.due import parse_as_of
from app.checkins.replies import REF_PREFIX, REPLY_WINDOW, open_checkin_case
from app.extensions import Services
from app.keywords import reply_language
from app.models import CheckIn, SmsDialogue

log = logging.getLogger(__name__)

PROBLEM_GRACE = timedelta(hours=2)
"""How long a ``2`` may wait for its kind of problem before a case is opened anyway."""

CHUNK = 500
"""Check-ins handled per transaction."""

MISSED_TEXT = "Two check-ins in a row unanswered; please follow up"
UNFINISHED_TEXT = "Check-in reply 2 (a problem), but did not say which"


def mark_missed(svc: Services, as_of: str | datetime | None = None) -> dict[str, int]:
    """Mark silent check-ins missed and open the follow-up cases; give counts."""
    moment = parse_as_of(as_of)
    counts = {"missed": 0, "cases": 0, "joined": 0, "unfinished_problems": 0}
    last_id = 0
    while True:
        with svc.db.session() as session:
            rows = session.scalars(
                _missable(moment).where(CheckIn.id > last_id).order_by(CheckIn.id).limit(CHUNK)
            ).all()
            if not rows:
                break
            _mark(svc, session, rows, counts)
            last_id = rows[-1].id
    counts["unfinished_problems"] = _unfinished(svc, moment)
    log.info("check-ins missed: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _missable(moment: datetime):
    later = aliased(CheckIn)
    newer = exists().where(later.placement_id == CheckIn.placement_id,
                           later.sequence > CheckIn.sequence)
    return select(CheckIn).where(
        CheckIn.status == "sent",
        or_(CheckIn.sent_at <= moment - REPLY_WINDOW, newer),
    )


def _mark(svc: Services, session: Session, rows: list[CheckIn], counts: dict[str, int]) -> None:
    """Mark ``rows`` missed, in order, opening or joining each streak's case."""
    history: dict[int, list[CheckIn]] = {}
    for checkin in session.scalars(
        select(CheckIn)
        .where(CheckIn.placement_id.in_({r.placement_id for r in rows}))
        .order_by(CheckIn.placement_id, CheckIn.sequence)
    ):
        history.setdefault(checkin.placement_id, []).append(checkin)
    for checkin in rows:
        checkin.status = "missed"
        counts["missed"] += 1
        earlier = [c for c in history[checkin.placement_id] if c.sequence < checkin.sequence]
        previous = earlier[-1] if earlier else None
        if previous is None or previous.status != "missed":
            continue
        if previous.case_id is not None:
            checkin.case_id = previous.case_id  # the streak already has its follow-up case
            counts["joined"] += 1
            continue
        open_checkin_case(
            session, svc, checkin, answer="missed", severity="normal", category="other",
            lang=reply_language(session, checkin.phone), text=MISSED_TEXT,
            source_ref=f"{REF_PREFIX}-missed:{checkin.id}",
        )
        counts["cases"] += 1


def _unfinished(svc: Services, moment: datetime) -> int:
    """Open a case for each ``2`` left without its kind of problem; give how many."""
    opened = 0
    while True:
        with svc.db.session() as session:
            rows = session.scalars(
                select(CheckIn)
                .where(CheckIn.answer == "2", CheckIn.case_id.is_(None),
                       CheckIn.answered_at < moment - PROBLEM_GRACE)
                .order_by(CheckIn.id).limit(CHUNK)
            ).all()
            if not rows:
                return opened
            for checkin in rows:
                _close_problem_dialogue(session, checkin)
                open_checkin_case(
                    session, svc, checkin, answer="2", category="other",
                    lang=reply_language(session, checkin.phone), text=UNFINISHED_TEXT,
                    source_ref=f"{REF_PREFIX}:{checkin.id}:2:unfinished",
                )
                opened += 1


def _close_problem_dialogue(session: Session, checkin: CheckIn) -> None:
    """Close the check-in's problem menu, so a late choice cannot open a second case."""
    ref = f"{REF_PREFIX}:{checkin.id}"
    session.execute(delete(SmsDialogue).where(
        SmsDialogue.phone == checkin.phone,
        or_(SmsDialogue.ref == ref, SmsDialogue.ref.startswith(ref + ":")),
    ))

