"""Listing jobs: ``app.listings.validation`` validates."""

from __future__ import annotations

from datetime import datetime

from app.listings import validation
from workers import services


def validate_listing(listing_id: int) -> str | None:
    return validation.validate_listing(services(), listing_id)


def revalidate_pending(*, now: datetime | None = None) -> int:
    return validation.revalidate_pending(services(), now)
