"""Tests for app.reference.missions."""

import csv
from collections import defaultdict
from importlib import resources

import pytest

from app.reference.countries import CONFLICT_OR_RESTRICTED, DESTINATIONS, is_known_country
from app.reference.missions import (
    HQ,
    MISSIONS,
    SHARED_COVERAGE,
    Mission,
    by_code,
    mission_for,
    missions_for,
)


def test_mission_count_and_unique_codes() -> None:
    assert 25 <= len(MISSIONS) <= 45
    codes = [m.code for m in MISSIONS]
    assert len(codes) == len(set(codes))
    assert all(c.startswith("KE-") for c in codes)


def test_every_covered_code_is_a_real_country() -> None:
    for m in MISSIONS:
        assert m.covers, m.code
        assert is_known_country(m.country), m.code
        assert all(is_known_country(c) for c in m.covers), m.code


def test_csv_columns() -> None:
    path = resources.files("app.reference").joinpath("data", "missions.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[:5] == ["code", "name", "city", "country", "covers"]


def test_no_country_covered_twice_unless_declared() -> None:
    coverers: dict[str, list[str]] = defaultdict(list)
    for m in MISSIONS:
        for iso2 in m.covers:
            coverers[iso2].append(m.code)
    shared = {k: tuple(v) for k, v in coverers.items() if len(v) > 1}
    assert shared == SHARED_COVERAGE


@pytest.mark.parametrize("iso2", sorted(SHARED_COVERAGE))
def test_first_listed_mission_is_primary(iso2: str) -> None:
    assert mission_for(iso2).code == SHARED_COVERAGE[iso2][0]
    assert [m.code for m in missions_for(iso2)] == list(SHARED_COVERAGE[iso2])


@pytest.mark.parametrize(
    ("iso2", "code"),
    [
        ("SA", "KE-RUH"), ("AE", "KE-AUH"), ("QA", "KE-DOH"), ("KW", "KE-KWI"),
        ("OM", "KE-MCT"), ("BH", "KE-KWI"), ("LB", "KE-KWI"), ("JO", "KE-CAI"),
        ("GB", "KE-LON"), ("US", "KE-WAS"), ("CA", "KE-YOW"), ("DE", "KE-BER"),
        ("PL", "KE-BER"), ("IL", "KE-TLV"), ("RU", "KE-MOW"), ("ru", "KE-MOW"),
    ],
)
def test_mission_for_routing(iso2: str, code: str) -> None:
    assert mission_for(iso2).code == code


def test_every_destination_has_a_mission() -> None:
    for iso2 in DESTINATIONS:
        assert mission_for(iso2) is not HQ, iso2


@pytest.mark.parametrize("iso2", ["UA", "LY", "SY", "AF", "KE", "XX", "", "AQ"])
def test_hq_fallback(iso2: str) -> None:
    assert mission_for(iso2) is HQ
    assert missions_for(iso2) == ()


def test_restricted_countries_route_somewhere() -> None:
    for iso2 in CONFLICT_OR_RESTRICTED:
        assert isinstance(mission_for(iso2), Mission)


def test_hq_and_by_code() -> None:
    assert HQ.code == "HQ"
    assert HQ.name == "Diaspora desk, Nairobi"
    assert by_code("hq") is HQ
    assert by_code("KE-JED").city == "Jeddah"
    assert by_code("KE-RUH").label == "Embassy of Kenya, Riyadh"
    assert by_code("nope") is None


def test_uncertain_accreditations_are_flagged_in_notes() -> None:
    assert "not verified" in by_code("KE-MOW").notes.lower()
