"""The handling job of one incoming SMS: ``app.sms.inbound`` routes it."""

from __future__ import annotations

from app.sms import inbound
from workers import services


def handle_inbound(inbound_id: int) -> str | None:
    return inbound.handle(services(), inbound_id)
