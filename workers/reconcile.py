"""Re-enqueue from SQL whatever Redis lost, so emptying Redis loses nothing.

SQL is the truth: a Message still ``pending`` or an InboundSms not yet processed
needs a job, whether or not Redis still holds one. The scheduler runs
``reconcile()`` every minute; jobs keep the ids of the code paths that first
enqueued them, so a job that is still queued, scheduled or running is left alone.

The one window where an SMS can go out twice: a worker killed (OOM, deploy, host
loss) after AT accepted a message but before the worker recorded ``sent`` leaves
the row in ``sending``. We cannot ask AT whether it took the message (its API has
no idempotency key and no lookup by our id), so after ``STUCK_AFTER`` we put the
row back to ``pending`` and send again. We accept a rare duplicate because the
other choice, never sending, can silently drop a distress reply or an escalation.
``STUCK_AFTER`` is far longer than a send job may run (RQ's timeout, and the SDK's
~12 s HTTP timeout), so a live worker is never overtaken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from rq.job import Job
from sqlalchemy import Select, bindparam, or_, select, update

from app.checkins import campaign as checkins
from app.db import utcnow
from app.extensions import LIVE, QUEUES, Services, default_retry
from app.messages import SEND_JOB, job_id_for
from app.models import InboundSms, Message, RegistrationDraft
from app.models.message import FAILED, PENDING, SENDING
from app.sms_callbacks import INBOUND_JOB, drain_spool, inbound_job_id
from app.ussd import REMINDER_JOB
from workers import escalation, services
from workers.sms import REASON_MAX, RETRY_POLICY

log = logging.getLogger(__name__)

CHUNK = 500
"""Rows read from SQL (and job ids checked in Redis) per round trip."""

STUCK_AFTER = timedelta(minutes=10)
"""A message ``sending`` this long belongs to a dead worker."""

INBOUND_GRACE = timedelta(seconds=30)
"""An incoming SMS unprocessed this long has lost its job (normally it takes < 1 s)."""

_messages = Message.__table__


def reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue every job SQL says is owed; give counts of what was done."""
    svc = services()
    now = now or utcnow()
    # SMS that arrived while the database was down: into SQL first (they get their
    # handling jobs on commit), before anything else is counted.
    spooled = drain_spool(svc)
    stuck_failed, stuck_reset = _release_stuck(svc, now)
    due = (
        select(Message.id, Message.queue)
        .where(Message.status == PENDING,
               or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
               # Check-in SMS go out in their batches (below), not one job each.
               Message.kind != checkins.KIND)
        .order_by(Message.id)
    )
    unprocessed = (
        select(InboundSms.id)
        .where(InboundSms.processed_at.is_(None), InboundSms.received_at <= now - INBOUND_GRACE)
        .order_by(InboundSms.id)
    )
    counts = {
        "spooled_inbound": spooled,
        "stuck_failed": stuck_failed,
        "stuck_reset": stuck_reset,
        # Send jobs re-enqueued; a check-in batch (many messages, one job) counts once.
        "messages": _requeue(svc, due, _send_job) + checkins.requeue_batches(svc, now),
        "inbound": _requeue(svc, unprocessed, _inbound_job),
        # Escalation clocks still running: their timer jobs (issue 4).
        "escalations": _requeue(svc, escalation.pending_timers(),
                                lambda row: escalation.timer_job(row, now)),
        # Cut-off registrations owed their one reminder (the delayed job may be lost).
        "reminders": _requeue(svc, _owed_reminders(svc, now), _reminder_job),
    }
    log.info("reconcile: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _owed_reminders(svc: Services, now: datetime):
    """Select drafts whose reminder is due and not yet sent."""
    due_before = now - timedelta(seconds=svc.config["REMINDER_DELAY_SECONDS"])
    return (
        select(RegistrationDraft.id)
        .where(RegistrationDraft.completed_at.is_(None), RegistrationDraft.reminded_at.is_(None),
               RegistrationDraft.updated_at <= due_before)
        .order_by(RegistrationDraft.id)
    )


def _reminder_job(row: Any) -> dict[str, Any]:
    return {"func": REMINDER_JOB, "args": (row.id,), "queue": "default",
            "job_id": f"remind:{row.id}"}


def _send_job(row: Any) -> dict[str, Any]:
    queue = row.queue if row.queue in QUEUES else "default"
    return {"func": SEND_JOB, "args": (row.id,), "queue": queue, "job_id": job_id_for(row.id),
            "retry": RETRY_POLICY}


def _inbound_job(row: Any) -> dict[str, Any]:
    return {"func": INBOUND_JOB, "args": (row.id,), "queue": "critical",
            "job_id": inbound_job_id(row.id), "retry": default_retry()}


def _release_stuck(svc: Services, now: datetime) -> tuple[int, int]:
    """Fail stuck messages out of attempts, put the rest back to pending; give both counts."""
    cutoff = now - STUCK_AFTER
    max_attempts = int(svc.config["SMS_MAX_ATTEMPTS"])
    stuck = (_messages.c.status == SENDING, _messages.c.updated_at < cutoff)
    out_of_attempts = (
        select(Message.id, Message.attempts)
        .where(Message.status == SENDING, Message.updated_at < cutoff,
               Message.attempts >= max_attempts)
        .order_by(Message.id)
    )
    give_up = (
        update(_messages)
        .where(_messages.c.id == bindparam("b_id"), *stuck)
        .values(status=FAILED, next_attempt_at=None, failure_reason=bindparam("b_reason"))
    )
    failed = 0
    for rows in _chunks(svc, out_of_attempts):
        params = [
            {"b_id": r.id,
             "b_reason": f"gave up after {r.attempts} attempts: worker stopped while sending"
             [:REASON_MAX]}
            for r in rows
        ]
        with svc.db.session() as session:
            session.execute(give_up, params)
        failed += len(rows)
    with svc.db.session() as session:
        reset = session.execute(
            update(_messages)
            .where(*stuck, _messages.c.attempts < max_attempts)
            .values(status=PENDING, next_attempt_at=None)
        ).rowcount
    if failed or reset:
        log.warning("reconcile: %d message(s) stuck in sending; %d retried, %d given up",
                    failed + reset, reset, failed)
    return failed, reset


def _requeue(svc: Services, query: Select, job_for: Callable[[Any], dict[str, Any]]) -> int:
    """Enqueue a job for every row of ``query`` that has no live job; give how many."""
    enqueued = 0
    for rows in _chunks(svc, query):
        jobs = [job_for(row) for row in rows]
        enqueued += _enqueue_missing(svc, jobs)
    return enqueued


def _chunks(svc: Services, query: Select) -> Iterator[Sequence[Any]]:
    """Stream a query's rows in chunks (a server-side cursor on PostgreSQL)."""
    with svc.db.Session() as session:
        result = session.execute(query.execution_options(yield_per=CHUNK))
        yield from result.partitions()


def _enqueue_missing(svc: Services, jobs: list[dict[str, Any]]) -> int:
    """Enqueue the jobs whose id has no live RQ job; one Redis round trip checks them all."""
    # Services.enqueue already skips live jobs, but one by one (3-4 round trips each);
    # checking a whole chunk in one pipeline keeps a large backlog within the
    # scheduler's timeout. The id mapping mirrors Services.enqueue; a mismatch only
    # costs speed, since enqueue still refuses to duplicate a live job.
    existing = Job.fetch_many([_rq_id(job["job_id"]) for job in jobs], connection=svc.redis)
    enqueued = 0
    for job, found in zip(jobs, existing, strict=True):
        if found is not None and found.get_status(refresh=False) in LIVE:
            continue
        if svc.enqueue(job) is not None:
            enqueued += 1
    return enqueued


def _rq_id(job_id: str) -> str:
    return job_id.replace(":", "-")
