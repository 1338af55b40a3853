"""The reconciler job, every minute from the schedule: ``app.reconcile`` does the work."""

from __future__ import annotations

from datetime import datetime

from app import reconcile as reconciler
from workers import services


def reconcile(*, now: datetime | None = None) -> dict[str, int]:
    return reconciler.reconcile(services(), now)
