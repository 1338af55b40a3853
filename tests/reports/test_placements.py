"""``placements``: placements that left Kenya, by agency, county, gender and occupation."""

from __future__ import annotations

from datetime import date

from tests.reports.dataset import AGENCY_NAMES, LICENCES
from tests.reports.helpers import pick


def test_by_agency_names_the_licence_and_agency(run):
    # Left by 30 June: PL1a-PL9 and PL12 (11); A1 8, A2 2, A3 1.
    assert pick(run("placements", by="agency"), "dimension", "value", "label", "placements") == [
        ("agency", LICENCES["A1"], AGENCY_NAMES["A1"], 8),
        ("agency", LICENCES["A2"], AGENCY_NAMES["A2"], 2),
        ("agency", LICENCES["A3"], AGENCY_NAMES["A3"], 1)]


def test_by_county_gender_and_occupation(run):
    assert pick(run("placements", by="county"), "value", "label", "placements") == [
        ("47", "Nairobi", 5), ("1", "Mombasa", 3), ("22", "Kiambu", 1), ("3", "Kilifi", 1),
        ("unknown", "unknown", 1)]
    assert pick(run("placements", by="gender"), "value", "placements") == [
        ("female", 6), ("male", 4), ("unknown", 1)]
    assert pick(run("placements", by="occupation"), "value", "placements") == [
        ("domestic_worker", 6), ("driver", 3), ("caregiver", 1), ("construction_worker", 1)]


def test_without_by_every_breakdown_in_one_report(run):
    rows = run("placements")
    assert [r["dimension"] for r in rows] == ["agency"] * 3 + ["county"] * 5 + ["gender"] * 3 \
        + ["occupation"] * 4
    for dimension in ("agency", "county", "gender", "occupation"):
        assert sum(r["placements"] for r in rows if r["dimension"] == dimension) == 11


def test_filters_narrow(run):
    assert pick(run("placements", by="gender", country="QA"), "value", "placements") == [
        ("female", 1), ("male", 1)]
    assert pick(run("placements", by="agency", date_from=date(2026, 5, 1)),
                "value", "placements") == [(LICENCES["A2"], 2), (LICENCES["A1"], 1)]
    assert pick(run("placements", by="occupation", county=1), "value", "placements") == [
        ("driver", 3)]
    assert pick(run("placements", by="county", agency=LICENCES["A3"]), "value",
                "placements") == [("1", 1)]
