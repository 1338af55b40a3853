"""AT's delivery reports: the final word on whether a sent SMS reached the phone."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.db import utcnow
from app.extensions import Services
from app.models import Message

log = logging.getLogger(__name__)

STATUSES = frozenset({
    "Sent", "Submitted", "Buffered", "Rejected", "Success", "Failed", "AbsentSubscriber",
    "Expired",
})
"""Every ``status`` AT's delivery reports use."""

IN_FLIGHT = frozenset({"Sent", "Submitted", "Buffered"})
"""Statuses on the way to a phone; a late one never overwrites a final outcome."""

FINAL_FAILURES = frozenset({"Failed", "Rejected", "AbsentSubscriber", "Expired"})
"""Delivery failed for good; the message stays ``sent`` (AT took it), only delivery changes."""

REASON_MAX = 40
"""``Message.delivery_reason`` is VARCHAR(40); PostgreSQL refuses anything longer."""


def record(svc: Services, at_id: str, status: str, reason: str | None) -> bool:
    """Apply a delivery report to the message AT calls ``at_id``; tell whether it exists.

    Safe to receive twice: a repeated report, or a late in-flight status after the
    final one, changes nothing.
    """
    reason = reason[:REASON_MAX] if reason else None
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
