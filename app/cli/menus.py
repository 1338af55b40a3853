"""``kazi menus check`` and ``kazi menus graph``: catch broken journeys before users do."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.i18n import LANGUAGES, keys
from menus import build_flow
from menus.screens import screen_problems

group = AppGroup("menus", help="Check and draw the USSD journeys.")


@group.command("check")
def check() -> None:
    """Validate every journey: transitions, reachability, locales, length, GSM-7."""
    flow = build_flow(current_app.config["USSD_MAX_CHARS"])
    problems = flow.problems({lang: keys(lang) for lang in LANGUAGES})
    problems += screen_problems(flow)
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(flow.screens)} screens in {len(flow.journeys)} journeys, "
               f"{len(LANGUAGES)} languages")


@group.command("graph")
def graph() -> None:
    """Print the journeys as a Mermaid flowchart."""
    click.echo(build_flow(current_app.config["USSD_MAX_CHARS"]).mermaid(), nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(group)
