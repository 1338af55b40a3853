"""The police-alert warning job: ``app.partners.police`` warns."""

from __future__ import annotations

from app.partners import police
from workers import services


def warn_police_alert(alert_id: int) -> int:
    return police.warn_alert(services(), alert_id)
