"""``checkins``: check-in response rate by destination country."""

from __future__ import annotations

from datetime import date

from tests.reports.helpers import pick

COLUMNS = ("country", "sent", "answered", "missed", "awaiting", "response_pct")


def test_response_rate_leaves_out_the_awaiting(run):
    # SA: PL1a answered, answered, missed; PL2 answered, awaiting; PL3's is not sent yet.
    assert pick(run("checkins"), *COLUMNS) == [
        ("AE", 1, 0, 1, 0, 0.0), ("QA", 2, 1, 1, 0, 50.0), ("SA", 5, 3, 1, 1, 75.0)]


def test_filters_narrow(run):
    assert pick(run("checkins", date_from=date(2026, 6, 1)), *COLUMNS) == [
        ("QA", 1, 0, 1, 0, 0.0), ("SA", 2, 0, 1, 1, 0.0)]
    assert pick(run("checkins", gender="female"), *COLUMNS) == [
        ("QA", 2, 1, 1, 0, 50.0), ("SA", 5, 3, 1, 1, 75.0)]
    assert pick(run("checkins", country="AE"), *COLUMNS) == [("AE", 1, 0, 1, 0, 0.0)]
