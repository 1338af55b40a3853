"""app/drafts.py: one reminder per unfinished registration, in the person's language."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.db import utcnow
from app.drafts import send_reminder
from app.i18n import translate
from app.jobs import Job
from app.models import Contact, Message, Person, RegistrationDraft

A = "+254712345678"
CODE = "*384*2026#"


def draft(svc, lang: str | None = "sw", phone: str = A, **values) -> int:
    state = {"screen": "reg.name", "data": {}, "history": []}
    if lang:
        state["lang"] = lang
    with svc.db.session() as session:
        row = RegistrationDraft(phone=phone, session_id="ATUid_1",
                                state_enc=svc.cipher.encrypt(json.dumps(state)), **values)
        session.add(row)
        session.flush()
        return row.id


def reminders(svc) -> list[Message]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Message).where(Message.kind == "reg_reminder")))


def enqueue(svc, draft_id: int, job_id: str | None) -> None:
    svc.enqueue(Job("workers.reminders.send_registration_reminder", (draft_id,),
                    job_id=job_id))


def test_reminder_is_sent_once_even_if_the_job_runs_twice(svc, at_api, work) -> None:
    draft_id = draft(svc, lang="sw")
    enqueue(svc, draft_id, f"remind:{draft_id}")
    enqueue(svc, draft_id, None)  # a second job, e.g. from a second dropped session

    work()
    assert send_reminder(svc, draft_id) is False
    work()

    [(number, body, _)] = at_api.sent
    assert number == A
    assert body == translate("sw", "sms.reg_reminder", service_code=CODE)
    assert body != translate("en", "sms.reg_reminder", service_code=CODE)
    [message] = reminders(svc)
    assert message.dedupe_key == f"reminder:{draft_id}" and message.status == "sent"
    with svc.db.Session() as session:
        assert session.get(RegistrationDraft, draft_id).reminded_at is not None


def test_contact_language_wins_over_the_draft(svc, at_api, work) -> None:
    with svc.db.session() as session:
        session.add(Contact(phone=A, lang="en"))
    draft_id = draft(svc, lang="sw")

    assert send_reminder(svc, draft_id) is True
    work()

    [(_, body, _)] = at_api.sent
    assert body == translate("en", "sms.reg_reminder", service_code=CODE)


def test_draft_without_language_is_reminded_in_english(svc) -> None:
    draft_id = draft(svc, lang=None)

    assert send_reminder(svc, draft_id) is True

    [message] = reminders(svc)
    assert message.body == translate("en", "sms.reg_reminder", service_code=CODE)


def test_completed_draft_is_not_reminded(svc, at_api, work) -> None:
    draft_id = draft(svc, completed_at=utcnow())

    assert send_reminder(svc, draft_id) is False
    work()

    assert reminders(svc) == [] and at_api.sent == []


def test_registered_number_is_not_reminded(svc, at_api) -> None:
    draft_id = draft(svc)
    with svc.db.session() as session:
        session.add(Person(phone=A, full_name="Amina Otieno", lang="sw", consent_version="v1",
                           consent_channel="ussd", consent_at=utcnow(), status="active"))

    assert send_reminder(svc, draft_id) is False

    assert reminders(svc) == []
    with svc.db.Session() as session:
        assert session.get(RegistrationDraft, draft_id).reminded_at is None


def test_missing_draft_is_ignored(svc) -> None:
    assert send_reminder(svc, 424242) is False
    assert reminders(svc) == []


def test_reconciler_sends_an_owed_reminder_whose_job_was_lost(svc, work, at_api):
    """Redis emptied after a hang-up: the reconciler finds the draft and reminds once."""
    from datetime import timedelta

    from app.db import utcnow
    from app.models import RegistrationDraft
    from app.reconcile import reconcile

    with svc.db.session() as session:
        session.add(RegistrationDraft(
            phone="+254712345678", session_id="s-lost",
            state_enc=svc.cipher.encrypt('{"lang": "en"}'),
            updated_at=utcnow() - timedelta(hours=2),
        ))
    svc.redis.flushdb()
    assert reconcile(svc)["reminders"] == 1
    work()
    assert reconcile(svc)["reminders"] == 0
    assert [number for number, _body, _id in at_api.sent] == ["+254712345678"]
