"""``kazi report NAME``: the aggregate reports print exact numbers as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json


def test_stock_as_json(runner, data):
    result = runner.invoke(args=["report", "stock", "--to", "2026-06-30", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"country": "SA", "country_name": "Saudi Arabia", "migrants": 6},
        {"country": "QA", "country_name": "Qatar", "migrants": 2},
        {"country": "AE", "country_name": "United Arab Emirates", "migrants": 1}]


def test_cases_as_csv_with_country_and_range(runner, data):
    result = runner.invoke(args=["report", "cases", "--country", "SA", "--from", "2026-06-01",
                                 "--to", "2026-06-30"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["dimension"], r["value"], r["cases"], r["migrants"], r["per_1000"])
            for r in rows] == [
        ("country", "SA", "2", "6", "333.3"),
        ("agency", "NEA/PEA/2024/0001", "1", "6", "166.7"),
        ("agency", "unknown", "1", "0", ""),
        ("employer", "unknown", "2", "2", "1000.0"),
        ("employer", "Al Noor Household Services", "0", "4", "0.0")]


def test_every_contract_report_runs(runner, data):
    for name in ("stock", "departures", "placements", "cases", "sla", "irregular", "agencies"):
        result = runner.invoke(args=["report", name, "--to", "2026-06-30"])
        assert result.exit_code == 0, (name, result.output)
        assert result.output.splitlines()[0].count(",") >= 1, name
