"""``sla``: distress cases acknowledged within their severity's clock, per mission."""

from __future__ import annotations

from datetime import date

from tests.reports.helpers import pick


def test_per_mission_with_the_configured_clocks(run):
    # KE-RUH: C1 (10 min, critical) in, C2 (3 h, high) late, C4 (closed in 5 min) in,
    # C5 (7.5 h, normal) in. KE-DOH: C3 never answered, late. HQ: C7 in.
    assert pick(run("sla"), "mission", "mission_name", "cases", "in_time", "late", "waiting",
                "compliance_pct") == [
        ("HQ", "Diaspora desk, Nairobi", 1, 1, 0, 0, 100.0),
        ("KE-DOH", "Embassy of Kenya, Doha", 1, 0, 1, 0, 0.0),
        ("KE-RUH", "Embassy of Kenya, Riyadh", 4, 3, 1, 0, 75.0)]


def test_a_case_inside_its_clock_is_waiting_not_late(run):
    rows = run("sla", date_to=None, country="QA")  # C6 opened an hour ago
    assert pick(rows, "mission", "cases", "in_time", "late", "waiting", "compliance_pct") == [
        ("KE-DOH", 2, 0, 1, 1, 0.0)]


def test_the_clock_comes_from_the_configuration(app, run):
    app.config["SLA"] = {"critical": 900, "high": 4 * 3600, "normal": 3600}
    rows = run("sla", country="SA")  # C2 (3 h) now in time; C5 (7.5 h) now late
    assert pick(rows, "mission", "in_time", "late", "compliance_pct") == [
        ("KE-RUH", 3, 1, 75.0)]
    assert pick(run("sla", country="SA", date_from=date(2026, 6, 1)), "in_time", "late") == [
        (1, 1)]
