"""Queue outbound SMS: a Message row first, the send job only after commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db import defer, dialect_insert, utcnow
from app.jobs import Job
from app.models.message import PENDING, Message

SEND_JOB = "workers.sms.send_message"
"""The job that sends one Message by id."""


def send_retry():
    """Give the send job's RQ retry policy (1 run + 5 retries = SMS_MAX_ATTEMPTS)."""
    from workers.sms import RETRY_POLICY

    return RETRY_POLICY


def send_job(message_id: int, queue: str = "default") -> Job:
    """The job that sends one Message, named after it so it is enqueued at most once."""
    return Job(SEND_JOB, (message_id,), queue=queue, job_id=f"sms:{message_id}",
               retry=send_retry())


def queue_sms(session: Session, to_phone: str, body: str, *, kind: str, dedupe_key: str,
              queue: str = "default", person_id: int | None = None) -> Message:
    """Store an outbound SMS and ask for its send job after commit; dedupe on the key.

    One statement: ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``. A
    key seen before (now or in a concurrent transaction) gives the existing row.
    """
    now = utcnow()
    values = dict(to_phone=to_phone, body=body, kind=kind, queue=queue, dedupe_key=dedupe_key,
                  person_id=person_id, status=PENDING, attempts=0, created_at=now,
                  updated_at=now)
    insert = dialect_insert(session, Message).values(**values)
    new_id = session.scalar(
        insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Message.id)
    )
    if new_id is None:
        return session.scalars(select(Message).where(Message.dedupe_key == dedupe_key)).one()
    # The row is known (we just wrote every column): attach it without reading it back.
    message = Message(id=new_id, **values)
    make_transient_to_detached(message)
    session.add(message)
    defer(session, send_job(new_id, queue))
    return message
