"""``kazi report NAME [--country ISO2] [--from D] [--to D] [--format csv|json]``."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Any

import click
from flask import Flask

from app.extensions import services


def _date(_ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO date: {value}", param=param) from None


def _country(_ctx, param, value: str | None) -> str | None:
    from app.reference.countries import is_known_country

    if value is None:
        return None
    code = value.strip().upper()
    if len(code) != 2 or not is_known_country(code):
        raise click.BadParameter(f"not an ISO 3166-1 alpha-2 country code: {value}", param=param)
    return code


@click.command("report")
@click.argument("name")
@click.option("--country", callback=_country, metavar="ISO2", help="Only this country.")
@click.option("--from", "date_from", callback=_date, metavar="DATE", help="From this day.")
@click.option("--to", "date_to", callback=_date, metavar="DATE", help="Up to this day.")
@click.option("--as-of", "as_of", callback=_date, metavar="DATE",
              help="Report as of this day (default today).")
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv",
              show_default=True)
def report_command(name: str, country: str | None, date_from: date | None,
                   date_to: date | None, as_of: date | None, fmt: str) -> None:
    """Print report NAME to stdout (run with an unknown NAME to list them)."""
    from app.reports import Params, get, reports

    chosen = get(name)
    if chosen is None:
        known = ", ".join(f"{r.name} ({r.help})" if r.help else r.name
                          for r in reports().values())
        raise click.BadParameter(f"no report {name!r}; reports: {known}", param_hint="NAME")
    params = Params(country=country, date_from=date_from, date_to=date_to, as_of=as_of)
    with services().db.Session() as session:
        rows = list(chosen.run(session, params))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, default=_json_default))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(chosen.columns), extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})


def _csv_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if value is None:
        return ""
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def register(app: Flask) -> None:
    app.cli.add_command(report_command)
