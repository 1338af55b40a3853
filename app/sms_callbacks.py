"""POST /sms/incoming and /sms/delivery: AT's SMS callbacks, stored fast, worked on in jobs.

An incoming SMS is in SQL before we answer 200, and its handling job is enqueued
only after that commit; a delivery report updates the message AT named by ``id``.
Both are safe to receive twice, because AT retries anything not answered 200.

If the database is down, an incoming SMS (it may be a cry for help) is not left to
AT's retries alone: it is sealed (Fernet) into a Redis spool and answered 200, and
the reconciler stores it in SQL as soon as the database is back. Only when Redis is
down too is the answer 503.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.callbacks import form, require_token
from app.db import defer, utcnow
from app.extensions import Services, services
from app.jobs import Job, default_retry
from app.models import InboundSms, Message
from app.phones import try_normalise

log = logging.getLogger(__name__)
bp = Blueprint("sms_callbacks", __name__)

INBOUND_JOB = "workers.inbound.handle_inbound"
"""The job that routes one stored InboundSms by its row id."""

DELIVERY_STATUSES = frozenset({
    "Sent", "Submitted", "Buffered", "Rejected", "Success", "Failed", "AbsentSubscriber",
    "Expired",
})
"""Every ``status`` AT's delivery reports use."""

IN_FLIGHT = frozenset({"Sent", "Submitted", "Buffered"})
"""Statuses on the way to a phone; a late one never overwrites a final outcome."""

FINAL_FAILURES = frozenset({"Failed", "Rejected", "AbsentSubscriber", "Expired"})
"""Delivery failed for good; the message stays ``sent`` (AT took it), only delivery changes."""

TEXT_MAX = 5000
"""Longest incoming text kept; a concatenated SMS is far shorter, anything longer is junk."""

SPOOL_KEY = "kazi:inbound:spool"
"""Redis list of incoming SMS taken while the database was down, each Fernet-sealed."""

UNREADABLE_KEY = "kazi:inbound:spool:unreadable"
"""Spooled items no key can open (PII_KEYS changed meanwhile): kept for an operator."""

SPOOLED_FIELDS = ("to", "text", "linkId", "networkCode", "date")


def handle_job(inbound_id: int) -> Job:
    """The job that routes one stored SMS, named after the row so it is enqueued at most once.

    Critical queue: a distress keyword must overtake any campaign backlog.
    """
    return Job(INBOUND_JOB, (inbound_id,), queue="critical", job_id=f"in:{inbound_id}",
               retry=default_retry())


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@bp.post("/sms/incoming")
def incoming() -> Response:
    require_token()
    fields = form()
    at_id = fields.get("id", "").strip()
    raw_from = fields.get("from", "").strip()
    if not at_id:
        return _text("missing id", 400)
    if len(at_id) > 80:
        return _text("id too long", 400)
    if not raw_from:
        return _text("missing from", 400)
    phone = try_normalise(raw_from)
    if phone is None:
        return _text("from is not a valid phone number", 400)
    svc = services()
    try:
        inbound_id = store_inbound(svc, at_id, phone, fields)
    except SQLAlchemyError as exc:
        log.error("incoming sms not stored: %s; spooling it", type(exc).__name__)
        try:
            spool_inbound(svc, at_id, phone, fields)
        except RedisError as redis_exc:
            # Not kept anywhere, so not acknowledged: AT retries it.
            log.error("incoming sms not spooled either: %s", type(redis_exc).__name__)
            return _text("try again", 503)
        return _text("OK")
    if inbound_id is None:
        log.info("incoming sms %s already received", at_id)
    return _text("OK")


def store_inbound(svc: Services, at_id: str, phone: str, fields: dict[str, str]) -> int | None:
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


def spool_inbound(svc: Services, at_id: str, phone: str, fields: dict[str, str]) -> None:
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
            store_inbound(svc, item["at_id"], item["phone"], item["fields"])
        svc.redis.lrem(SPOOL_KEY, 1, raw)
        drained += 1
    if drained:
        log.warning("stored %d incoming sms spooled during a database outage", drained)
    return drained


@bp.post("/sms/delivery")
def delivery() -> Response:
    require_token()
    fields = form()
    at_id = fields.get("id", "").strip()
    status = fields.get("status", "").strip()
    if not at_id or not status:
        return _text("missing id or status", 400)
    if status not in DELIVERY_STATUSES:
        return _text("unknown status", 400)
    reason = _clip(fields.get("failureReason", "").strip() or None, 40)
    try:
        found = record_delivery(services(), at_id, status, reason)
    except SQLAlchemyError as exc:
        log.error("delivery report not stored: %s", type(exc).__name__)
        return _text("try again", 503)
    if not found:
        # Answer 200 anyway: an error would make AT retry a report we can never match.
        log.info("delivery report %s for unknown AT message id %s", status, at_id)
    return _text("OK")


def record_delivery(svc: Services, at_id: str, status: str, reason: str | None) -> bool:
    """Apply a delivery report to the message AT calls ``at_id``; tell whether it exists."""
    with svc.db.session() as session:
        message = session.scalar(
            select(Message).where(Message.at_message_id == at_id).limit(1).with_for_update()
        )
        if message is None:
            return False
        if (message.delivery_status, message.delivery_reason) == (status, reason):
            return True  # a repeated report
        if status in IN_FLIGHT and message.delivery_status not in (None, *IN_FLIGHT):
            return True  # a late "Buffered" after the final word
        message.delivery_status = status
        message.delivery_reason = reason
        if status == "Success":
            message.delivered_at = utcnow()
        log.info("sms %d delivery %s", message.id, status)
        return True


def _clip(value: str | None, limit: int) -> str | None:
    """Fit a field to its column; PostgreSQL refuses over-long text."""
    if not value:
        return None
    return value[:limit]
