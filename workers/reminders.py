"""Remind a person, once, to finish a registration their USSD session cut off."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.extensions import Services
from app.i18n import translate
from app.models import Contact, Person, RegistrationDraft
from app.sms.outbox import queue_sms
from workers import services

log = logging.getLogger(__name__)


def send_registration_reminder(draft_id: int) -> bool:
    """Queue the one reminder SMS for an unfinished draft; tell whether it was queued now."""
    svc = services()
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


def _language(svc: Services, session: Session, draft: RegistrationDraft) -> str:
    """Give the number's language: its Contact's, else the one chosen in the draft."""
    lang = session.scalar(select(Contact.lang).where(Contact.phone == draft.phone))
    if lang:
        return lang
    try:
        state = json.loads(svc.cipher.decrypt(draft.state_enc))
    except ValueError:
        # A rotated-out key or a corrupt draft: still remind, in the default language.
        log.warning("draft %d: state unreadable; reminding in English", draft.id)
        return "en"
    return (state.get("lang") if isinstance(state, dict) else None) or "en"
