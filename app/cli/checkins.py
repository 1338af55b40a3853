"""``kazi checkins send-due [--as-of]`` and ``kazi checkins mark-missed [--as-of]``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import services

group = AppGroup("checkins", help="SMS check-ins with people abroad.")

AS_OF = click.option("--as-of", "as_of", metavar="ISO_DATETIME", default=None,
                     help="The moment to act as of (default now; naive times are UTC).")


def _echo(counts: dict) -> None:
    for name, value in counts.items():
        click.echo(f"{name}={value}")


@group.command("send-due")
@AS_OF
def send_due(as_of: str | None) -> None:
    """Send every check-in due at that moment; print counts."""
    from app.checkins import campaign

    _echo(campaign.send_due(services(), _moment(as_of)))


@group.command("mark-missed")
@AS_OF
def mark_missed(as_of: str | None) -> None:
    """Mark check-ins unanswered for 7 days missed and open follow-up cases; print counts."""
    from app.checkins import missed

    _echo(missed.mark_missed(services(), _moment(as_of)))


def _moment(as_of: str | None):
    from app.checkins.due import parse_as_of

    try:
        return parse_as_of(as_of)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date-time: {as_of}", param_hint="--as-of") from exc


def register(app: Flask) -> None:
    app.cli.add_command(group)
