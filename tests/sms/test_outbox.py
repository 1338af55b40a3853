"""app/sms/outbox.py: each message sent once through the real SDK, retried, or failed visibly."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.db import aware, utcnow
from app.jobs import Job
from app.models import Message
from app.sms.outbox import (
    RETRY_INTERVALS,
    RETRY_POLICY,
    queue_sms,
    retry_delay,
    send,
    send_batch,
)

A, B, C, D = "+254712345678", "+254722000111", "+254733000222", "+966501234567"


def queue(svc, body: str = "Habari", to: str = A, on: str = "default") -> int:
    """Queue an SMS the way the app does (row first, job after commit)."""
    with svc.db.session() as session:
        message = queue_sms(session, to, body, kind="test", queue=on,
                            dedupe_key=f"test:{uuid.uuid4().hex}")
    return message.id


def add_rows(svc, *rows: tuple[str, str]) -> list[int]:
    """Store pending messages with no send job, as a campaign does before its batch job."""
    with svc.db.session() as session:
        messages = [
            Message(to_phone=to, body=body, kind="campaign", queue="bulk", status="pending",
                    attempts=0, dedupe_key=f"test:{uuid.uuid4().hex}")
            for to, body in rows
        ]
        session.add_all(messages)
        session.flush()
        return [m.id for m in messages]


def load(svc, message_id: int) -> Message:
    with svc.db.Session() as session:
        return session.get(Message, message_id)


def test_sends_once_and_keeps_at_message_id(svc, at_api, work) -> None:
    message_id = queue(svc, "Habari yako")

    assert work() == 1

    [(number, body, at_id)] = at_api.sent
    assert (number, body) == (A, "Habari yako")
    message = load(svc, message_id)
    assert message.status == "sent"
    assert message.at_message_id == at_id
    assert (message.status_code, message.cost, message.attempts) == (101, "KES 0.8000", 1)
    assert message.failure_reason is None and message.next_attempt_at is None
    assert utcnow() - aware(message.sent_at) < timedelta(minutes=1)
    [request] = at_api.requests
    assert request["enqueue"] is None and request["from"] is None


def test_running_the_job_twice_sends_once(svc, at_api, work) -> None:
    message_id = queue(svc)
    work()
    at_id = load(svc, message_id).at_message_id

    svc.enqueue(Job("workers.sms.send_message", (message_id,), job_id=f"sms:{message_id}"))
    assert work() == 1
    assert send(svc, message_id) == "skipped"

    assert len(at_api.requests) == 1
    message = load(svc, message_id)
    assert (message.attempts, message.at_message_id) == (1, at_id)


def test_message_being_sent_elsewhere_is_left_alone(svc, at_api) -> None:
    [message_id] = add_rows(svc, (A, "x"))
    with svc.db.session() as session:
        session.get(Message, message_id).status = "sending"

    assert send(svc, message_id) == "skipped"
    assert send(svc, 987654) == "skipped"
    assert at_api.requests == []


def test_sender_id_and_campaign_enqueue_flag(app, svc, at_api, work) -> None:
    app.config["AT_SENDER_ID"] = "KAZISALAMA"
    queue(svc, "one", on="default")
    queue(svc, "two", on="bulk")

    work()

    by_body = {r["message"]: r for r in at_api.requests}
    assert by_body["one"]["from"] == by_body["two"]["from"] == "KAZISALAMA"
    assert (by_body["one"]["enqueue"], by_body["two"]["enqueue"]) == (None, "1")


def test_permanent_failure_is_recorded_with_reason(svc, at_api, work) -> None:
    at_api.set_status(A, 403, "InvalidPhoneNumber")
    message_id = queue(svc)

    work()
    work(scheduled=True)

    message = load(svc, message_id)
    assert (message.status, message.status_code) == ("failed", 403)
    assert message.failure_reason == "InvalidPhoneNumber"
    assert message.at_message_id is None and message.sent_at is None
    assert len(at_api.requests) == 1  # a permanent failure is not retried
    assert at_api.sent == []


@pytest.mark.parametrize(("code", "status"), [(405, "InsufficientBalance"),
                                              (500, "InternalServerError")])
def test_retryable_status_goes_back_to_pending_then_sends(svc, at_api, work, code, status) -> None:
    at_api.set_status(A, code, status, times=1)
    message_id = queue(svc)

    work()

    message = load(svc, message_id)
    assert (message.status, message.attempts, message.status_code) == ("pending", 1, code)
    assert message.failure_reason == status
    wait = aware(message.next_attempt_at) - utcnow()
    assert timedelta(seconds=RETRY_INTERVALS[0] - 5) < wait <= timedelta(seconds=RETRY_INTERVALS[0])
    assert ScheduledJobRegistry(queue=svc.queues["default"]).count == 1
    assert at_api.sent == []

    work(scheduled=True)

    message = load(svc, message_id)
    assert (message.status, message.attempts, message.status_code) == ("sent", 2, 101)
    assert message.failure_reason is None and message.next_attempt_at is None
    assert len(at_api.sent) == 1


def test_http_500_from_at_is_retried_until_sent(svc, at_api, work) -> None:
    at_api.fail_next(2, http_status=500)
    message_id = queue(svc)

    work()
    message = load(svc, message_id)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.failure_reason.startswith("AT error reply")
    work(scheduled=True)
    assert load(svc, message_id).status == "pending"
    work(scheduled=True)

    message = load(svc, message_id)
    assert (message.status, message.attempts) == ("sent", 3)
    assert len(at_api.requests) == 3 and len(at_api.sent) == 1


def test_gives_up_after_max_attempts_and_stays_visible(app, svc, at_api, work) -> None:
    app.config["SMS_MAX_ATTEMPTS"] = 3
    at_api.set_status(A, 502, "RejectedByGateway")
    message_id = queue(svc)

    for _ in range(5):
        work(scheduled=True)

    message = load(svc, message_id)
    assert message.status == "failed"
    assert message.attempts == 3
    assert message.failure_reason == "gave up after 3 attempts: RejectedByGateway"
    assert len(at_api.requests) == 3
    # Giving up is an outcome, not a crash: the job finished and nothing is scheduled.
    queue_ = svc.queues["default"]
    assert queue_.failed_job_registry.count == 0
    assert ScheduledJobRegistry(queue=queue_).count == 0
    with svc.db.Session() as session:
        visible = session.scalars(select(Message.id).where(Message.status == "failed")).all()
    assert visible == [message_id]


def test_batch_sends_one_request_per_body_with_several_recipients(svc, at_api, work) -> None:
    at_api.set_status(C, 403, "InvalidPhoneNumber")
    ids = add_rows(svc, (A, "Check in: reply 1"), (B, "Check in: reply 1"),
                   (C, "Check in: reply 1"), (D, "Angalia: jibu 1"))

    svc.enqueue(Job("workers.sms.send_batch", (ids,), queue="bulk", job_id="batch:test"))
    assert work() == 1

    assert len(at_api.requests) == 2
    by_body = {r["message"]: r for r in at_api.requests}
    assert by_body["Check in: reply 1"]["to"] == [A, B, C]
    assert by_body["Angalia: jibu 1"]["to"] == [D]
    assert all(r["enqueue"] == "1" for r in at_api.requests)
    at_ids = {number: at_id for number, _, at_id in at_api.sent}
    rows = [load(svc, i) for i in ids]
    assert [r.status for r in rows] == ["sent", "sent", "failed", "sent"]
    assert [r.at_message_id for r in rows] == [at_ids[A], at_ids[B], None, at_ids[D]]
    assert rows[2].failure_reason == "InvalidPhoneNumber"

    assert send_batch(svc, ids) == {"sent": 0, "failed": 0, "retry": 0, "skipped": 4}
    assert len(at_api.requests) == 2


def test_batch_retries_only_the_recipients_to_retry(svc, at_api, work) -> None:
    at_api.set_status(B, 405, "InsufficientBalance", times=1)
    ids = add_rows(svc, (A, "hello"), (B, "hello"), (C, "hello"))
    svc.enqueue(Job("workers.sms.send_batch", (ids,), queue="bulk", job_id="batch:retry",
                    retry=RETRY_POLICY))

    work()
    assert [load(svc, i).status for i in ids] == ["sent", "pending", "sent"]
    work(scheduled=True)

    assert [r["to"] for r in at_api.requests] == [[A, B, C], [B]]
    assert [load(svc, i).status for i in ids] == ["sent", "sent", "sent"]
    assert [load(svc, i).attempts for i in ids] == [1, 2, 1]


def test_batch_splits_large_groups_into_requests_of_batch_size(app, svc, at_api) -> None:
    app.config["SMS_BATCH_SIZE"] = 2
    ids = add_rows(svc, (A, "same"), (B, "same"), (C, "same"))

    assert send_batch(svc, ids)["sent"] == 3

    assert [r["to"] for r in at_api.requests] == [[A, B], [C]]


def test_logs_carry_ids_not_numbers_or_bodies(svc, at_api, work, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="app.sms")
    at_api.set_status(B, 405, "InsufficientBalance", times=1)
    queue(svc, "Siri ya mtu", to=A)
    queue(svc, "Siri ya mtu", to=B)
    ids = add_rows(svc, (C, "Siri ya kampeni"))
    send_batch(svc, ids)
    work(scheduled=True)
    work(scheduled=True)

    logged = [r.getMessage() for r in caplog.records if r.name.startswith("app.sms")]
    assert any(f"sms {ids[0]} sent" in line for line in logged)
    for line in logged:
        for secret in (A, B, C, A[1:], B[1:], C[1:], "Siri"):
            assert secret not in line


def test_a_batch_logs_one_info_line_and_a_lone_send_its_own(svc, at_api, caplog) -> None:
    caplog.set_level(logging.INFO, logger="app.sms")
    ids = add_rows(svc, (A, "same"), (B, "same"), (C, "same"))
    [lone] = add_rows(svc, (A, "alone"))

    send_batch(svc, ids)
    send(svc, lone)

    info = [r.getMessage() for r in caplog.records
            if r.name == "app.sms.outbox" and r.levelno == logging.INFO]
    assert info == ["sms batch of 3: 3 sent, 0 failed, 0 to retry, 0 not pending, "
                    "1 request group(s)", f"sms {lone} sent (attempt 1)"]


def test_retry_delay_follows_the_rq_intervals() -> None:
    assert [retry_delay(n) for n in range(1, 8)] == [10, 30, 120, 600, 1800, 1800, 1800]
    assert RETRY_POLICY.max == len(RETRY_INTERVALS)
    assert RETRY_POLICY.intervals == list(RETRY_INTERVALS)


def test_a_redis_stall_at_commit_costs_no_send_job(svc, at_api, work) -> None:
    """Redis stops answering for longer than the client's timeout just as the jobs go in.

    ``CLIENT PAUSE`` holds every write for 2.5 s: the first enqueue times out (2 s),
    its second try goes through, and the jobs after it are not dropped.
    """
    admin = Redis.from_url(svc.config["REDIS_URL"])  # its own connection, not paused
    with svc.db.session() as session:
        ids = [queue_sms(session, to, f"Ujumbe {n}", kind="test", queue="critical",
                         dedupe_key=f"stall:{n}").id for n, to in enumerate((A, B, C))]
        admin.execute_command("CLIENT", "PAUSE", 2500, "WRITE")
    admin.close()

    assert work() == 3
    assert sorted(number for number, _, _ in at_api.sent) == sorted((A, B, C))
    assert {load(svc, i).status for i in ids} == {"sent"}
