"""app/checkins/due.py: when check-ins fall due, and when it is daytime abroad."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.checkins.due import add_months, current_sequence, due_at, is_waking, parse_as_of

ARRIVED = datetime(2026, 1, 24, 6, 30, tzinfo=UTC)


def test_the_first_check_in_is_due_seven_days_after_arrival() -> None:
    assert due_at(ARRIVED, 1) == datetime(2026, 1, 31, 6, 30, tzinfo=UTC)
    assert current_sequence(ARRIVED, ARRIVED + timedelta(days=7) - timedelta(seconds=1)) == 0
    assert current_sequence(ARRIVED, ARRIVED + timedelta(days=7)) == 1


def test_then_monthly_with_the_day_clamped_to_the_months_end() -> None:
    # Arrival + 7 days is 31 January: then 28 February, 31 March, 30 April...
    assert [due_at(ARRIVED, n).date().isoformat() for n in (1, 2, 3, 4, 13)] == [
        "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2027-01-31"]


@pytest.mark.parametrize(("as_of", "sequence"), [
    ("2026-02-28T06:29:59+00:00", 1),
    ("2026-02-28T06:30:00+00:00", 2),
    ("2026-03-31T06:29:00+00:00", 2),
    ("2026-03-31T06:30:00+00:00", 3),
    ("2027-02-01T00:00:00+00:00", 13),
])
def test_current_sequence_is_the_latest_one_due(as_of: str, sequence: int) -> None:
    moment = datetime.fromisoformat(as_of)
    assert current_sequence(ARRIVED, moment) == sequence
    assert due_at(ARRIVED, sequence) <= moment < due_at(ARRIVED, sequence + 1)


def test_consecutive_check_ins_are_at_least_28_days_apart() -> None:
    for day in range(1, 32):
        arrived = datetime(2027, 12, day, tzinfo=UTC) - timedelta(days=7)
        gaps = [due_at(arrived, n + 1) - due_at(arrived, n) for n in range(1, 30)]
        assert min(gaps) >= timedelta(days=28)


def test_add_months_crosses_years_both_ways() -> None:
    moment = datetime(2026, 11, 30, tzinfo=UTC)
    assert add_months(moment, 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(moment, -11) == datetime(2025, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(("country", "utc_hour", "awake"), [
    ("SA", 4, False),   # 07:00 in Riyadh
    ("SA", 5, True),    # 08:00
    ("SA", 16, True),   # 19:00
    ("SA", 17, False),  # 20:00
    ("AE", 4, True),    # 08:00 in Dubai
    ("QA", 4, False),   # 07:00 in Doha
    ("US", 12, False),  # 07:00 in New York (November: UTC-5)
    ("US", 13, True),
    ("GB", 8, True),    # 08:00 in London (November: UTC+0)
    ("JP", 10, True),   # 19:00 in Tokyo
    ("JP", 11, False),  # 20:00
    (None, 9, True),    # unknown country: UTC
])
def test_waking_hours_are_the_destinations(country, utc_hour, awake) -> None:
    assert is_waking(country, datetime(2026, 11, 24, utc_hour, tzinfo=UTC)) is awake


def test_waking_hours_follow_daylight_saving() -> None:
    # 07:30 UTC is 08:30 in London in July (BST) but 07:30 in January (GMT).
    assert is_waking("GB", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)) is True
    assert is_waking("GB", datetime(2026, 1, 15, 7, 30, tzinfo=UTC)) is False


def test_as_of_accepts_iso_text_naive_aware_and_none() -> None:
    assert parse_as_of("2026-11-24T09:00:00Z") == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert parse_as_of("2026-11-24T12:00:00+03:00") == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert parse_as_of("2026-11-24 09:00") == datetime(2026, 11, 24, 9, tzinfo=UTC)
    moment = parse_as_of(datetime(2026, 11, 24, 12, tzinfo=timezone(timedelta(hours=3))))
    assert moment == datetime(2026, 11, 24, 9, tzinfo=UTC) and moment.tzinfo is UTC
    assert abs(parse_as_of(None) - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError):
        parse_as_of("next tuesday")
