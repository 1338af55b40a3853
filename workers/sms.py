"""Send jobs: the outbox (``app.sms.outbox``) claims, sends and records."""

from __future__ import annotations

from collections.abc import Sequence

from app.sms import outbox
from workers import services


def send_message(message_id: int) -> str:
    return outbox.send(services(), message_id)


def send_batch(message_ids: Sequence[int]) -> dict[str, int]:
    return outbox.send_batch(services(), message_ids)
