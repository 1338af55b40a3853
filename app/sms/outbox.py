"""The outbox: queue an outbound SMS, then claim, send, record and retry it.

``queue_sms`` writes a ``pending`` Message and defers its send job, so the job is
enqueued only after the row is committed. A Message then moves
``pending -> sending -> sent | failed``. The claim is a conditional UPDATE committed
before anything goes to AT, so a job that runs twice (a duplicate enqueue, the
reconciler, an RQ retry racing a manual one) sends at most once. A retryable
outcome puts the row back to ``pending`` and raises, so RQ's ``Retry`` runs the job
again; the reconciler catches whatever RQ loses.

The reconciler (``app.reconcile``) re-enqueues what Redis lost (``owed``) and
releases rows a dead worker left in ``sending`` (``release_stuck``).

Logs carry message ids and counts only: never a phone number or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rq import Retry
from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db import defer, dialect_insert, unindexed, update_many, utcnow
from app.extensions import QUEUES, Services
from app.jobs import Job
from app.models.message import FAILED, PENDING, SENDING, SENT, Message
from app.sms.backends import ACCEPTED, RETRY, SendResult

log = logging.getLogger(__name__)

SEND_JOB = "workers.sms.send_message"
"""The job that sends one Message by id."""

RETRY_INTERVALS = (10, 30, 120, 600, 1800)
"""Seconds between attempts: quick for a network blip, then slow for an empty AT balance."""

RETRY_POLICY = Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))
"""Every send job's RQ retry (``send_job``, check-in batches): 1 run + 5 retries =
SMS_MAX_ATTEMPTS 6."""

REASON_MAX = 200
"""``Message.failure_reason`` is VARCHAR(200); PostgreSQL refuses anything longer."""

STUCK_AFTER = timedelta(minutes=10)
"""A message ``sending`` this long belongs to a dead worker.

Far longer than a send job may run (RQ's timeout, and the SDK's ~12 s HTTP timeout),
so a live worker is never overtaken."""

CHUNK = 500
"""Stuck rows read per round trip."""

_table = Message.__table__


def send_job(message_id: int, queue: str = "default") -> Job:
    """The job that sends one Message, named after it so it is enqueued at most once."""
    return Job(SEND_JOB, (message_id,), queue=queue, job_id=f"sms:{message_id}",
               retry=RETRY_POLICY)


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


def owed(now: datetime, *, excluding_kind: str | None = None) -> Select:
    """Select the pending messages due by ``now``: each needs a live send job."""
    query = (select(Message.id, Message.queue)
             .where(Message.status == PENDING,
                    or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
             .order_by(Message.id))
    if excluding_kind is not None:
        query = query.where(Message.kind != excluding_kind)
    return query


def owed_job(row: Any) -> Job:
    """The send job a row of ``owed`` needs, on its own queue."""
    return send_job(row.id, row.queue if row.queue in QUEUES else "default")


class SendRetry(Exception):
    """AT refused for now; raised so RQ's ``Retry`` runs the job again later."""


@dataclass(frozen=True)
class _Claimed:
    id: int
    to_phone: str
    body: str
    queue: str
    attempts: int


def retry_delay(attempts: int) -> int:
    """Give the seconds to wait after attempt number ``attempts`` (1-based), as RQ will."""
    return RETRY_INTERVALS[min(max(attempts, 1), len(RETRY_INTERVALS)) - 1]


def send(svc: Services, message_id: int) -> str:
    """Send one Message by id, at most once; give its status afterwards, or ``skipped``."""
    claimed = _claim(svc, [message_id])
    if not claimed:
        # Already sending, sent, failed or never committed: someone else owns it.
        log.info("sms %d not pending; nothing to send", message_id)
        return "skipped"
    [row] = claimed
    results = _send(svc, row.body, [row], enqueue=row.queue == "bulk")
    outcome = _record(svc, [row], results, level=logging.INFO)[0]
    if outcome == RETRY:
        raise SendRetry(
            f"sms {row.id}: AT answered {results[0].status or 'nothing'} "
            f"(attempt {row.attempts}); retrying"
        )
    return outcome


def send_batch(svc: Services, message_ids: Sequence[int]) -> dict[str, int]:
    """Send many Messages, one AT request per identical body; give counts by outcome."""
    ids = sorted({int(i) for i in message_ids})
    claimed = _claim(svc, ids) if ids else []
    counts = {SENT: 0, FAILED: 0, RETRY: 0, "skipped": len(ids) - len(claimed)}
    groups: dict[tuple[str, bool], list[_Claimed]] = {}
    for row in claimed:
        groups.setdefault((row.body, row.queue == "bulk"), []).append(row)
    size = max(int(svc.config["SMS_BATCH_SIZE"]), 1)
    for (body, enqueue), rows in groups.items():
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            # Record each request's results before the next request: a worker killed
            # mid-batch then leaves at most one chunk in ``sending``.
            for outcome in _record(svc, chunk, _send(svc, body, chunk, enqueue=enqueue)):
                counts[outcome] += 1
    log.info(
        "sms batch of %d: %d sent, %d failed, %d to retry, %d not pending, %d request group(s)",
        len(ids), counts[SENT], counts[FAILED], counts[RETRY], counts["skipped"], len(groups),
    )
    if counts[RETRY]:
        # Re-running the batch claims only the rows put back to pending.
        raise SendRetry(f"sms batch: {counts[RETRY]} of {len(ids)} messages to retry")
    return counts


def _claim(svc: Services, ids: Sequence[int]) -> list[_Claimed]:
    """Move pending rows to sending in one committed UPDATE and give what was claimed."""
    stmt = (
        update(_table)
        .where(_table.c.id.in_(ids), unindexed(_table.c.status) == PENDING)
        .values(status=SENDING, attempts=_table.c.attempts + 1, updated_at=utcnow())
        .returning(_table.c.id, _table.c.to_phone, _table.c.body, _table.c.queue,
                   _table.c.attempts)
    )
    with svc.db.session() as session:
        rows = session.execute(stmt).all()
    # RETURNING follows the rows' physical order, which updates reshuffle: send by id.
    return [_Claimed(r.id, r.to_phone, r.body, r.queue or "default", r.attempts)
            for r in sorted(rows, key=lambda r: r.id)]


def _send(svc: Services, body: str, rows: Sequence[_Claimed], *, enqueue: bool) -> list[SendResult]:
    """Send one body to the rows' numbers; an unexpected error counts as retry for all."""
    numbers = [row.to_phone for row in rows]
    try:
        results = svc.sms.send(body, numbers, sender_id=svc.config.get("AT_SENDER_ID") or None,
                               enqueue=enqueue)
        if len(results) != len(rows):
            raise ValueError(f"backend gave {len(results)} results for {len(rows)} recipients")
        return results
    except Exception as exc:  # noqa: BLE001 - a bug here must not strand rows in 'sending'
        # The backend already turns AT and transport errors into results; this is a
        # bug or a surprise. Retrying may repeat an SMS AT accepted, which is better
        # than stranding the row; the exception text may hold numbers, so log its type.
        log.exception("sms send of %d message(s) raised %s", len(rows), type(exc).__name__)
        return [
            SendResult(number=n, outcome=RETRY, status_code=None, status=type(exc).__name__,
                       message_id=None, cost=None, reason=f"send raised {type(exc).__name__}")
            for n in numbers
        ]


def _record(svc: Services, rows: Sequence[_Claimed], results: Iterable[SendResult],
            level: int = logging.DEBUG) -> list[str]:
    """Store each row's outcome (only while it is still ours) and give the outcomes.

    Each message's outcome is logged at ``level``: INFO for a lone send, DEBUG for a
    batch's messages, beside the batch's INFO summary (``send_batch``); otherwise a
    100,000-person campaign writes 100,000 lines.
    """
    now = utcnow()
    max_attempts = int(svc.config["SMS_MAX_ATTEMPTS"])
    outcomes: list[str] = []
    params: list[dict[str, Any]] = []
    for row, result in zip(rows, results, strict=True):
        outcome, values = _outcome(row, result, now, max_attempts)
        outcomes.append(outcome)
        params.append({"id": row.id, **values, "updated_at": now})
    # One statement for the whole request, not one UPDATE per message.
    with svc.db.session() as session:
        update_many(session, _table, params, key="id", only_if=("status", SENDING))
    if log.isEnabledFor(level):
        for row, outcome in zip(rows, outcomes, strict=True):
            log.log(level, "sms %d %s (attempt %d)", row.id, _VERB[outcome], row.attempts)
    return outcomes


_OUTCOME_COLUMNS = (
    "status", "at_message_id", "status_code", "cost", "sent_at", "failure_reason",
    "next_attempt_at",
)
_VERB = {SENT: "sent", FAILED: "failed", RETRY: "back to pending for a retry"}


def _outcome(row: _Claimed, result: SendResult, now: datetime,
             max_attempts: int) -> tuple[str, dict[str, Any]]:
    """Give the outcome (sent, failed or retry) and the columns that record it."""
    values: dict[str, Any] = dict.fromkeys(_OUTCOME_COLUMNS)
    values["status_code"] = result.status_code
    if result.outcome == ACCEPTED:
        values.update(status=SENT, at_message_id=_clip(result.message_id, 80),
                      cost=_clip(result.cost, 20), sent_at=now)
        return SENT, values
    reason = result.reason or result.status or "no reason given"
    if result.outcome == RETRY and row.attempts < max_attempts:
        values.update(status=PENDING, failure_reason=_clip(reason, REASON_MAX),
                      next_attempt_at=now + timedelta(seconds=retry_delay(row.attempts)))
        return RETRY, values
    if result.outcome == RETRY:
        # Out of attempts: make it a visible failure for staff, not a silent drop.
        reason = f"gave up after {row.attempts} attempts: {reason}"
    values.update(status=FAILED, failure_reason=_clip(reason, REASON_MAX))
    return FAILED, values


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def release_stuck(svc: Services, now: datetime) -> tuple[int, int]:
    """Fail stuck messages out of attempts, put the rest back to pending; give both counts.

    The one window where an SMS can go out twice: a worker killed (OOM, deploy, host
    loss) after AT accepted a message but before it recorded ``sent`` leaves the row
    in ``sending``. AT cannot be asked whether it took the message (its API has no
    idempotency key and no lookup by our id), so after ``STUCK_AFTER`` the row goes
    back to ``pending`` and is sent again. A rare duplicate is accepted because the
    other choice, never sending, can silently drop a distress reply or an escalation.
    """
    cutoff = now - STUCK_AFTER
    max_attempts = int(svc.config["SMS_MAX_ATTEMPTS"])
    stuck = (_table.c.status == SENDING, _table.c.updated_at < cutoff)
    out_of_attempts = (
        select(Message.id, Message.attempts)
        .where(Message.status == SENDING, Message.updated_at < cutoff,
               Message.attempts >= max_attempts)
        .order_by(Message.id)
    )
    give_up = (
        update(_table)
        .where(_table.c.id == bindparam("b_id"), *stuck)
        .values(status=FAILED, next_attempt_at=None, failure_reason=bindparam("b_reason"))
    )
    failed = 0
    with svc.db.Session() as reader:
        for rows in reader.execute(
                out_of_attempts.execution_options(yield_per=CHUNK)).partitions():
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
            update(_table)
            .where(*stuck, _table.c.attempts < max_attempts)
            .values(status=PENDING, next_attempt_at=None)
        ).rowcount
    if failed or reset:
        log.warning("reconcile: %d message(s) stuck in sending; %d retried, %d given up",
                    failed + reset, reset, failed)
    return failed, reset
