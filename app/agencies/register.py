"""The NEA licence register (contract §5): the status rules, and writing validated rows.

``app.agencies.register_csv`` reads and validates the file; the good rows are then
written here in batches inside one transaction, each batch under a savepoint: if the
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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.agencies.names import name_key, person_key
from app.db import utcnow
from app.models import Agency, Director, Licence, LicenceChange, RegisterImport

KENYA = ZoneInfo("Africa/Nairobi")
"""Licences expire by the Kenyan calendar."""

BATCH = 500
"""Rows written per savepoint (and per ``IN`` query when loading what exists)."""

LARGE_FILE = 2000
"""Rows from which the CLI shows a progress bar even when stderr is not a terminal."""


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
