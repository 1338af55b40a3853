"""Jobs for partner events: warn people about a police alert."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app.agencies.checks import drain_checks
from app.partners.police import warn
from workers import services

log = logging.getLogger(__name__)


def warn_police_alert(alert_id: int) -> int:
    """SMS-warn everyone who checked or applied through the alerted agency or recruiter."""
    svc = services()
    try:  # the USSD checks still in Redis are people to warn too
        drain_checks(svc)
    except RedisError as exc:
        log.warning("agency checks in Redis not stored before the alert (%s)",
                    type(exc).__name__)
    with svc.db.session() as session:
        return warn(svc, session, alert_id)
