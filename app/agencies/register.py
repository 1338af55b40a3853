"""Import the NEA licence register CSV (contract §5): validate every row, then write.

The file is read and every row validated before anything is written, so a bad row
is reported (line number and reason) and never half-imported. Good rows are then
written in batches inside one transaction, each batch under a savepoint: if the
database still refuses a batch, that batch is replayed row by row, each under its
own savepoint, and the refused row is reported like any other bad row.

Existing licences are loaded in a few ``IN`` queries, never one SELECT per row.
A row for a known licence updates it; a change of status or expiry date is kept
in ``LicenceChange`` with the source ``import:<file name>``. A licence whose
``expires_on`` has passed is ``expired`` whatever its row says; the row's own word is
kept as ``register_status``. The one exception is ``revoked``: a revoked licence stays
revoked after its date, because that is the stronger warning.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.agencies.names import name_key, parse_licence, person_key
from app.db import utcnow
from app.models import Agency, Director, Licence, LicenceChange, RegisterImport
from app.models.agency import LICENCE_STATUSES
from app.phones import InvalidPhone, normalise

COLUMNS = ("licence_no", "agency_name", "status", "expires_on", "phone", "email",
           "physical_address", "directors")
"""The register's header row, in the contract's order."""

KENYA = ZoneInfo("Africa/Nairobi")
"""Licences expire by the Kenyan calendar."""

BATCH = 500
"""Rows written per savepoint (and per ``IN`` query when loading what exists)."""

LARGE_FILE = 2000
"""Rows from which the CLI shows a progress bar even when stderr is not a terminal."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_LETTER = re.compile(r"[^\W\d_]")


class RegisterFileError(ValueError):
    """The file cannot be imported at all: unreadable, not UTF-8, or a wrong header."""


@dataclass(frozen=True)
class Row:
    """One register row, validated and normalised."""

    line: int
    licence_no: str
    name: str
    register_status: str
    expires_on: date | None
    phone: str | None
    email: str | None
    physical_address: str | None
    directors: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """A row that was not imported: where it is and why."""

    line: int
    reason: str
    licence_no: str | None = None


@dataclass
class ImportResult:
    """What an import did, for the summary and the ``RegisterImport`` record."""

    source: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()
    import_id: int | None = None

    @property
    def invalid(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        return (f"added={self.added} updated={self.updated} unchanged={self.unchanged} "
                f"invalid={self.invalid}")


def kenya_today() -> date:
    """Give today's date in Kenya."""
    return datetime.now(KENYA).date()


def effective_status(register_status: str, expires_on: date | None, today: date) -> str:
    """Give the status in force: past its expiry date a licence is expired (unless revoked)."""
    if expires_on is not None and expires_on < today and register_status != "revoked":
        return "expired"
    return register_status


def last_update() -> Select:
    """Select the time of the newest import that brought any good row: the register's date."""
    return select(func.max(RegisterImport.imported_at)).where(
        RegisterImport.added + RegisterImport.updated + RegisterImport.unchanged > 0)


# ---------------------------------------------------------------------- reading


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


# ---------------------------------------------------------------------- writing


def import_rows(session: Session, rows: Sequence[Row], *, source: str,
                today: date | None = None,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Write validated rows: add new licences, update known ones, keep the history."""
    today = today or kenya_today()
    result = ImportResult(source=source, rows=len(rows))
    existing = _existing(session, [row.licence_no for row in rows])
    now = utcnow()
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        try:
            with session.begin_nested():
                outcomes = _write_batch(session, batch, existing, source, today, now)
        except (IntegrityError, DataError):
            _reload(session, existing, batch)
            outcomes = []
            for row in batch:  # find the refused row(s); keep the others
                try:
                    with session.begin_nested():
                        outcomes += _write_batch(session, [row], existing, source, today, now)
                except (IntegrityError, DataError) as exc:
                    _reload(session, existing, [row])
                    reason = str(exc.orig).strip().splitlines()[0][:120] if exc.orig else "error"
                    result.problems.append(Problem(row.line, "the database refused the row "
                                                             f"({reason})", row.licence_no))
        for outcome, changed in outcomes:
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.status_changes += changed
        if progress is not None:
            progress(len(batch))
    return result


def record_import(session: Session, result: ImportResult) -> RegisterImport:
    """Store the import's counts: its time is 'the register's last update'."""
    record = RegisterImport(source=result.source[:200], added=result.added,
                            updated=result.updated, unchanged=result.unchanged,
                            invalid=result.invalid)
    session.add(record)
    session.flush()
    result.import_id = record.id
    return record


class _Known:
    """A licence already on the register, with its agency and directors."""

    __slots__ = ("licence", "agency", "directors")

    def __init__(self, licence: Licence, agency: Agency) -> None:
        self.licence = licence
        self.agency = agency
        self.directors: list[Director] = []


def _existing(session: Session, licence_nos: Iterable[str]) -> dict[str, _Known]:
    """Load the licences, agencies and directors these rows name, in a few queries."""
    wanted = list(dict.fromkeys(licence_nos))
    known: dict[str, _Known] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        pairs = session.execute(
            select(Licence, Agency).join(Agency, Licence.agency_id == Agency.id)
            .where(Licence.licence_no.in_(chunk))
        ).all()
        by_agency = {}
        for licence, agency in pairs:
            item = _Known(licence, agency)
            known[licence.licence_no] = item
            by_agency[agency.id] = item
        if by_agency:
            for director in session.scalars(
                select(Director).where(Director.agency_id.in_(list(by_agency)))
                .order_by(Director.id)
            ):
                by_agency[director.agency_id].directors.append(director)
    return known


def _reload(session: Session, existing: dict[str, _Known], rows: Sequence[Row]) -> None:
    """Forget what a rolled-back savepoint wrote for these rows; reload what is stored."""
    for row in rows:
        existing.pop(row.licence_no, None)
    existing.update(_existing(session, [row.licence_no for row in rows]))


def _write_batch(session: Session, rows: Sequence[Row], existing: dict[str, _Known],
                 source: str, today: date, now: datetime) -> list[tuple[str, int]]:
    """Add or update rows with one flush for the lot; give each row's outcome."""
    outcomes: list[tuple[str, int]] = []
    changes: list[tuple[Licence, dict]] = []
    seen: list[int] = []
    for row in rows:
        known = existing.get(row.licence_no)
        if known is None:
            outcomes.append(("added", 0))
            changes.append(_add(session, row, existing, today, now))
            continue
        outcome, change = _update(session, row, known, today)
        outcomes.append(outcome)
        seen.append(known.licence.id)
        if change is not None:
            changes.append((known.licence, change))
    session.flush()  # new rows get their ids here, in a few multi-row INSERTs
    for licence, values in changes:
        session.add(LicenceChange(licence_id=licence.id, source=f"import:{source}"[:80],
                                  learned_at=now, **values))
    if seen:
        session.execute(update(Licence).where(Licence.id.in_(seen)).values(last_seen_at=now))
    session.flush()
    return outcomes


def _add(session: Session, row: Row, existing: dict[str, _Known], today: date,
         now: datetime) -> tuple[Licence, dict]:
    status = effective_status(row.register_status, row.expires_on, today)
    agency = Agency(name=row.name, name_key=name_key(row.name), phone=row.phone,
                    email=row.email, physical_address=row.physical_address,
                    complaints_count=0, placements_count=0, listings_total=0,
                    listings_rejected=0, police_alerts=0)
    agency.directors = [Director(name=d, name_key=person_key(d)) for d in row.directors]
    licence = Licence(licence_no=row.licence_no, register_status=row.register_status,
                      status=status, expires_on=row.expires_on, last_seen_at=now, agency=agency)
    session.add_all([agency, licence])
    known = _Known(licence, agency)
    known.directors = list(agency.directors)
    existing[row.licence_no] = known
    return licence, {"old_status": None, "new_status": status, "old_expires_on": None,
                     "new_expires_on": row.expires_on}


def _update(session: Session, row: Row, known: _Known,
            today: date) -> tuple[tuple[str, int], dict | None]:
    licence, agency = known.licence, known.agency
    status = effective_status(row.register_status, row.expires_on, today)
    changed = False
    for attr, value in (("name", row.name), ("phone", row.phone), ("email", row.email),
                        ("physical_address", row.physical_address)):
        if getattr(agency, attr) != value:
            setattr(agency, attr, value)
            changed = True
    key = name_key(row.name)
    if agency.name_key != key:
        agency.name_key = key
    if [d.name for d in known.directors] != list(row.directors):
        for director in known.directors:
            session.delete(director)
        known.directors = [Director(agency_id=agency.id, name=d, name_key=person_key(d))
                           for d in row.directors]
        session.add_all(known.directors)
        changed = True
    if licence.register_status != row.register_status:
        licence.register_status = row.register_status
        changed = True
    change = None
    if licence.status != status or licence.expires_on != row.expires_on:
        change = {"old_status": licence.status, "new_status": status,
                  "old_expires_on": licence.expires_on, "new_expires_on": row.expires_on}
        licence.status, licence.expires_on = status, row.expires_on
        changed = True
    status_changed = int(change is not None and change["old_status"] != status)
    return ("updated" if changed else "unchanged", status_changed), change
