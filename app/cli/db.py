"""``kazi db upgrade``: apply Alembic migrations."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import migrate

group = AppGroup("db", help="Database migrations.")


@group.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@group.command("revision")
@click.option("-m", "--message", required=True)
def revision(message: str) -> None:
    """Autogenerate a migration from the models (developers only)."""
    migrate.revision(current_app.config["DATABASE_URL"], message)


@group.command("rebuild-baseline")
def rebuild_baseline() -> None:
    """Regenerate the baseline migration from the models (before the first release only)."""
    if current_app.config["KAZI_ENV"] == "production":
        raise click.ClickException("refused in production: write a new revision instead")
    click.echo(f"wrote {migrate.rebuild_baseline()}")


def register(app: Flask) -> None:
    app.cli.add_command(group)
