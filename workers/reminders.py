"""The reminder job of a cut-off registration: ``app.drafts`` reminds, once."""

from __future__ import annotations

from app import drafts
from workers import services


def send_registration_reminder(draft_id: int) -> bool:
    return drafts.send_reminder(services(), draft_id)
