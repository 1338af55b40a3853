"""``agencies`` and ``agency_risk``: licence status and risk signals per agency."""

from __future__ import annotations

from datetime import date

from tests.reports.dataset import AGENCY_NAMES, LICENCES
from tests.reports.helpers import pick

SIGNALS = ("licence_no", "status", "placements", "cases", "complaints", "police_alerts",
           "listings_total", "listings_rejected", "rejected_pct", "cases_per_1000_placements",
           "risk_score")


def test_every_agency_with_its_signals(run):
    # A1: 8 placed, C1 C2 C4, 1 complaint, 2 listings (1 rejected): 3x3 + 2x1 + 1 = 12.
    # A2 (suspended, yet placed 2): C3, 2 complaints, 1 alert, 2 listings (1 rejected):
    #   10 + 3 + 4 + 1 + 20 = 38. A3 (expired in January, placed PL9 in February): 20.
    assert pick(run("agencies"), *SIGNALS) == [
        (LICENCES["A1"], "valid", 8, 3, 1, 0, 2, 1, 50.0, 375.0, 12),
        (LICENCES["A2"], "suspended", 2, 1, 2, 1, 2, 1, 50.0, 500.0, 38),
        (LICENCES["A3"], "expired", 1, 0, 0, 0, 0, 0, None, 0.0, 20),
        (LICENCES["A4"], "valid", 0, 0, 0, 0, 0, 0, None, None, 0)]
    assert run("agencies")[0]["agency_name"] == AGENCY_NAMES["A1"]
    assert run("agencies")[0]["expires_on"] == "2027-12-31"


def test_filters_narrow_the_signals_not_the_register(run):
    rows = run("agencies", country="QA")
    assert pick(rows, "licence_no", "placements", "cases", "complaints", "listings_total") == [
        (LICENCES["A1"], 0, 0, 1, 0), (LICENCES["A2"], 2, 1, 2, 1),
        (LICENCES["A3"], 0, 0, 0, 0), (LICENCES["A4"], 0, 0, 0, 0)]
    rows = run("agencies", agency=LICENCES["A2"], date_from=date(2026, 6, 1))
    assert pick(rows, "licence_no", "placements", "cases", "complaints", "police_alerts") == [
        (LICENCES["A2"], 1, 1, 1, 1)]


def test_agency_risk_ranks_the_agencies_with_any_signal(run):
    assert pick(run("agency_risk"), "licence_no", "agency_name", "status", "risk_score") == [
        (LICENCES["A2"], AGENCY_NAMES["A2"], "suspended", 38),
        (LICENCES["A3"], AGENCY_NAMES["A3"], "expired", 20),
        (LICENCES["A1"], AGENCY_NAMES["A1"], "valid", 12)]
