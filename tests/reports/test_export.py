"""CSV and XLSX files of a report: they read back with the same numbers, and run no formula."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.reports.export import cell, to_csv, to_xlsx

COLUMNS = ("licence_no", "agency_name", "risk_score", "rate", "missing")
ROWS = [{"licence_no": "NEA/1", "agency_name": "=HYPERLINK(\"http://x\")", "risk_score": 38,
         "rate": 66.7, "missing": None},
        {"licence_no": "NEA/2", "agency_name": "Safe Ltd", "risk_score": "<5", "rate": "suppressed",
         "missing": None}]


def test_cells_keep_numbers_and_make_text_inert():
    assert [cell(v) for v in (3, 2.5, None, "+2547", "@SUM(A1)", "-1", "ok", ["a", "b"])] == [
        3, 2.5, "", "'+2547", "'@SUM(A1)", "'-1", "ok", "a;b"]


def test_csv_reads_back():
    rows = list(csv.reader(io.StringIO(to_csv(COLUMNS, ROWS))))
    assert rows == [list(COLUMNS), ["NEA/1", "'=HYPERLINK(\"http://x\")", "38", "66.7", ""],
                    ["NEA/2", "Safe Ltd", "<5", "suppressed", ""]]


def test_xlsx_reads_back_as_numbers_and_text_never_formulas():
    book = load_workbook(io.BytesIO(to_xlsx("Top agencies: risk/score", COLUMNS, ROWS,
                                            {"filters": "none"})))
    assert book.sheetnames == ["Top agencies riskscore", "About"]
    sheet = book.worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values == [list(COLUMNS), ["NEA/1", "'=HYPERLINK(\"http://x\")", 38, 66.7, None],
                      ["NEA/2", "Safe Ltd", "<5", "suppressed", None]]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert [list(r) for r in book["About"].iter_rows(values_only=True)] == [["filters", "none"]]
