"""Escalation jobs: the timer of one case's clock, and the every-minute sweep.

``app.protection.escalation`` decides; both are safe to run twice.
"""

from __future__ import annotations

from datetime import datetime

from app.protection import escalation
from workers import services


def escalate_due(as_of: datetime | str | None = None) -> dict[str, int]:
    return escalation.escalate_due(services(), as_of)


def escalate_case(case_id: int, as_of: datetime | str | None = None) -> str:
    return escalation.escalate_case(services(), case_id, as_of)
