"""app/reconcile.py: whatever Redis loses is re-enqueued from SQL, and sent once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from app.db import utcnow
from app.models import InboundSms, Message
from app.reconcile import reconcile
from app.sms.outbox import queue_sms

A = "+254712345678"
LATER = timedelta(seconds=31)


def queue(svc, body: str = "Habari", on: str = "default") -> int:
    with svc.db.session() as session:
        message = queue_sms(session, A, body, kind="test", queue=on,
                            dedupe_key=f"test:{uuid.uuid4().hex}")
    return message.id


def load(svc, message_id: int) -> Message:
    with svc.db.Session() as session:
        return session.get(Message, message_id)


def set_row(svc, message_id: int, **values) -> None:
    with svc.db.session() as session:
        session.execute(update(Message).where(Message.id == message_id).values(**values))


def incoming(client, at_id: str, text: str = "hello") -> None:
    response = client.post("/sms/incoming", data={
        "from": A, "to": "22384", "text": text, "date": "2026-11-24 10:00:00", "id": at_id,
        "linkId": "", "networkCode": "63902", "cost": "KES 0.0000",
    })
    assert response.status_code == 200


def test_pending_message_is_sent_once_after_redis_is_emptied(svc, at_api, work) -> None:
    message_id = queue(svc)
    svc.redis.flushdb()  # the job is gone; the row is still pending in SQL
    assert work() == 0

    assert reconcile(svc)["messages"] == 1
    work()

    assert load(svc, message_id).status == "sent"
    assert reconcile(svc)["messages"] == 0
    work(scheduled=True)
    assert len(at_api.sent) == 1


def test_live_job_is_not_enqueued_again(svc, at_api, work) -> None:
    queue(svc)

    assert reconcile(svc)["messages"] == 0  # its job is still queued
    assert svc.queues["default"].count == 1
    work()
    assert len(at_api.sent) == 1


def test_message_waiting_for_its_retry_time_is_left_alone(svc, at_api, work) -> None:
    message_id = queue(svc)
    svc.redis.flushdb()
    set_row(svc, message_id, next_attempt_at=utcnow() + timedelta(minutes=5))

    assert reconcile(svc)["messages"] == 0
    assert reconcile(svc, now=utcnow() + timedelta(minutes=6))["messages"] == 1
    work()
    assert load(svc, message_id).status == "sent"


def test_message_stuck_in_sending_is_put_back_and_sent(svc, at_api, work) -> None:
    message_id = queue(svc)
    svc.redis.flushdb()
    # A worker claimed it and died before sending.
    set_row(svc, message_id, status="sending", attempts=1,
            updated_at=utcnow() - timedelta(minutes=11))

    counts = reconcile(svc)

    assert (counts["stuck_reset"], counts["messages"]) == (1, 1)
    assert load(svc, message_id).status == "pending"
    work()
    message = load(svc, message_id)
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(at_api.sent) == 1


def test_message_sending_recently_is_not_touched(svc, at_api, work) -> None:
    message_id = queue(svc)
    svc.redis.flushdb()
    set_row(svc, message_id, status="sending", attempts=1,
            updated_at=utcnow() - timedelta(minutes=2))

    assert reconcile(svc) == {"spooled_inbound": 0, "stuck_failed": 0,
                              "stuck_reset": 0, "messages": 0, "inbound": 0, "escalations": 0,
                              "reminders": 0}
    assert load(svc, message_id).status == "sending"
    assert at_api.requests == []


def test_stuck_message_out_of_attempts_fails_visibly(app, svc, at_api) -> None:
    message_id = queue(svc)
    svc.redis.flushdb()
    set_row(svc, message_id, status="sending", attempts=app.config["SMS_MAX_ATTEMPTS"],
            updated_at=utcnow() - timedelta(minutes=30))

    counts = reconcile(svc)

    assert (counts["stuck_failed"], counts["stuck_reset"], counts["messages"]) == (1, 0, 0)
    message = load(svc, message_id)
    assert message.status == "failed"
    assert message.failure_reason == (
        f"gave up after {app.config['SMS_MAX_ATTEMPTS']} attempts: worker stopped while sending"
    )


def test_incoming_sms_is_handled_once_after_redis_is_emptied(client, svc, at_api, work) -> None:
    incoming(client, "ATXid_lost")
    svc.redis.flushdb()  # Redis lost the job after the callback answered 200
    assert work() == 0

    assert reconcile(svc)["inbound"] == 0  # younger than 30 s: its job may still be coming
    assert reconcile(svc, now=utcnow() + LATER)["inbound"] == 1
    work()

    with svc.db.Session() as session:
        inbound = session.scalar(select(InboundSms))
        assert inbound.processed_at is not None and inbound.route == "unknown"
    assert len(at_api.sent) == 1
    assert reconcile(svc, now=utcnow() + LATER) == {
        "spooled_inbound": 0, "stuck_failed": 0, "stuck_reset": 0,
        "messages": 0, "inbound": 0, "escalations": 0, "reminders": 0,
    }
    work(scheduled=True)
    assert len(at_api.sent) == 1


def test_large_backlog_is_streamed_and_counted(svc) -> None:
    with svc.db.session() as session:
        session.add_all(
            Message(to_phone=A, body="x", kind="test", queue="bulk", status="pending",
                    attempts=0, dedupe_key=f"bulk:{n}")
            for n in range(1203)
        )

    assert reconcile(svc)["messages"] == 1203
    assert svc.queues["bulk"].count == 1203
    assert reconcile(svc)["messages"] == 0  # all still queued
    assert svc.queues["bulk"].count == 1203
    with svc.db.Session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1203
