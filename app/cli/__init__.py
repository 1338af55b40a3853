"""The ``kazi`` command line: a Flask CLI group, so ``flask --app wsgi …`` works too."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app


def register(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    from app.cli import db, menus

    for module in (db, menus):
        module.register(app)
    _register_optional(app)


def _register_optional(app: Flask) -> None:
    """Attach command modules that are built in their own files."""
    import importlib

    for name in ("ops", "dev", "phone", "worker", "agencies", "checkins", "partners",
                 "report", "officers", "cases", "users", "keys"):
        try:
            module = importlib.import_module(f"app.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"app.cli.{name}":
                raise
            continue
        module.register(app)


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Kazi Salama: safe work abroad, by USSD and SMS."""
