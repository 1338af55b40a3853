"""Alembic, driven from code: ``kazi db upgrade`` and the tests use the same entry."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Build an Alembic config pointing at our migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the difference between models and database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


BASELINE = "0001"
"""The first revision. Until the first production release it is regenerated from the
models (``kazi db rebuild-baseline``); after that, every change is a new revision."""


def rebuild_baseline() -> Path:
    """Regenerate the baseline migration from every model (pre-release only)."""
    import tempfile

    for old in (MIGRATIONS / "versions").glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        config = alembic_config(f"sqlite:///{scratch}/empty.db")
        command.revision(config, message="baseline schema", autogenerate=True,
                         rev_id=BASELINE)
    return next((MIGRATIONS / "versions").glob(f"{BASELINE}_*.py"))


def pending_changes(database_url: str) -> list:
    """List differences between the models and a database migrated to head."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    import app.models  # noqa: F401 - every table on Base.metadata
    from app.db import Base

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
