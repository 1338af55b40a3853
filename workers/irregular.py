"""The nightly irregular recompute, and a safety net for police-alert warnings."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models.partner import PoliceAlert
from app.partners.police import warn_job
from app.placements.irregular import recompute
from workers import services

log = logging.getLogger(__name__)

REWARN_AFTER = timedelta(minutes=10)
"""A police alert still unwarned this long after it was stored lost its job: ask again."""


def recompute_irregular(as_of: str | None = None) -> int:
    """Recompute every placement's irregular flags in set-based SQL; give rows changed."""
    svc = services()
    on = date.fromisoformat(as_of[:10]) if as_of else None
    with svc.db.session() as session:
        changed = recompute(session, on)
    log.info("irregular recompute: %d placement(s) changed", changed)
    return changed


def rewarn_police_alerts() -> int:
    """Re-enqueue the warning job of every alert still unwarned (Redis lost the job)."""
    svc = services()
    with svc.db.Session() as session:
        pending = session.scalars(
            select(PoliceAlert.id).where(PoliceAlert.warned_at.is_(None),
                                         PoliceAlert.created_at < utcnow() - REWARN_AFTER)
            .order_by(PoliceAlert.id)).all()
    for alert_id in pending:
        svc.enqueue(warn_job(alert_id))
    return len(pending)
