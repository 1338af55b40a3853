"""Re-enqueue from SQL whatever Redis lost, so emptying Redis loses nothing.

SQL is the truth: a Message still ``pending``, an InboundSms not yet processed, a
running escalation clock or a draft owed its reminder needs a job, whether or not
Redis still holds one. The schedule runs this every minute (and ``kazi reconcile``
on demand). Each feature says what it is owed (a query) and gives the job for each
row, with the same id the code that first deferred it used, so a job that is still
queued, scheduled or running is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rq.job import Job as RqJob
from sqlalchemy import Select

from app import drafts
from app.checkins import batches as checkins
from app.db import utcnow
from app.extensions import LIVE, Services
from app.jobs import Job
from app.protection import escalation
from app.sms import inbound, outbox

log = logging.getLogger(__name__)

CHUNK = 500
"""Rows read from SQL (and job ids checked in Redis) per round trip."""


def reconcile(svc: Services, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue every job SQL says is owed; give counts of what was done."""
    now = now or utcnow()
    # SMS that arrived while the database was down: into SQL first (they get their
    # handling jobs on commit), before anything else is counted.
    spooled = inbound.drain_spool(svc)
    stuck_failed, stuck_reset = outbox.release_stuck(svc, now)
    # Check-in SMS go out in their batches (``requeue_batches``), not one job each.
    sends = outbox.owed(now, excluding_kind=checkins.KIND)
    counts = {
        "spooled_inbound": spooled,
        "stuck_failed": stuck_failed,
        "stuck_reset": stuck_reset,
        # Send jobs re-enqueued; a check-in batch (many messages, one job) counts once.
        "messages": _requeue(svc, sends, outbox.owed_job) + checkins.requeue_batches(svc, now),
        "inbound": _requeue(svc, inbound.owed(now), lambda row: inbound.handle_job(row.id)),
        # Escalation clocks still running: their timer jobs.
        "escalations": _requeue(svc, escalation.running_clocks(),
                                lambda row: escalation.clock_job(row, now)),
        # Cut-off registrations owed their one reminder (the delayed job may be lost).
        "reminders": _requeue(svc, drafts.owed_reminders(svc, now),
                              lambda row: drafts.reminder_job(row.id)),
    }
    log.info("reconcile: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _requeue(svc: Services, query: Select, job_for: Callable[[Any], Job]) -> int:
    """Enqueue a job for every row of ``query`` that has no live job; give how many."""
    enqueued = 0
    # A server-side cursor on PostgreSQL: a large backlog is never held in memory.
    with svc.db.Session() as session:
        for rows in session.execute(query.execution_options(yield_per=CHUNK)).partitions():
            enqueued += _enqueue_missing(svc, [job_for(row) for row in rows])
    return enqueued


def _enqueue_missing(svc: Services, jobs: list[Job]) -> int:
    """Enqueue the jobs whose id has no live RQ job; one Redis round trip checks them all."""
    # Services.enqueue already skips live jobs, but one by one (3-4 round trips each);
    # checking a whole chunk in one pipeline keeps a large backlog within the
    # scheduler's timeout.
    existing = RqJob.fetch_many([job.rq_id for job in jobs], connection=svc.redis)
    enqueued = 0
    for job, found in zip(jobs, existing, strict=True):
        if found is not None and found.get_status(refresh=False) in LIVE:
            continue
        if svc.enqueue(job) is not None:
            enqueued += 1
    return enqueued
