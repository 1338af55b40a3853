"""Send the check-ins due at a moment: streamed from SQL, sent in batches on ``bulk``.

One run walks the placements abroad by keyset pages, never holding more than one
page. For each page it writes, in one transaction, the CheckIn rows and their
Messages, and defers ``workers.sms.send_batch`` jobs of ``SMS_BATCH_SIZE``
recipients with one body each: one AT request per job, in bulk mode with
``enqueue=1``. On PostgreSQL a page is one statement that reads the placements and
writes both tables on the server (``_write_page_pg``), giving back only each
batch's message ids; SQLite reads the rows into Python and writes them with the
same arithmetic (``due.py``). No dialogue row is stored per person: a reply opens
the check-in's dialogue when it comes (``app.checkins.replies.awaited_checkin``).
RQ's own rate limit caps how many of those jobs are queued or running at once, so a
campaign never takes every worker or floods AT.

A run is idempotent: a check-in is unique per placement and sequence, and each
message's dedupe key names both, so a second run for the same moment sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rq import RateLimit
from rq.job import Job
from rq.rate_limit import RateLimitRegistry
from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import REGCLASS, aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.checkins.bulk import insert_many
from app.checkins.due import (
    FIRST_AFTER,
    MIN_GAP,
    current_sequence,
    due_at,
    is_waking,
    parse_as_of,
)
from app.checkins.replies import FIRST_SCREEN
from app.db import aware, defer, utcnow
from app.extensions import LIVE, Services
from app.i18n import LANGUAGES, translate
from app.models import CheckIn, Contact, Message, Person, Placement, SmsDialogue
from app.models.message import PENDING
from app.ports import Ports
from menus import engine

log = logging.getLogger(__name__)

CHECKIN_STATES = ("arrived", "employed")
"""Placement states in which a person gets check-ins."""

KIND = "checkin"
"""``Message.kind`` of a check-in SMS; the reconciler re-sends these in their batches."""

SEND_BATCH_JOB = "workers.sms.send_batch"
"""The job that sends one page's messages, one AT request per body and batch size."""

DEFAULT_PAGE = 5000
"""Placements read and written per transaction unless ``CHECKIN_PAGE_SIZE`` says otherwise.

Each page's SMS are then cut into send jobs of ``SMS_BATCH_SIZE`` recipients with one
body (one language), so every job is exactly one AT request. A batch never spans two
pages, so each page ends with one short batch per language: pages of 5,000 send
100,000 people in 220 requests instead of 250 with pages of 2,000 (a job costs a
worker about 85 ms whatever its size), and a page is still one PostgreSQL statement
of about 0.2 s."""

DEFAULT_CONCURRENCY = 4
"""Batch jobs allowed queued or running at once unless ``CHECKIN_SEND_CONCURRENCY`` says."""

RATE_LIMIT_KEY = "kazi-bulk-sms"
"""RQ rate-limit key shared by every campaign's send jobs."""

BATCH_TIMEOUT = 300
"""Seconds one batch job may run: two AT requests with the SDK's ~12 s timeout, and retries."""

LOCK_KEY = "kazi:checkins:send-due"
"""Redis key held while a run is in progress, so cron and an operator never overlap."""

ENQUEUE_GRACE = timedelta(seconds=30)
"""A check-in SMS younger than this still has its send job on the way (after commit)."""

LOCK_TTL = 3600
"""Seconds before a dead run's lock lapses."""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def rate_limit(svc: Services) -> RateLimit:
    """The RQ rate limit every check-in send job is enqueued with."""
    concurrency = int(svc.config.get("CHECKIN_SEND_CONCURRENCY") or DEFAULT_CONCURRENCY)
    return RateLimit(key=RATE_LIMIT_KEY, concurrency=concurrency)


def send_job(svc: Services, message_ids: Sequence[int]) -> dict[str, Any]:
    """Describe the send job of one batch, as the run and the reconciler enqueue it.

    It has no job id: RQ 3 refuses ``unique=True`` for rate-limited jobs, and
    ``Services.enqueue`` makes every job with an id unique. ``live_message_ids``
    finds the live ones through the rate limiter instead; ``send_batch`` claims each
    message atomically, so even a duplicate job never sends an SMS twice.
    """
    from workers.sms import RETRY_POLICY

    return {"func": SEND_BATCH_JOB, "args": (list(message_ids),), "queue": "bulk",
            "job_id": None, "retry": RETRY_POLICY, "timeout": BATCH_TIMEOUT,
            "rate_limit": rate_limit(svc)}


def send_due(svc: Services, as_of: str | datetime | None = None) -> dict[str, Any]:
    """Create and queue every check-in due at ``as_of`` (default now); give counts."""
    moment = parse_as_of(as_of)
    counts: dict[str, Any] = {"as_of": moment.isoformat(timespec="seconds"), "checked": 0,
                              "created": 0, "not_due": 0, "already_sent": 0, "busy_number": 0,
                              "batches": 0, "outside_hours": 0, "paused": 0}
    token = uuid.uuid4().hex
    if not svc.redis.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL):
        log.warning("check-ins: another send_due run holds %s; not starting", LOCK_KEY)
        return {**counts, "locked": 1}
    try:
        _run(svc, moment, counts)
    finally:
        svc.redis.eval(_RELEASE, 1, LOCK_KEY, token)
    log.info("check-ins: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _run(svc: Services, moment: datetime, counts: dict[str, Any]) -> None:
    with svc.db.Session() as session:
        _plan_small(session)
        awake, asleep = _countries(session, moment)
        counts["outside_hours"] = _count(session, _eligible(moment, asleep))
        counts["paused"] = _count(session, _abroad(moment).where(Contact.checkins_paused))
    if not awake:
        return
    page_size = int(svc.config.get("CHECKIN_PAGE_SIZE") or DEFAULT_PAGE)
    openings: dict[str, str] = {}
    on_postgres = svc.db.engine.dialect.name == "postgresql"
    last_id = 0
    while True:
        for attempt in range(3):
            try:
                with svc.db.session() as session:
                    _plan_small(session)
                    if on_postgres:
                        page = _write_page_pg(svc, session, moment, awake, last_id, page_size,
                                              openings)
                    else:
                        page = _write_page(svc, session, moment,
                                           session.execute(_page(moment, awake, last_id,
                                                                 page_size)).all(),
                                           openings)
                break
            except IntegrityError:
                # A run that outlived its lock wrote some of this page; re-read it.
                log.warning("check-ins: page after %d collided (attempt %d)", last_id, attempt)
        else:
            raise RuntimeError(f"check-ins: page after placement {last_id} keeps colliding")
        if page.last_id is None:
            return
        for key in ("checked", "created", "not_due", "already_sent", "busy_number", "batches"):
            counts[key] += getattr(page, key)
        last_id = page.last_id


def _plan_small(session: Session) -> None:
    """Keep PostgreSQL from planning a page as if it read the whole table.

    A page is a few thousand index lookups, but its cost estimate (the table, before
    LIMIT) made PostgreSQL start parallel workers and JIT-compile the plan: 2 s a
    page for 10 ms of work. ``SET LOCAL`` ends with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        session.execute(text("SET LOCAL jit = off"))


def _countries(session: Session, moment: datetime) -> tuple[list[str | None], list[str | None]]:
    """Split the destinations of people abroad into those awake and asleep at ``moment``."""
    found = session.scalars(
        select(Placement.country).where(Placement.status.in_(CHECKIN_STATES)).distinct()
    ).all()
    awake = [c for c in found if is_waking(c, moment)]
    return awake, [c for c in found if c not in awake]


def _country_in(countries: Sequence[str | None]):
    named = [c for c in countries if c is not None]
    clauses = [Placement.country.in_(named)] if named else []
    if None in countries:
        clauses.append(Placement.country.is_(None))
    return or_(*clauses) if clauses else false()


def _phone():
    return func.coalesce(Placement.phone, Person.phone)


def _abroad(moment: datetime) -> Select:
    """Placements abroad long enough for a first check-in, with their number and language."""
    phone = _phone()
    return (
        select(Placement.id, Placement.arrived_at, Placement.person_id, phone.label("phone"),
               func.coalesce(Contact.lang, Person.lang, "en").label("lang"))
        .select_from(Placement)
        .outerjoin(Person, Person.id == Placement.person_id)
        .outerjoin(Contact, Contact.phone == phone)
        .where(
            Placement.status.in_(CHECKIN_STATES),
            Placement.arrived_at.is_not(None),
            Placement.arrived_at <= moment - FIRST_AFTER,
            phone.is_not(None),
            # No consent, no contact: a person who withdrew is not checked on.
            or_(Placement.person_id.is_(None), Person.status == "active"),
        )
    )


def _eligible(moment: datetime, countries: Sequence[str | None]) -> Select:
    """Abroad, not paused, in ``countries``, and with no check-in in the last MIN_GAP."""
    # Scalar subqueries, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join
    # that scans the whole checkins (or dialogues) table for every page when its
    # statistics lag behind a campaign that is filling that table; a scalar subquery
    # stays one index probe per placement.
    last_due = (select(func.max(CheckIn.due_at)).where(CheckIn.placement_id == Placement.id)
                .scalar_subquery())
    open_until = (select(func.max(SmsDialogue.expires_at))
                  .where(SmsDialogue.phone == _phone()).scalar_subquery())
    return _abroad(moment).where(
        or_(Contact.checkins_paused.is_(None), Contact.checkins_paused.is_(False)),
        _country_in(countries),
        or_(last_due.is_(None), last_due <= moment - MIN_GAP),
        # A number in another dialogue waits for the next run rather than lose it.
        or_(open_until.is_(None), open_until <= moment),
    )


def _page(moment: datetime, awake: Sequence[str | None], after: int, size: int) -> Select:
    """One keyset page of eligible placements, each with its latest check-in sequence."""
    latest = (select(func.max(CheckIn.sequence)).where(CheckIn.placement_id == Placement.id)
              .scalar_subquery())
    return (_eligible(moment, awake).add_columns(latest.label("latest"))
            .where(Placement.id > after).order_by(Placement.id).limit(size))


def _count(session: Session, query: Select) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


@dataclass
class _Page:
    """What one page did: its counts, and the last placement id read (None: no rows)."""

    last_id: int | None = None
    checked: int = 0
    created: int = 0
    not_due: int = 0
    already_sent: int = 0
    busy_number: int = 0
    batches: int = 0


def _write_page(svc: Services, session: Session, moment: datetime, rows: Sequence[Any],
                openings: dict[str, str]) -> _Page:
    """Write one page's check-ins and SMS, and defer their send jobs (portable)."""
    page = _Page(last_id=rows[-1].id if rows else None, checked=len(rows))
    todo: list[tuple[Any, int, str]] = []
    numbers: set[str] = set()
    for row in rows:
        sequence = current_sequence(aware(row.arrived_at), moment)
        if sequence < 1:
            page.not_due += 1
        elif (row.latest or 0) >= sequence:
            page.already_sent += 1
        elif row.phone in numbers:
            page.busy_number += 1  # two placements, one phone: the other waits a run
        else:
            numbers.add(row.phone)
            lang = row.lang if row.lang in LANGUAGES else LANGUAGES[0]
            todo.append((row, sequence, lang))
    if not todo:
        return page
    now = utcnow()
    for _, _, lang in todo:
        if lang not in openings:
            openings[lang] = _opening(svc, lang)
    keys = [f"checkin:{row.id}:{sequence}" for row, sequence, _ in todo]
    message_id = dict((key, id_) for id_, key in insert_many(
        session, Message.__table__,
        [{"to_phone": row.phone, "body": openings[lang], "kind": KIND, "queue": "bulk",
          "dedupe_key": key, "status": PENDING, "attempts": 0, "person_id": row.person_id,
          "created_at": now, "updated_at": now}
         for (row, _, lang), key in zip(todo, keys, strict=True)],
        returning=("id", "dedupe_key"),
    ))
    batches = _batches(svc, [(message_id[key], lang)
                             for (_, _, lang), key in zip(todo, keys, strict=True)])
    batch_of = {mid: ids[0] for ids in batches for mid in ids}
    insert_many(session, CheckIn.__table__, [
        {"placement_id": row.id, "phone": row.phone, "sequence": sequence,
         "due_at": due_at(aware(row.arrived_at), sequence), "status": "sent",
         "message_id": message_id[key], "batch": batch_of[message_id[key]],
         "sent_at": moment}
        for (row, sequence, _), key in zip(todo, keys, strict=True)
    ])
    _defer_batches(svc, session, batches)
    page.created, page.batches = len(todo), len(batches)
    return page


def _defer_batches(svc: Services, session: Session, batches: Sequence[list[int]]) -> None:
    for ids in batches:
        job = send_job(svc, ids)
        defer(session, job["func"], *job["args"], queue=job["queue"], job_id=job["job_id"],
              retry=job["retry"], timeout=job["timeout"], rate_limit=job["rate_limit"])


def _write_page_pg(svc: Services, session: Session, moment: datetime,
                   awake: Sequence[str | None], after: int, size: int,
                   openings: dict[str, str]) -> _Page:
    """Do what ``_write_page`` does in one PostgreSQL statement, and defer the send jobs.

    The page query, the due arithmetic of ``due.py``, the checks and the batching run
    on the server; message ids come from their sequence there, so the check-ins can
    name them in the same statement. Only the counts and each batch's message ids
    come back: the rows never travel to Python and back.
    """
    for lang in LANGUAGES:
        if lang not in openings:
            openings[lang] = _opening(svc, lang)
    naive_moment = literal(moment.astimezone(UTC).replace(tzinfo=None), DateTime())
    page = _page(moment, awake, after, size).cte("page")
    # current_sequence(): months from the first check-in (arrival + 7 days, in UTC
    # wall-clock time, as Python counts) to the moment, one less if the moment comes
    # before that many months on; PostgreSQL clamps to the month's end like add_months.
    first = func.timezone("UTC", page.c.arrived_at) + literal(FIRST_AFTER)
    months = cast((extract("year", naive_moment) - extract("year", first)) * 12
                  + extract("month", naive_moment) - extract("month", first), Integer)
    dated = select(page, first.label("first_at"), months.label("months")).cte("dated")
    sequence = (dated.c.months + 1 - case(
        (dated.c.first_at + func.make_interval(0, dated.c.months) > naive_moment, 1), else_=0))
    due = select(dated, case((dated.c.first_at > naive_moment, 0), else_=sequence)
                 .label("sequence")).cte("due")
    todo = (select(due, func.row_number().over(partition_by=due.c.phone, order_by=due.c.id)
                   .label("nth"))
            .where(due.c.sequence >= 1, func.coalesce(due.c.latest, 0) < due.c.sequence)
            .cte("todo"))
    lang = case((todo.c.lang.in_(LANGUAGES), todo.c.lang), else_=LANGUAGES[0])
    fresh = (select(todo.c.id.label("placement_id"), todo.c.person_id, todo.c.phone,
                    todo.c.sequence, todo.c.first_at, lang.label("lang"),
                    func.nextval(_sequence_of(session, Message)).label("message_id"))
             .where(todo.c.nth == 1).cte("fresh").prefix_with("MATERIALIZED"))
    numbered = select(fresh, func.row_number().over(partition_by=fresh.c.lang,
                                                    order_by=fresh.c.message_id)
                      .label("rn")).cte("numbered")
    batch_size = max(int(svc.config["SMS_BATCH_SIZE"]), 1)
    batched = select(numbered, func.min(numbered.c.message_id).over(
        partition_by=(numbered.c.lang, (numbered.c.rn - 1) // batch_size)).label("batch")
    ).cte("batched")
    # One body per language (a CASE: a VALUES list of them would keep SQLAlchemy from
    # caching the statement's compiled form).
    body = case({code: literal(openings[code], Text) for code in LANGUAGES},
                value=batched.c.lang)
    now = utcnow()
    messages = insert(Message.__table__).from_select(
        ["id", "to_phone", "body", "kind", "queue", "dedupe_key", "status", "attempts",
         "person_id", "created_at", "updated_at"],
        select(batched.c.message_id, batched.c.phone, body, literal(KIND),
               literal("bulk"), literal(f"{KIND}:") + cast(batched.c.placement_id, String)
               + ":" + cast(batched.c.sequence, String),
               literal(PENDING), literal(0), batched.c.person_id, literal(now), literal(now))
    ).cte("new_messages")
    checkins = insert(CheckIn.__table__).from_select(
        ["placement_id", "phone", "sequence", "due_at", "status", "message_id", "batch",
         "sent_at"],
        select(batched.c.placement_id, batched.c.phone,
               batched.c.sequence,
               func.timezone("UTC", batched.c.first_at
                             + func.make_interval(0, batched.c.sequence - 1)),
               literal("sent"), batched.c.message_id, batched.c.batch, literal(moment))
    ).cte("new_checkins")
    summary = select(
        func.count().label("checked"), func.max(due.c.id).label("last_id"),
        func.count().filter(due.c.sequence < 1).label("not_due"),
        func.count().filter(and_(due.c.sequence >= 1,
                                 func.coalesce(due.c.latest, 0) >= due.c.sequence))
        .label("already_sent"),
        select(func.count()).where(todo.c.nth > 1).scalar_subquery().label("busy_number"),
    ).subquery("summary")
    jobs = (select(batched.c.lang, batched.c.batch,
                   func.array_agg(aggregate_order_by(batched.c.message_id,
                                                     batched.c.message_id)).label("ids"))
            .group_by(batched.c.lang, batched.c.batch).subquery("jobs"))
    result = session.execute(
        select(summary, jobs.c.ids)
        .select_from(summary.outerjoin(jobs, true()))
        .order_by(jobs.c.lang, jobs.c.batch)
        .add_cte(messages, checkins)
    ).all()
    first_row = result[0]
    batches = [list(row.ids) for row in result if row.ids is not None]
    _defer_batches(svc, session, batches)
    return _Page(last_id=first_row.last_id, checked=first_row.checked,
                 created=sum(len(ids) for ids in batches), not_due=first_row.not_due,
                 already_sent=first_row.already_sent, busy_number=first_row.busy_number,
                 batches=len(batches))


def _sequence_of(session: Session, model: type) -> Any:
    """Give the sequence of ``model``'s id column, as a regclass for ``nextval``."""
    name = session.execute(text("SELECT pg_get_serial_sequence(:table, 'id')"),
                           {"table": model.__table__.name}).scalar_one()
    return cast(literal(name), REGCLASS)


def _batches(svc: Services, messages: Sequence[tuple[int, str]]) -> list[list[int]]:
    """Cut (message id, language) pairs into send batches: one language, SMS_BATCH_SIZE each."""
    size = max(int(svc.config["SMS_BATCH_SIZE"]), 1)
    by_lang: dict[str, list[int]] = {}
    for message_id, lang in messages:
        by_lang.setdefault(lang, []).append(message_id)
    return [ids[start:start + size]
            for ids in (sorted(v) for _, v in sorted(by_lang.items()))
            for start in range(0, len(ids), size)]


def _opening(svc: Services, lang: str) -> str:
    """Render the check-in's first screen in ``lang``, once per language and run."""
    state = engine.new_state(svc.flow, lang)
    step = engine.begin(svc.flow, state, Ports(svc), translate, at=FIRST_SCREEN)
    return engine.render(svc.flow, step.state, translate)


def live_message_ids(svc: Services) -> set[int]:
    """Give the ids of check-in SMS that a queued, waiting, running or retrying job holds."""
    registry = RateLimitRegistry(RATE_LIMIT_KEY, svc.redis)
    job_ids = {*registry.get_allowed_job_ids(), *registry.get_rate_limited_job_ids(),
               *svc.queues["bulk"].scheduled_job_registry.get_job_ids()}
    held: set[int] = set()
    for job in Job.fetch_many(sorted(job_ids), connection=svc.redis):
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
