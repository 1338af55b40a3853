"""``kazi officers add|list|duty``: the consular officers who answer distress cases."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import services
from app.models import Officer
from app.phones import masked
from app.protection import officers
from app.reference.missions import by_code

group = AppGroup("officers", help="Consular officers: who is told about distress cases.")


@group.command("add")
@click.option("--name", required=True, help="The officer's name.")
@click.option("--phone", required=True, help="Their phone, E.164 (e.g. +966501234567).")
@click.option("--country", required=True,
              help="ISO2 of a country the mission covers; KE (or HQ) for headquarters.")
@click.option("--role", type=click.Choice(officers.ROLES), default="duty", show_default=True)
def add(name: str, phone: str, country: str, role: str) -> None:
    """Register an officer with the mission that covers COUNTRY (or update that phone's)."""
    svc = services()
    try:
        with svc.db.session() as session:
            done = officers.enrol(session, name=name, phone=phone, country=country, role=role)
            officer_id, number = done.officer.id, done.officer.phone
    except officers.RosterError as exc:
        raise click.ClickException(str(exc)) from None
    mission = done.mission
    place = mission.name if mission.code == "HQ" else mission.label
    click.echo(f"officer_id={officer_id} {'added' if done.created else 'updated'}: "
               f"{role} at {mission.code} ({place}), phone {number}, on duty")
    if mission.code == "HQ" and country.strip().upper() not in ("KE", "HQ"):
        click.echo(f"note: no mission covers {country.upper()}; the officer joins "
                   "headquarters, which covers it")


@group.command("list")
@click.option("--mission", default=None, help="Only this mission's officers (e.g. KE-RUH, HQ).")
def list_officers(mission: str | None) -> None:
    """List officers by mission: role, duty, phone (masked)."""
    svc = services()
    with svc.db.Session() as session:
        query = select(Officer).order_by(Officer.mission_code, Officer.role, Officer.id)
        if mission:
            query = query.where(Officer.mission_code == mission.strip().upper())
        rows = list(session.scalars(query))
    if not rows:
        click.echo("no officers")
        return
    for officer in rows:
        place = by_code(officer.mission_code)
        state = "on duty" if officer.on_duty else "off duty"
        if not officer.active:
            state = "inactive"
        click.echo(f"{officer.id:>4}  {officer.mission_code:<7} {officer.role:<10} {state:<9} "
                   f"{masked(officer.phone)}  {officer.name}"
                   f"  ({place.city if place else '?'})")


@group.command("duty")
@click.argument("phone")
@click.argument("state", type=click.Choice(["on", "off"]))
def duty(phone: str, state: str) -> None:
    """Put the officer with PHONE on or off duty."""
    svc = services()
    try:
        with svc.db.session() as session:
            officer = officers.set_duty(session, phone, state == "on")
            found = officer is not None and (officer.name, officer.mission_code)
    except ValueError as exc:
        raise click.ClickException(f"not a valid phone number ({exc})") from None
    if not found:
        raise click.ClickException("no officer has that phone")
    click.echo(f"{found[0]} ({found[1]}) is now {state} duty")


def register(app: Flask) -> None:
    app.cli.add_command(group)
