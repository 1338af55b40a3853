"""When a check-in is due: pure date arithmetic, no SQL.

Sequence 1 is due 7 days after arrival, sequence ``n`` at arrival + 7 days +
``n - 1`` calendar months (the day clamped to the month's end), and a check-in
goes out only while it is daytime where the person is.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from app.reference.countries import timezone_for

FIRST_AFTER = timedelta(days=7)
"""The first check-in is due this long after arrival."""

MIN_GAP = timedelta(days=28)
"""The shortest gap between two monthly check-ins (31 Jan -> 28 Feb)."""

WAKING_HOURS = (8, 20)
"""Local hours [from, to) in which a check-in may go out: 08:00 to 19:59."""


def parse_as_of(as_of: str | datetime | None) -> datetime:
    """Give ``as_of`` as an aware UTC datetime; a naive one is read as UTC, None is now."""
    if as_of is None:
        return datetime.now(UTC)
    if isinstance(as_of, str):
        text = as_of.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        as_of = datetime.fromisoformat(text)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """Move ``moment`` by whole calendar months, clamping the day to the month's end."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(arrived_at: datetime, sequence: int) -> datetime:
    """Give when check-in number ``sequence`` (1-based) is due."""
    if sequence < 1:
        raise ValueError("sequences start at 1")
    return add_months(arrived_at + FIRST_AFTER, sequence - 1)


def current_sequence(arrived_at: datetime, as_of: datetime) -> int:
    """Give the latest sequence due at ``as_of`` (0 when the first is not due yet)."""
    first = arrived_at + FIRST_AFTER
    if as_of < first:
        return 0
    months = (as_of.year - first.year) * 12 + as_of.month - first.month
    if add_months(first, months) > as_of:
        months -= 1
    return months + 1


@cache
def _zone(country: str | None) -> ZoneInfo:
    return ZoneInfo(timezone_for(country or ""))


def is_waking(country: str | None, as_of: datetime) -> bool:
    """Tell whether ``as_of`` falls inside waking hours in the country's time zone."""
    start, end = WAKING_HOURS
    return start <= as_of.astimezone(_zone(country)).hour < end
