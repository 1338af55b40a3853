"""Check-in jobs: the scheduler runs both every 15 minutes (``app.schedule``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.checkins import campaign, missed
from workers import services


def send_due(as_of: str | datetime | None = None) -> dict[str, Any]:
    """Create and queue every check-in due at ``as_of`` (default now); give counts."""
    return campaign.send_due(services(), as_of)


def mark_missed(as_of: str | datetime | None = None) -> dict[str, int]:
    """Mark silent check-ins missed and open the follow-up cases; give counts."""
    return missed.mark_missed(services(), as_of)
