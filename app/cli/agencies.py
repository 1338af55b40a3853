"""``kazi agencies import FILE.csv`` and ``kazi agencies issue-key LICENCE_NO``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import services

group = AppGroup("agencies", help="The NEA register of recruitment agencies.")


@group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_register(path: Path) -> None:
    """Import or update the licence register from the CSV file PATH.

    Prints added, updated, unchanged and invalid counts, then each invalid row with its
    line number and reason. Exits 0 even with invalid rows; non-zero only when the file
    cannot be read or its header is wrong.
    """
    from app.agencies.index import register_changed
    from app.agencies.register import LARGE_FILE, import_rows, record_import
    from app.agencies.register_csv import RegisterFileError, parse, read_register
    from app.agencies.watch import watch_job
    from app.db import defer

    try:
        rows, problems, ignored = parse(read_register(path))
    except RegisterFileError as exc:
        raise click.ClickException(str(exc)) from None
    svc = services()
    with svc.db.session() as session:
        if rows and (sys.stderr.isatty() or len(rows) >= LARGE_FILE):
            with click.progressbar(length=len(rows), label=f"importing {path.name}",
                                   file=sys.stderr) as bar:
                result = import_rows(session, rows, source=path.name, progress=bar.update)
        else:
            result = import_rows(session, rows, source=path.name)
        result.problems = sorted([*problems, *result.problems], key=lambda p: p.line)
        result.rows = len(rows) + len(problems)
        record_import(session, result)
        if result.status_changes:
            defer(session, watch_job(result.import_id))
    register_changed(svc.redis)
    click.echo(f"{path.name}: {result.rows} rows: {result.summary()} "
               f"(status changes: {result.status_changes})")
    if ignored:
        click.echo(f"ignored unknown column(s): {', '.join(ignored)}")
    for problem in result.problems:
        click.echo(f"line {problem.line}: {problem.reason}")


@group.command("issue-key")
@click.argument("licence_no")
def issue_key(licence_no: str) -> None:
    """Create an API key for the agency holding LICENCE_NO; prints api_key=<key> once."""
    from app.agencies.names import parse_licence
    from app.api.keys import issue_key as issue

    canonical = parse_licence(licence_no) or licence_no.strip().upper()
    svc = services()
    try:
        with svc.db.session() as session:
            key = issue(session, canonical)
    except LookupError as exc:
        raise click.ClickException(str(exc) or f"no agency holds licence {canonical}") from None
    click.echo(f"api_key={key}")


def register(app: Flask) -> None:
    app.cli.add_command(group)
