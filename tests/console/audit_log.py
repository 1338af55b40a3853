"""Emptying the append-only audit log between tests (tests only: the app has no such path)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.models.console import APPEND_ONLY


@contextmanager
def audit_log_unlocked(conn: Connection) -> Iterator[None]:
    """Lift the audit log's triggers for this transaction only, when it has rows."""
    if conn.execute(text("SELECT 1 FROM audit_entries LIMIT 1")).first() is None:
        yield
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        yield
        conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
    else:
        conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        yield
        for ddl in APPEND_ONLY["sqlite"]:
            conn.execute(ddl)
