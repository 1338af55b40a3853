"""SQL storage: engine, sessions, jobs enqueued only after commit, and bulk writes.

The bulk writes (``insert_many``, ``update_many``) send a page of rows in one short
statement. SQLAlchemy's portable bulk insert sends one huge ``VALUES`` list that
psycopg re-parses on every page (its statement cache skips long queries), and arrays
of text are escaped one item at a time in Python: either way most of a campaign's
time went into building SQL. On PostgreSQL the page travels instead as one JSON text
(``json.dumps`` runs in C) that ``json_populate_recordset`` turns into rows of the
table's own type, each column cast as the table declares it. SQLite takes the
portable path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DateTime,
    MetaData,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    text,
    update,
)
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from app.jobs import Job

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names Alembic can diff on SQLite and PostgreSQL alike."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    """Give the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """Make a datetime read back from SQLite (naive) timezone-aware UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Database:
    """One engine and session factory; sessions carry jobs to send after commit."""

    def __init__(self, url: str, dispatch: Callable[[list[Job]], None] | None = None) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.dispatch = dispatch
        event.listen(self.Session, "after_commit", self._after_commit)
        event.listen(self.Session, "after_soft_rollback", self._after_rollback)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success and rolls back on error."""
        with self.Session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def session_on_demand(self) -> Iterator[Session]:
        """Like ``session``, but the session is made only if something uses it.

        For a USSD hop whose events may need no SQL at all (an agency check is
        answered from memory): nothing is built, begun or committed for it.
        """
        lazy = _OnDemand(self.Session)
        try:
            yield lazy  # type: ignore[misc]  # a Session in every way that is used
            if lazy.made is not None:
                lazy.made.commit()
        except BaseException:
            if lazy.made is not None:
                lazy.made.rollback()
            raise
        finally:
            if lazy.made is not None:
                lazy.made.close()

    @contextmanager
    def read(self) -> Iterator[Any]:
        """Give a connection for a few reads, without a transaction (no BEGIN/ROLLBACK)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def _after_commit(self, session: Session) -> None:
        for callback in session.info.pop("after_commit", []):
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - the commit stands; say what was missed
                log.warning("after-commit callback %s failed (%s)",
                            getattr(callback, "__name__", callback), type(exc).__name__)
        jobs = session.info.pop("deferred_jobs", [])
        if jobs and self.dispatch is not None:
            try:
                self.dispatch(jobs)
            except Exception as exc:  # noqa: BLE001 - Redis down: the reconciler re-enqueues
                log.warning("could not enqueue %d job(s) after commit (%s); reconciler will",
                            len(jobs), type(exc).__name__)

    def _after_rollback(self, session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:
            session.info.pop("deferred_jobs", None)
            session.info.pop("after_commit", None)

    def dispose(self) -> None:
        self.engine.dispose()


class _OnDemand:
    """Stands for a Session and makes it on first use (``Database.session_on_demand``)."""

    def __init__(self, factory: Callable[[], Session]) -> None:
        self.factory = factory
        self.made: Session | None = None

    def __getattr__(self, name: str) -> Any:
        if self.made is None:
            self.made = self.factory()
        return getattr(self.made, name)


def defer(session: Session, job: Job) -> None:
    """Ask for ``job`` to be enqueued once this session's transaction commits."""
    session.info.setdefault("deferred_jobs", []).append(job)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this session's transaction commits (never on rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


def dialect_insert(session: Session, table: Any):
    """Give an INSERT for ``table`` that supports ``on_conflict_*`` on our dialects."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    elif name == "sqlite":
        from sqlalchemy.dialects import sqlite as dialect
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(name)
    return dialect.insert(table)


def insert_many(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                returning: Sequence[str] = (), replace_on: str | None = None) -> list[Row]:
    """Insert ``rows`` (dicts with the same keys) into ``table``; give the ``returning`` columns.

    Rows come back in no particular order: return a key column to match them up.
    ``replace_on`` names a unique column: a row already holding the value is replaced.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        if replace_on:
            keys = [row[replace_on] for row in rows]
            session.execute(delete(table).where(table.c[replace_on].in_(keys)))
        back = [table.c[name] for name in returning]
        stmt = insert(table).returning(*back) if back else insert(table)
        result = session.execute(stmt, list(rows))
        return list(result.all()) if back else []
    names = [table.c[name].name for name in rows[0]]  # the model's own names, never input
    columns = ", ".join(names)
    sql = (f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
           f"FROM json_populate_recordset(NULL::{table.name}, :rows)")
    if replace_on:
        sql += (f" ON CONFLICT ({table.c[replace_on].name}) DO UPDATE SET "
                + ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n != replace_on))
    if returning:
        sql += " RETURNING " + ", ".join(table.c[name].name for name in returning)
    result = session.execute(text(sql), {"rows": json.dumps(rows, default=_json)})
    return list(result.all()) if returning else []


def update_many(session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str,
                only_if: tuple[str, Any]) -> None:
    """Update each of ``rows`` (dicts with the same keys) by ``key``, where ``only_if`` holds.

    ``only_if`` is a (column, value) pair, such as a message still in ``sending``. On
    PostgreSQL it is one ``UPDATE ... FROM json_populate_recordset``; elsewhere one
    ``executemany``. The condition is written so that no index on its column is used
    (see ``unindexed``): each row is found by its key.
    """
    if not rows:
        return
    column, value = only_if
    if session.get_bind().dialect.name != "postgresql":
        stmt = (update(table)
                .where(table.c[key] == bindparam(f"b_{key}"),
                       unindexed(table.c[column]) == value)
                .values({name: bindparam(f"b_{name}") for name in rows[0] if name != key}))
        session.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in rows])
        return
    names = [table.c[name].name for name in rows[0] if name != key]
    k, c = table.c[key].name, table.c[column].name
    sql = (f"UPDATE {table.name} AS t SET " + ", ".join(f"{n} = v.{n}" for n in names)
           + f" FROM json_populate_recordset(NULL::{table.name}, :rows) AS v"
           f" WHERE t.{k} = v.{k} AND coalesce(t.{c}, t.{c}) = :value")
    session.execute(text(sql), {"rows": json.dumps(rows, default=_json), "value": value})


def unindexed(column: Any) -> Any:
    """Give ``column`` as an expression no index matches, for a filter that must not lead.

    An UPDATE of a few hundred messages by id that also checks their status made
    PostgreSQL scan ``ix_messages_status_next`` for every row of that status when its
    statistics lagged behind a campaign (100,000 pending rows read to claim 500).
    ``coalesce(x, x)`` is ``x``, but only the primary key can find the rows.
    """
    return func.coalesce(column, column)


@lru_cache(maxsize=4096)  # a page repeats a few timestamps and one sealed state many times
def _json(value: Any) -> str:
    """Write what JSON lacks as PostgreSQL's input text for the column's type."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\x" + value.hex()  # bytea's hex input format
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def make_engine(url: str) -> Engine:
    """Create an engine, with the SQLite settings that make it safe for several processes."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
