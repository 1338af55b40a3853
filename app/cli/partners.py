"""``kazi partners add --name N --kind immigration|police|destination``; ``kazi partners list``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import services
from app.models.partner import PARTNER_KINDS

group = AppGroup("partners", help="Immigration, police and destination-country systems.")


@group.command("add")
@click.option("--name", required=True, help="Who the partner is, e.g. 'Immigration JKIA'.")
@click.option("--kind", required=True, type=click.Choice(PARTNER_KINDS),
              help="Which events it may send.")
def add(name: str, kind: str) -> None:
    """Register a partner; prints partner_id=<id> and secret=<secret>, the secret only now."""
    from app.partners.registry import add_partner

    svc = services()
    try:
        with svc.db.session() as session:
            partner, secret = add_partner(session, svc.cipher, name, kind)
            partner_id = partner.id
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"partner_id={partner_id}")
    click.echo(f"secret={secret}")


@group.command("list")
def list_() -> None:
    """List partners (never their secrets)."""
    from app.partners.registry import list_partners

    with services().db.Session() as session:
        for partner in list_partners(session):
            state = "active" if partner.active else "inactive"
            click.echo(f"{partner.id}\t{partner.kind}\t{state}\t{partner.name}")


def register(app: Flask) -> None:
    app.cli.add_command(group)
