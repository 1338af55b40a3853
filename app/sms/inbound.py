"""Incoming SMS: store it before AT hears 200, spool it if SQL is down, then route it.

An incoming SMS is in SQL before the callback answers 200, and its handling job is
enqueued only after that commit. It is safe to receive twice (AT retries anything
not answered 200): the row is unique on AT's ``id``.

If the database is down, an incoming SMS (it may be a cry for help) is not left to
AT's retries alone: it is sealed (Fernet) into a Redis spool and answered 200, and
the reconciler stores it in SQL as soon as the database is back. Only when Redis is
down too is it not kept, and the callback answers 503.

The handling job routes the text by keyword (``app.keywords``), or to an open
dialogue, and marks the row processed, all in one transaction.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app import dialogues, keywords
from app.db import defer, utcnow
from app.extensions import Services
from app.jobs import Job, default_retry
from app.models import InboundSms

log = logging.getLogger(__name__)

HANDLE_JOB = "workers.inbound.handle_inbound"
"""The job that routes one stored InboundSms by its row id."""

TEXT_MAX = 5000
"""Longest incoming text kept; a concatenated SMS is far shorter, anything longer is junk."""

SPOOL_KEY = "kazi:inbound:spool"
"""Redis list of incoming SMS taken while the database was down, each Fernet-sealed."""

UNREADABLE_KEY = "kazi:inbound:spool:unreadable"
"""Spooled items no key can open (PII_KEYS changed meanwhile): kept for an operator."""

SPOOLED_FIELDS = ("to", "text", "linkId", "networkCode", "date")

GRACE = timedelta(seconds=30)
"""An incoming SMS unprocessed this long has lost its job (normally it takes < 1 s)."""


def handle_job(inbound_id: int) -> Job:
    """The job that routes one stored SMS, named after the row so it is enqueued at most once.

    Critical queue: a distress keyword must overtake any campaign backlog.
    """
    return Job(HANDLE_JOB, (inbound_id,), queue="critical", job_id=f"in:{inbound_id}",
               retry=default_retry())


def receive(svc: Services, at_id: str, phone: str, fields: dict[str, str]) -> bool:
    """Keep an incoming SMS, in SQL or else in the Redis spool; tell whether it is kept.

    A repeat of an AT id already stored counts as kept. False only when neither the
    database nor Redis took it: the caller must then let AT retry.
    """
    try:
        inbound_id = store(svc, at_id, phone, fields)
    except SQLAlchemyError as exc:
        log.error("incoming sms not stored: %s; spooling it", type(exc).__name__)
        try:
            spool(svc, at_id, phone, fields)
        except RedisError as redis_exc:
            log.error("incoming sms not spooled either: %s", type(redis_exc).__name__)
            return False
        return True
    if inbound_id is None:
        log.info("incoming sms %s already received", at_id)
    return True


def store(svc: Services, at_id: str, phone: str, fields: dict[str, str]) -> int | None:
    """Store an incoming SMS once and defer its job; give the new row id, None if a repeat."""
    try:
        with svc.db.session() as session:
            if session.scalar(select(InboundSms.id).where(InboundSms.at_id == at_id)):
                return None
            row = InboundSms(
                at_id=at_id,
                from_phone=phone,
                to_code=_clip(fields.get("to"), 20),
                text=(fields.get("text") or "")[:TEXT_MAX],
                link_id=_clip(fields.get("linkId"), 80),
                network_code=_clip(fields.get("networkCode"), 10),
                sent_at=_clip(fields.get("date"), 40),
            )
            session.add(row)
            session.flush()
            defer(session, handle_job(row.id))
            return row.id
    except IntegrityError:
        # A concurrent retry of the same callback committed the row first.
        with svc.db.Session() as session:
            if session.scalar(select(InboundSms.id).where(InboundSms.at_id == at_id)):
                return None
        raise


def spool(svc: Services, at_id: str, phone: str, fields: dict[str, str]) -> None:
    """Keep an incoming SMS in Redis, sealed, until the database can take it."""
    item = {"at_id": at_id, "phone": phone,
            "fields": {k: fields.get(k) for k in SPOOLED_FIELDS}}
    svc.redis.rpush(SPOOL_KEY, svc.cipher.encrypt(json.dumps(item)))


def drain_spool(svc: Services) -> int:
    """Store every spooled SMS in SQL, oldest first; give how many were taken out.

    Each item leaves the spool only after its row is committed (a repeat of an AT id
    is found and skipped), so a crash or a second drainer loses and doubles nothing.
    A database still down raises, and the rest waits for the next run.
    """
    drained = 0
    while (raw := svc.redis.lindex(SPOOL_KEY, 0)) is not None:
        try:
            item = json.loads(svc.cipher.decrypt(raw))
        except ValueError:
            log.error("spooled incoming sms unreadable; moved to %s", UNREADABLE_KEY)
            svc.redis.rpush(UNREADABLE_KEY, raw)
        else:
            store(svc, item["at_id"], item["phone"], item["fields"])
        svc.redis.lrem(SPOOL_KEY, 1, raw)
        drained += 1
    if drained:
        log.warning("stored %d incoming sms spooled during a database outage", drained)
    return drained


def owed(now: datetime) -> Select:
    """Select the stored SMS still unprocessed ``GRACE`` after arriving: each needs a job."""
    return (select(InboundSms.id)
            .where(InboundSms.processed_at.is_(None), InboundSms.received_at <= now - GRACE)
            .order_by(InboundSms.id))


def handle(svc: Services, inbound_id: int) -> str | None:
    """Route a stored InboundSms once; give the route taken, or None if already handled."""
    with svc.db.session() as session:
        # The row lock (PostgreSQL) makes a concurrent run of this job wait, then
        # see ``processed_at`` and stop; the reply's dedupe key covers the rest.
        inbound = session.get(InboundSms, inbound_id, with_for_update=True)
        if inbound is None or inbound.processed_at is not None:
            log.info("inbound sms %d already handled or gone", inbound_id)
            return None
        handler, rest = keywords.route(inbound.text)
        name = keywords.route_name(handler)
        if _for_dialogue(handler, inbound.text) and dialogues.answer(
            svc, session, inbound.from_phone, inbound.text, reply_key=f"reply:{inbound.id}"
        ):
            inbound.route, inbound.status, inbound.processed_at = "dialogue", "processed", utcnow()
            log.info("inbound sms %d answered an open dialogue", inbound_id)
            return "dialogue"
        ctx = keywords.KeywordContext(
            svc=svc, session=session, inbound=inbound, phone=inbound.from_phone,
            word="" if handler is keywords.unknown else name.upper(), rest=rest,
            lang=keywords.reply_language(session, inbound.from_phone),
        )
        handler(ctx)
        inbound.route = name[:30]
        inbound.status = "processed"
        inbound.processed_at = utcnow()
    log.info("inbound sms %d routed to %s, %d reply(ies)", inbound_id, name, len(ctx.replies))
    return name


def _for_dialogue(handler: keywords.Handler, text: str) -> bool:
    """Tell whether a reply belongs to an open dialogue rather than to a keyword.

    Answers to a dialogue are numbers or free text. A real keyword (HELP, STOP,
    ACK …) always wins, so a person in the middle of a dialogue can still ask for
    help or stop messages.
    """
    first = (text or "").strip().split(" ", 1)[0]
    return handler is keywords.unknown or first.isdigit()


def _clip(value: str | None, limit: int) -> str | None:
    """Fit a field to its column; PostgreSQL refuses over-long text."""
    if not value:
        return None
    return value[:limit]
