"""Jobs for partner events: warn people about a police alert."""

from __future__ import annotations

from app.partners.police import warn
from workers import services


def warn_police_alert(alert_id: int) -> int:
    """SMS-warn everyone who checked or applied through the alerted agency or recruiter."""
    svc = services()
    with svc.db.session() as session:
        return warn(svc, session, alert_id)
