"""Reports as files: CSV (UTF-8, a header row) and XLSX (``openpyxl``).

Text that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@`` or a tab) gets a leading apostrophe: an agency or employer name
comes from outside, and opening an export must never run it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from app.reports import Row

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Give a value as a spreadsheet cell: numbers stay numbers, text is made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """Give the rows as CSV text, the columns as its header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return out.getvalue()


def to_xlsx(title: str, columns: Sequence[str], rows: Sequence[Row],
            about: Mapping[str, str]) -> bytes:
    """Give the rows as an XLSX workbook: the data sheet, then what it is (``about``)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_name(title)
    sheet.append(list(columns))
    for heading in sheet[1]:
        heading.font = Font(bold=True)
    for row in rows:
        sheet.append([cell(row.get(c)) for c in columns])
    for cells in sheet.iter_rows():
        for item in cells:
            if isinstance(item.value, str):
                item.data_type = "s"  # never a formula, whatever the text
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("About")
    for key, value in about.items():
        notes.append([key, cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in '[]:*?/\\')
    return (cleaned or "Report")[:31]
