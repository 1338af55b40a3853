"""Small-cell suppression: analysts never see a count of 1 to 4 people, nor a rate made of one."""

from __future__ import annotations

from app.reports.aggregates import get
from app.reports.privacy import HIDDEN_COUNT, HIDDEN_RATE, is_small, suppress
from tests.reports.helpers import pick


def test_what_counts_as_small():
    assert [is_small(v) for v in (0, 1, 4, 5, 120, None, "<5", 2.5, True)] == [
        False, True, True, False, False, False, False, False, False]


def test_counts_and_the_rates_made_from_them_are_hidden(run):
    rows = suppress(get("cases"), run("cases", by="country"))
    # SA 4 cases of 6 migrants; QA 1 of 2; AE 0 of 1; unknown 1 of 0. Hidden rows go last,
    # by label, so their order does not tell a 4 from a 1.
    assert pick(rows, "value", "cases", "migrants", "per_1000") == [
        ("AE", 0, HIDDEN_COUNT, HIDDEN_RATE),
        ("QA", HIDDEN_COUNT, HIDDEN_COUNT, HIDDEN_RATE),
        ("SA", HIDDEN_COUNT, 6, HIDDEN_RATE),
        ("unknown", HIDDEN_COUNT, 0, None)]


def test_five_or_more_and_zero_are_shown(run):
    rows = suppress(get("stock"), run("stock"))
    assert pick(rows, "country", "migrants") == [("SA", 6), ("AE", HIDDEN_COUNT),
                                                 ("QA", HIDDEN_COUNT)]
    assert pick(suppress(get("departures"), run("departures")), "departures") == [
        (HIDDEN_COUNT,)] * 5


def test_reports_not_about_people_are_never_hidden(run):
    assert suppress(get("red_flags"), run("red_flags")) == run("red_flags")
    assert suppress(get("agencies"), run("agencies")) == run("agencies")
