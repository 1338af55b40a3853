"""SQL storage: engine, sessions, and jobs that are enqueued only after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
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
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(name)
    return insert(table)


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
