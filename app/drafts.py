"""Cut-off registrations: kept as a draft, offered again on the next dial, reminded once.

When AT reports a USSD session ended ``Incomplete`` in the middle of a registration,
the state kept for resuming it is sealed into a ``RegistrationDraft`` (Fernet with
the rotating PII keys: drafts live for days in SQL), and one reminder SMS is asked
for ``REMINDER_DELAY_SECONDS`` later. The next dial from that number opens the
draft and offers to continue (``app.ussd``). The reconciler re-enqueues a reminder
whose delayed job Redis lost (``owed_reminders``).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from app.db import defer, utcnow
from app.extensions import Services
from app.i18n import translate
from app.jobs import Job
from app.models import Contact, Person, RegistrationDraft
from app.sms.outbox import queue_sms
from menus.main import RESUMABLE

log = logging.getLogger(__name__)

REMINDER_JOB = "workers.reminders.send_registration_reminder"
"""The job that sends a draft's one reminder, by draft id."""


def reminder_job(draft_id: int, delay: int | None = None) -> Job:
    """The one reminder of a draft, named after it so it is enqueued at most once."""
    return Job(REMINDER_JOB, (draft_id,), job_id=f"remind:{draft_id}", delay=delay)


def keep(svc: Services, session: Session, session_id: str, phone: str,
         saved: dict[str, Any] | None) -> None:
    """Keep a registration the session cut off as the number's draft; ask for its reminder.

    ``saved`` is the session's resume state; anything but a registration in progress
    is not kept.
    """
    if not saved or saved.get("screen") not in RESUMABLE:
        return
    sealed = svc.cipher.encrypt(json.dumps(saved, separators=(",", ":")))
    draft = session.scalar(select(RegistrationDraft).where(RegistrationDraft.phone == phone))
    if draft is None:
        draft = RegistrationDraft(phone=phone, session_id=session_id, state_enc=sealed)
        session.add(draft)
    else:
        draft.session_id, draft.state_enc, draft.updated_at = session_id, sealed, utcnow()
        draft.completed_at = None
    session.flush()
    # One reminder per draft: the job id is the draft's, and the job itself only
    # sends while ``reminded_at`` is empty.
    defer(session, reminder_job(draft.id, svc.config["REMINDER_DELAY_SECONDS"]))


def open_draft(svc: Services, sealed: bytes) -> dict[str, Any] | None:
    """Give a draft's saved state, or None if no key opens it (rotated away, corrupt)."""
    try:
        return json.loads(svc.cipher.decrypt(sealed))
    except ValueError:
        return None


def send_reminder(svc: Services, draft_id: int) -> bool:
    """Queue the one reminder SMS for an unfinished draft; tell whether it was queued now."""
    with svc.db.session() as session:
        draft = session.get(RegistrationDraft, draft_id)
        if draft is None or draft.completed_at is not None or draft.reminded_at is not None:
            log.info("draft %d: no reminder (gone, completed or already reminded)", draft_id)
            return False
        registered = session.scalar(
            select(Person.id).where(Person.phone == draft.phone, Person.status == "active")
            .limit(1)
        )
        if registered is not None:
            log.info("draft %d: no reminder, the number is registered", draft_id)
            return False
        # The conditional UPDATE is the claim: of two runs, only one changes the row.
        # The SMS is queued in the same transaction, so a failed run claims nothing.
        claimed = session.execute(
            update(RegistrationDraft)
            .where(RegistrationDraft.id == draft_id, RegistrationDraft.reminded_at.is_(None),
                   RegistrationDraft.completed_at.is_(None))
            .values(reminded_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return False
        lang = _language(svc, session, draft)
        body = translate(lang, "sms.reg_reminder", service_code=svc.config["USSD_SERVICE_CODE"])
        message = queue_sms(session, draft.phone, body, kind="reg_reminder",
                            dedupe_key=f"reminder:{draft.id}")
    log.info("draft %d: reminder queued as sms %d", draft_id, message.id)
    return True


def owed_reminders(svc: Services, now: datetime) -> Select:
    """Select the drafts whose reminder is due and not yet sent: each needs a live job."""
    due_before = now - timedelta(seconds=svc.config["REMINDER_DELAY_SECONDS"])
    return (
        select(RegistrationDraft.id)
        .where(RegistrationDraft.completed_at.is_(None), RegistrationDraft.reminded_at.is_(None),
               RegistrationDraft.updated_at <= due_before)
        .order_by(RegistrationDraft.id)
    )


def _language(svc: Services, session: Session, draft: RegistrationDraft) -> str:
    """Give the number's language: its Contact's, else the one chosen in the draft."""
    lang = session.scalar(select(Contact.lang).where(Contact.phone == draft.phone))
    if lang:
        return lang
    state = open_draft(svc, draft.state_enc)
    if state is None:
        # A rotated-out key or a corrupt draft: still remind, in the default language.
        log.warning("draft %d: state unreadable; reminding in English", draft.id)
        return "en"
    return (state.get("lang") if isinstance(state, dict) else None) or "en"
