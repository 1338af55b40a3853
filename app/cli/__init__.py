"""The ``kazi`` command line: a Flask CLI group, so ``flask --app wsgi …`` works too."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app
from app.cli import (
    agencies,
    cases,
    checkins,
    db,
    dev,
    keys,
    menus,
    officers,
    ops,
    partners,
    phone,
    report,
    users,
    worker,
)


def register(app: Flask) -> None:
    """Attach every command group to the app's CLI (``app.features`` calls this)."""
    for module in (db, menus, ops, dev, phone, worker, agencies, checkins, partners, report,
                   officers, cases, users, keys):
        module.register(app)


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Kazi Salama: safe work abroad, by USSD and SMS."""
