"""The few SQL expressions that SQLite and PostgreSQL spell differently, for the reports.

Everything else in a report is portable SQLAlchemy; only these three need the
dialect: a month bucket, the seconds between two moments, and the elements of a
JSON array (the flags of a job listing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Float,
    Numeric,
    String,
    case,
    cast,
    extract,
    func,
    literal_column,
    null,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def dialect_of(session: Session) -> str:
    """Give ``sqlite`` or ``postgresql``."""
    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):  # pragma: no cover - only these two are supported
        raise NotImplementedError(name)
    return name


def month(dialect: str, column: Any) -> ColumnElement[str]:
    """Give a date's month as ``YYYY-MM`` text, the same on both databases.

    The format is written into the SQL, not bound: PostgreSQL would see the bound
    format in SELECT and in GROUP BY as two parameters, hence two expressions.
    """
    if dialect == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    """Give ``end - start`` in seconds (NULL when either is NULL)."""
    if dialect == "postgresql":
        return cast(extract("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def json_array(dialect: str, column: Any) -> tuple[Any, ColumnElement[bool]]:
    """Give a table of the elements of a JSON array column, and the test that it is an array.

    Join the table with ``ON true``: both databases let a function in FROM read the
    columns of the tables before it. The test keeps a JSON ``null`` (or any scalar)
    out, which PostgreSQL would otherwise refuse to unnest.
    """
    if dialect == "postgresql":
        elements = func.json_array_elements(column).table_valued("value").alias("element")
        return elements, func.json_typeof(column) == "array"
    elements = func.json_each(column).table_valued("value").alias("element")
    return elements, func.json_type(column) == "array"


def json_field(dialect: str, element: Any, key: str) -> ColumnElement[str]:
    """Give one text field of a JSON object element of ``json_array``."""
    if not key.isidentifier():  # written into the SQL (see ``month``): a code constant only
        raise ValueError(f"not a JSON key we write into SQL: {key!r}")
    if dialect == "postgresql":
        return func.json_extract_path_text(element, literal_column(f"'{key}'"))
    return cast(func.json_extract(element, literal_column(f"'$.{key}'")), String)


def rate(dialect: str, numerator: Any, denominator: Any, per: int,
         digits: int = 1) -> ColumnElement[float]:
    """Give ``round(per * numerator / denominator, digits)``, NULL when nothing to divide by.

    PostgreSQL rounds only ``numeric`` to a number of digits, and SQLite's
    ``numeric`` of an integer stays an integer (so would divide as one): each gets
    its own type.
    """
    kind = Numeric if dialect == "postgresql" else Float
    return case((denominator > 0,
                 func.round(cast(numerator, kind) * per / denominator, digits)),
                else_=null())


REPORT_WORK_MEM = "64MB"
"""PostgreSQL sort and hash memory for one report's transaction.

The national aggregates hash up to a million keys (people joined to their
placements); with the server's default 4 MB they spill to disk and take seconds.
64 MB is set per report transaction (``SET LOCAL``), so it ends with it and only
the few analysts' queries get it.
"""


def tune(session: Session) -> None:
    """Give this transaction the settings an aggregate over the whole country needs."""
    if dialect_of(session) == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        # Compiling a sub-second query to machine code costs more than it saves.
        session.execute(text("SET LOCAL jit = off"))
        # The data is in memory (or on SSD): an index page read costs about what a
        # sequential one does. At the default (4) PostgreSQL hashes a million people to
        # join them to their placements rather than merge the two covering indexes in id
        # order, which is far cheaper.
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
        # One core per report: the same server answers the USSD gateway, whose hops must
        # not wait behind an analyst's parallel workers. Serial plans here also do less
        # work in all (a merge of two indexes rather than a parallel hash of a million rows).
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
