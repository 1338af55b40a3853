"""``stock``: migrants abroad on a day, by country, each person once."""

from __future__ import annotations

from datetime import date

from tests.reports.dataset import LICENCES
from tests.reports.helpers import pick


def test_counts_each_person_abroad_once_on_the_day(run):
    # SA: P1 (two placements), P2-P6; QA: P7, P8; AE: the placement with no person.
    # Not: P9 (home on 15 June), P10 (leaves in July), P11 (never left).
    assert pick(run("stock"), "country", "country_name", "migrants") == [
        ("SA", "Saudi Arabia", 6), ("QA", "Qatar", 2), ("AE", "United Arab Emirates", 1)]


def test_an_earlier_day_counts_who_was_abroad_then(run):
    # 1 June: P9 was still abroad (home 15 June), P8 not yet gone (20 June).
    assert pick(run("stock", date_to=date(2026, 6, 1)), "country", "migrants") == [
        ("SA", 7), ("AE", 1), ("QA", 1)]


def test_person_filters_narrow_to_registered_people(run):
    assert pick(run("stock", gender="female"), "country", "migrants") == [("SA", 4), ("QA", 1)]
    assert pick(run("stock", county=47), "country", "migrants") == [("SA", 3), ("QA", 1)]
    assert pick(run("stock", county=47, gender="male"), "country", "migrants") == []


def test_country_agency_occupation_and_scope_filters(run):
    assert pick(run("stock", country="QA"), "country", "migrants") == [("QA", 2)]
    assert pick(run("stock", agency=LICENCES["A2"]), "country", "migrants") == [("QA", 2)]
    assert pick(run("stock", occupation="driver"), "country", "migrants") == [("SA", 2)]
    assert pick(run("stock", countries=("QA", "AE")), "country", "migrants") == [
        ("QA", 2), ("AE", 1)]
    assert run("stock", countries=()) == []
