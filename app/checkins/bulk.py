"""Insert or update a page of rows in one short statement: a JSON recordset on PostgreSQL.

SQLAlchemy's portable bulk insert sends one huge ``VALUES`` list that psycopg
re-parses on every page (its statement cache skips long queries), and arrays of
text are escaped one item at a time in Python: either way most of a campaign's
time went into building SQL. On PostgreSQL the page travels instead as one JSON
text (``json.dumps`` runs in C) that ``json_populate_recordset`` turns into rows of
the table's own type, each column cast as the table declares it. SQLite takes the
portable path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, text, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session


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
