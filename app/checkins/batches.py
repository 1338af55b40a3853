"""Check-in SMS batch jobs: how a batch is cut, described, deferred and re-sent.

A run's SMS go out in jobs of ``SMS_BATCH_SIZE`` recipients with one body each
(``workers.sms.send_batch``): one AT request per job, in bulk mode with
``enqueue=1``. RQ's own rate limit caps how many of those jobs are queued or running
at once, so a campaign never takes every worker or floods AT. The reconciler re-sends,
in their batches, the pending check-in SMS that no live job holds
(``requeue_batches``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from rq import RateLimit
from rq.job import Job as RqJob
from rq.rate_limit import RateLimitRegistry
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db import defer, utcnow
from app.extensions import LIVE, Services
from app.jobs import Job
from app.models import CheckIn, Message
from app.models.message import PENDING
from app.sms.outbox import RETRY_POLICY

log = logging.getLogger(__name__)

KIND = "checkin"
"""``Message.kind`` of a check-in SMS; the reconciler re-sends these in their batches."""

SEND_BATCH_JOB = "workers.sms.send_batch"
"""The job that sends one page's messages, one AT request per body and batch size."""

DEFAULT_CONCURRENCY = 4
"""Batch jobs allowed queued or running at once unless ``CHECKIN_SEND_CONCURRENCY`` says."""

RATE_LIMIT_KEY = "kazi-bulk-sms"
"""RQ rate-limit key shared by every campaign's send jobs."""

BATCH_TIMEOUT = 300
"""Seconds one batch job may run: two AT requests with the SDK's ~12 s timeout, and retries."""

ENQUEUE_GRACE = timedelta(seconds=30)
"""A check-in SMS younger than this still has its send job on the way (after commit)."""


def rate_limit(svc: Services) -> RateLimit:
    """The RQ rate limit every check-in send job is enqueued with."""
    concurrency = int(svc.config.get("CHECKIN_SEND_CONCURRENCY") or DEFAULT_CONCURRENCY)
    return RateLimit(key=RATE_LIMIT_KEY, concurrency=concurrency)


def send_job(svc: Services, message_ids: Sequence[int]) -> Job:
    """Describe the send job of one batch, as the run and the reconciler enqueue it.

    It has no job id: RQ 3 refuses ``unique=True`` for rate-limited jobs, and
    ``Services.enqueue`` makes every job with an id unique. ``live_message_ids``
    finds the live ones through the rate limiter instead; ``send_batch`` claims each
    message atomically, so even a duplicate job never sends an SMS twice.
    """
    return Job(SEND_BATCH_JOB, (list(message_ids),), queue="bulk", retry=RETRY_POLICY,
               timeout=BATCH_TIMEOUT, rate_limit=rate_limit(svc))


def cut_batches(svc: Services, messages: Sequence[tuple[int, str]]) -> list[list[int]]:
    """Cut (message id, language) pairs into send batches: one language, SMS_BATCH_SIZE each."""
    size = max(int(svc.config["SMS_BATCH_SIZE"]), 1)
    by_lang: dict[str, list[int]] = {}
    for message_id, lang in messages:
        by_lang.setdefault(lang, []).append(message_id)
    return [ids[start:start + size]
            for ids in (sorted(v) for _, v in sorted(by_lang.items()))
            for start in range(0, len(ids), size)]


def defer_batches(svc: Services, session: Session, batches: Sequence[list[int]]) -> None:
    for ids in batches:
        defer(session, send_job(svc, ids))


def live_message_ids(svc: Services) -> set[int]:
    """Give the ids of check-in SMS that a queued, waiting, running or retrying job holds."""
    registry = RateLimitRegistry(RATE_LIMIT_KEY, svc.redis)
    job_ids = {*registry.get_allowed_job_ids(), *registry.get_rate_limited_job_ids(),
               *svc.queues["bulk"].scheduled_job_registry.get_job_ids()}
    held: set[int] = set()
    for job in RqJob.fetch_many(sorted(job_ids), connection=svc.redis):
        if (job is not None and job.func_name == SEND_BATCH_JOB
                and job.get_status(refresh=False) in LIVE):
            held.update(job.args[0])
    return held


def requeue_batches(svc: Services, now: datetime | None = None, chunk: int = 1000) -> int:
    """Re-enqueue, batch by batch, the pending check-in SMS that no live job holds."""
    now = now or utcnow()
    held = live_message_ids(svc)
    query = (
        select(CheckIn.batch, Message.id)
        .join(Message, Message.id == CheckIn.message_id)
        .where(Message.status == PENDING, Message.kind == KIND,
               or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
               # Just written: its job is being enqueued after commit right now.
               Message.created_at <= now - ENQUEUE_GRACE)
        .order_by(CheckIn.batch, Message.id)
    )
    enqueued = 0
    batch: int | None = None
    ids: list[int] = []

    def flush() -> int:
        return 1 if ids and svc.enqueue(send_job(svc, ids)) else 0

    with svc.db.Session() as session:
        for rows in session.execute(query.execution_options(yield_per=chunk)).partitions():
            for row in rows:
                if row.id in held:
                    continue
                if row.batch != batch:
                    enqueued += flush()
                    batch, ids = row.batch, []
                ids.append(row.id)
    enqueued += flush()
    if enqueued:
        log.warning("check-ins: re-enqueued %d send batch(es) that Redis had lost", enqueued)
    return enqueued
