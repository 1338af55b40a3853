"""``kazi keys rotate|reindex``: retire a ``PII_KEYS`` key (docs/runbook-keys.md)."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import services

group = AppGroup("keys", help="Rotate the PII_KEYS that encrypt personal data.")


@group.command("rotate")
def rotate() -> None:
    """Re-encrypt every personal field with the first PII_KEYS key; prints rows per column."""
    from app import keys

    for column, count in keys.rotate(services()).items():
        click.echo(f"{column}={count}")


@group.command("reindex")
def reindex() -> None:
    """Recompute the blind indexes as NEW_PII_KEYS (the keys to keep) will; then deploy them.

    The keys come from the environment variable NEW_PII_KEYS, never the command line
    (which shell history and ``ps`` keep). Refuses while a row needs a key that is
    not in NEW_PII_KEYS: run ``kazi keys rotate`` first.
    """
    from app import keys

    new_keys = [k for k in (os.environ.get("NEW_PII_KEYS") or "").split(",") if k.strip()]
    if not new_keys:
        raise click.ClickException("set NEW_PII_KEYS to the keys that will remain, newest first")
    try:
        done = keys.reindex(services(), new_keys)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for table, count in done.items():
        click.echo(f"{table}={count}")
    click.echo("now deploy PII_KEYS=$NEW_PII_KEYS everywhere and restart")


def register(app: Flask) -> None:
    app.cli.add_command(group)
