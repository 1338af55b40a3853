"""The nightly irregular recompute, and a safety net for police-alert warnings."""

from __future__ import annotations

from app.partners import police
from app.placements import irregular
from workers import services


def recompute_irregular(as_of: str | None = None) -> int:
    return irregular.recompute_all(services(), as_of)


def rewarn_police_alerts() -> int:
    return police.rewarn(services())
