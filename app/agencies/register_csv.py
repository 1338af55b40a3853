"""Read the NEA licence register CSV (contract §5) and validate every row.

The whole file is read and every row validated before anything is written
(``app.agencies.register.import_rows`` writes the good rows), so a bad row is reported
with its line number and reason and never half-imported. Line numbers count the
file's own lines, quoted line breaks included; blank lines are skipped. A licence
number given twice is refused: later copies always, the first too if they disagree.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from app.agencies.names import parse_licence, person_key
from app.agencies.register import Problem, Row, kenya_today
from app.models.agency import LICENCE_STATUSES
from app.phones import InvalidPhone, normalise

COLUMNS = ("licence_no", "agency_name", "status", "expires_on", "phone", "email",
           "physical_address", "directors")
"""The register's header row, in the contract's order."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_LETTER = re.compile(r"[^\W\d_]")


class RegisterFileError(ValueError):
    """The file cannot be imported at all: unreadable, not UTF-8, or a wrong header."""


def read_register(path: str | Path) -> str:
    """Read a register file as text, or raise ``RegisterFileError`` saying why not."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise RegisterFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterFileError(f"{path} is not UTF-8 (byte {exc.start})") from None


def parse(text: str, today: date | None = None) -> tuple[list[Row], list[Problem], tuple[str, ...]]:
    """Validate every row of a register CSV: good rows, bad rows with reasons, extra columns."""
    today = today or kenya_today()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RegisterFileError("the file is empty; expected a header row: "
                                + ",".join(COLUMNS)) from None
    except csv.Error as exc:
        raise RegisterFileError(f"line 1: cannot read the header ({exc})") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing or len(set(names)) != len(names):
        raise RegisterFileError("wrong header: expected " + ",".join(COLUMNS)
                                + (f" (missing {', '.join(missing)})" if missing else
                                   " (a column is repeated)"))
    index = {name: names.index(name) for name in COLUMNS}
    ignored = tuple(n for n in names if n not in COLUMNS)
    rows: list[Row] = []
    problems: list[Problem] = []
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(line, f"cannot read the row ({exc})"))
            continue
        if not fields or all(not f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != len(names):
            problems.append(Problem(line, f"has {len(fields)} fields, expected {len(names)}",
                                    parse_licence(fields[0], today) if fields else None))
            continue
        row, reasons = _validate(line, {c: fields[i].strip() for c, i in index.items()}, today)
        if reasons:
            problems.append(Problem(line, "; ".join(reasons), row))
        else:
            rows.append(row)
    rows, duplicates = _drop_duplicates(rows, problems)
    problems.extend(duplicates)
    problems.sort(key=lambda p: p.line)
    return rows, problems, ignored


def _validate(line: int, raw: dict[str, str], today: date) -> tuple:
    """Give (Row, []) for a good row, or (licence number or None, reasons) for a bad one."""
    reasons: list[str] = []
    licence_no = parse_licence(raw["licence_no"], today)
    if not raw["licence_no"]:
        reasons.append("licence_no is empty")
    elif licence_no is None:
        reasons.append(f"licence_no {_show(raw['licence_no'])} is not like NEA/PEA/2024/0001")
    name = re.sub(r"\s+", " ", raw["agency_name"]).strip()
    if not name:
        reasons.append("agency_name is empty")
    elif len(name) > 200:
        reasons.append("agency_name is longer than 200 characters")
    elif not _LETTER.search(name):
        reasons.append(f"agency_name {_show(name)} has no letters")
    status = raw["status"].lower()
    if status not in LICENCE_STATUSES:
        reasons.append(f"status {_show(raw['status'])} is not one of "
                       + ", ".join(LICENCE_STATUSES))
    expires_on = None
    if raw["expires_on"]:
        expires_on = _iso_date(raw["expires_on"])
        if expires_on is None:
            reasons.append(f"expires_on {_show(raw['expires_on'])} is not an ISO date "
                           "(YYYY-MM-DD)")
    elif status == "valid":
        reasons.append("expires_on is empty (a valid licence must have an expiry date)")
    phone = None
    if raw["phone"]:
        try:
            phone = normalise(raw["phone"])
        except InvalidPhone:
            reasons.append(f"phone {_show(raw['phone'])} is not a valid phone number")
    email = raw["email"] or None
    if email and (len(email) > 200 or not _EMAIL.match(email)):
        reasons.append(f"email {_show(email)} is not an email address")
    address = re.sub(r"\s+", " ", raw["physical_address"]).strip() or None
    if address and len(address) > 300:
        reasons.append("physical_address is longer than 300 characters")
    directors: dict[str, str] = {}
    for part in raw["directors"].split(";"):
        director = re.sub(r"\s+", " ", part).strip()
        if not director:
            continue
        if len(director) > 120 or not _LETTER.search(director):
            reasons.append(f"director {_show(director)} is not a name")
            continue
        directors.setdefault(person_key(director), director)
    if reasons:
        return licence_no, reasons
    return Row(line, licence_no, name, status, expires_on, phone, email, address,
               tuple(directors.values())), []


def _iso_date(text: str) -> date | None:
    if not _ISO_DATE.match(text):
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if 1990 <= value.year <= 2100 else None


def _show(value: str, width: int = 40) -> str:
    """Quote a bad value for a report line, cut so one garbage cell cannot flood it."""
    text = value if len(value) <= width else value[: width - 3] + "..."
    return repr(text)


def _drop_duplicates(rows: list[Row], problems: Sequence[Problem]) -> tuple[list[Row], list]:
    """Refuse repeated licence numbers: later copies always, the first if they disagree."""
    first: dict[str, Row] = {}
    for problem in problems:  # a bad row still claims its licence number first
        if problem.licence_no and problem.licence_no not in first:
            first[problem.licence_no] = Row(problem.line, problem.licence_no, "", "", None,
                                            None, None, None, ())
    refused: list[Problem] = []
    conflicted: dict[str, int] = {}
    kept: list[Row] = []
    for row in rows:
        earlier = first.get(row.licence_no)
        if earlier is None or earlier.line > row.line:
            first[row.licence_no] = row
            continue
        refused.append(Problem(row.line, f"duplicate licence_no {row.licence_no}: "
                                         f"already on line {earlier.line}", row.licence_no))
        if _details(row) != _details(earlier):
            conflicted.setdefault(row.licence_no, row.line)
    for row in rows:
        if first.get(row.licence_no) is not row:
            continue
        if row.licence_no in conflicted:
            refused.append(Problem(row.line, f"licence_no {row.licence_no} appears again on "
                                             f"line {conflicted[row.licence_no]} with different "
                                             "details", row.licence_no))
        else:
            kept.append(row)
    return kept, refused


def _details(row: Row) -> tuple:
    return (row.name, row.register_status, row.expires_on, row.phone, row.email,
            row.physical_address, row.directors)
