"""Helpers for agency tests: register CSV files, imports through the real CLI, lookups."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.agencies.index import register_changed
from app.agencies.register import import_rows, kenya_today, record_import
from app.agencies.register_csv import COLUMNS, parse
from app.models import Agency, Licence

HEADER = ",".join(COLUMNS)


def days(n: int) -> str:
    """Give the ISO date ``n`` days from today in Kenya."""
    return (kenya_today() + timedelta(days=n)).isoformat()


def row(licence_no: str = "NEA/PEA/2024/0001", name: str = "Savanna Recruitment Agency Ltd",
        status: str = "valid", expires_on: str | None = None, phone: str = "+254711000001",
        email: str = "info@savanna.co.ke", address: str = "Kimathi House, Moi Ave, Nairobi",
        directors: str = "Jane Wanjiru;John Kamau") -> list[str]:
    return [licence_no, name, status, days(365) if expires_on is None else expires_on,
            phone, email, address, directors]


def csv_text(rows: list[list[str]], header: str = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for fields in rows:
        writer.writerow(fields)
    return header + "\n" + out.getvalue()


def write(tmp_path: Path, rows: list[list[str]], name: str = "register.csv",
          header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows, header), encoding="utf-8")
    return path


def run_import(runner, path: Path):
    return runner.invoke(args=["agencies", "import", str(path)])


def add(svc, *rows: list[str], source: str = "test.csv", today: date | None = None) -> None:
    """Import rows straight through the register module (no CLI), as an import would."""
    parsed, problems, _ = parse(csv_text(list(rows)), today)
    assert problems == [], problems
    with svc.db.session() as session:
        result = import_rows(session, parsed, source=source, today=today)
        record_import(session, result)
    register_changed(svc.redis)


def licence(svc, licence_no: str) -> Licence | None:
    with svc.db.Session() as session:
        return session.scalar(select(Licence).where(Licence.licence_no == licence_no))


def agency_named(svc, name: str) -> Agency | None:
    with svc.db.Session() as session:
        return session.scalar(select(Agency).where(Agency.name == name))


def count(svc, model, *where) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))
