"""``kazi users create|link|key|deactivate``: console accounts for NEA and mission staff."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import services
from app.models.console import ROLES, User
from app.staff.accounts import AccountError, create_user, password_token
from app.staff.audit import audit
from app.staff.keys import issue_staff_key

group = AppGroup("users", help="Console accounts: NEA staff, consular officers, analysts.")

LINK_PATH = "/console/set-password/{token}"


@group.command("create")
@click.option("--email", required=True, help="The person's work email (their login).")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--country", default=None,
              help="Consular officers: ISO2 of a country their mission covers (KE for HQ).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from stdin instead of printing a set-password link.")
@click.option("--base-url", default="", help="Put this in front of the printed link.")
def create(email: str, role: str, country: str | None, password_stdin: bool,
           base_url: str) -> None:
    """Create a console account; print a one-time link (24 h) to set its password."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    svc = services()
    try:
        with svc.db.session() as db:
            made = create_user(db, email, role, country, password)
            user = made.user
            audit("user.create", f"user:{user.id}",
                  {"role": role, "mission": user.mission_code}, session=db, actor="cli")
            token = None if password_stdin else password_token(user)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    where = f" at {user.mission_code} ({made.mission_label})" if user.mission_code else ""
    click.echo(f"user_id={user.id} created: {user.email}, {role}{where}")
    if token:
        click.echo("Send this one-time link to the person; it sets the password once, "
                   "within 24 hours:")
        click.echo(base_url.rstrip("/") + LINK_PATH.format(token=token))
    else:
        click.echo("password set")


@group.command("link")
@click.option("--email", required=True)
@click.option("--base-url", default="", help="Put this in front of the printed link.")
def link(email: str, base_url: str) -> None:
    """Print a new one-time set-password link (forgotten password, or locked out)."""
    with services().db.session() as db:
        user = _user(db, email)
        audit("user.link", f"user:{user.id}", session=db, actor="cli")
        token = password_token(user)
    click.echo(base_url.rstrip("/") + LINK_PATH.format(token=token))


@group.command("key")
@click.option("--email", required=True)
def key(email: str) -> None:
    """Create an API key for a console user. Prints ``api_key=<key>`` once."""
    with services().db.session() as db:
        user = _user(db, email)
        plain = issue_staff_key(db, user)
        audit("user.api_key", f"user:{user.id}", session=db, actor="cli")
    click.echo(f"api_key={plain}")


@group.command("deactivate")
@click.option("--email", required=True)
def deactivate(email: str) -> None:
    """Close an account: its sessions end at the next request."""
    with services().db.session() as db:
        user = _user(db, email)
        user.active = False
        user.session_epoch += 1
        audit("user.deactivate", f"user:{user.id}", session=db, actor="cli")
    click.echo(f"{email} deactivated")


def _user(db, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


def register(app: Flask) -> None:
    app.cli.add_command(group)
