"""``departures``: placements by month of departure."""

from __future__ import annotations

from datetime import date

from tests.reports.helpers import pick


def test_departures_per_month_up_to_the_day(run):
    # Feb: PL9; Mar: PL1a, PL1b, PL2, PL3; Apr: PL4, PL5, PL12; May: PL6, PL7; Jun: PL8.
    # PL10 leaves in July, after the range; PL11 never left.
    assert pick(run("departures"), "month", "departures") == [
        ("2026-02", 1), ("2026-03", 4), ("2026-04", 3), ("2026-05", 2), ("2026-06", 1)]


def test_range_and_filters_narrow(run):
    assert pick(run("departures", date_from=date(2026, 3, 1), date_to=date(2026, 4, 30)),
                "month", "departures") == [("2026-03", 4), ("2026-04", 3)]
    assert pick(run("departures", gender="male"), "month", "departures") == [
        ("2026-02", 1), ("2026-04", 1), ("2026-05", 1), ("2026-06", 1)]
    assert pick(run("departures", country="AE", date_to=date(2026, 12, 31)),
                "month", "departures") == [("2026-04", 1), ("2026-07", 1)]
