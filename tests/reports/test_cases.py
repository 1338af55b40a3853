"""``cases``: distress cases per 1,000 migrants by country, agency and employer."""

from __future__ import annotations

from datetime import date

from tests.reports.dataset import AGENCY_NAMES, LICENCES
from tests.reports.helpers import pick


def test_per_country(run):
    # Opened by 30 June: C1, C2, C4, C5 (SA), C3 (QA), C7 (no country); C6 is in November.
    # Migrants abroad on 30 June: SA 6, QA 2, AE 1.
    assert pick(run("cases", by="country"), "value", "label", "cases", "migrants",
                "per_1000") == [
        ("SA", "Saudi Arabia", 4, 6, 666.7), ("QA", "Qatar", 1, 2, 500.0),
        ("AE", "United Arab Emirates", 0, 1, 0.0), ("unknown", "unknown", 1, 0, None)]


def test_per_agency(run):
    # A1: C1, C2, C4 over P1-P6 and PL12 (7); A2: C3 over P7, P8; no agency: C5, C7.
    assert pick(run("cases", by="agency"), "value", "label", "cases", "migrants",
                "per_1000") == [
        (LICENCES["A2"], AGENCY_NAMES["A2"], 1, 2, 500.0),
        (LICENCES["A1"], AGENCY_NAMES["A1"], 3, 7, 428.6),
        ("unknown", "unknown", 2, 0, None)]


def test_per_employer(run):
    # E1: C1, C2 over P1-P4; E2: C3 over P7, P8; none: C4, C5, C7 over P5, P6, PL12.
    assert pick(run("cases", by="employer"), "value", "label", "cases", "migrants",
                "per_1000") == [
        ("unknown", "unknown", 3, 3, 1000.0),
        ("Al Noor Household Services", "Al Noor Household Services, SA", 2, 4, 500.0),
        ("Doha Build Co", "Doha Build Co, QA", 1, 2, 500.0)]


def test_without_by_every_breakdown(run):
    assert [r["dimension"] for r in run("cases")] == ["country"] * 4 + ["agency"] * 3 \
        + ["employer"] * 3


def test_kenyan_days_bound_the_range(run):
    # C5 was opened at 22:30 UTC on 29 June: 01:30 on 30 June in Kenya.
    rows = run("cases", by="country", date_from=date(2026, 6, 30))
    assert pick(rows, "value", "cases") == [("SA", 1), ("AE", 0), ("QA", 0)]


def test_filters_narrow_both_sides(run):
    assert pick(run("cases", by="country", gender="female"), "value", "cases", "migrants",
                "per_1000") == [("QA", 1, 1, 1000.0), ("SA", 3, 4, 750.0)]
    assert pick(run("cases", by="country", occupation="driver"), "value", "cases",
                "migrants") == [("SA", 1, 2)]
    assert pick(run("cases", by="agency", agency=LICENCES["A1"]), "value", "cases",
                "migrants") == [(LICENCES["A1"], 3, 7)]
