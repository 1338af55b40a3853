"""Reports printed by ``kazi report NAME``, one module per report.

A report is a function ``(session, params) -> rows`` registered with
``@report("name", columns=(...))``; ``app.features`` imports its module (``REPORTS``).
Rows are dicts keyed by the columns: ``kazi report`` writes them as CSV (the columns as
the header, lists joined with ``;``) or as a JSON array of objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app import registry


@dataclass(frozen=True)
class Params:
    """What ``kazi report`` was asked: the filters every report may use."""

    country: str | None = None
    """ISO 3166-1 alpha-2, upper case."""
    date_from: date | None = None
    date_to: date | None = None
    as_of: date | None = None
    """The day to report as of (default today in Kenya)."""
    county: int | None = None
    """The migrant's home county, 1-47 (aggregate reports)."""
    agency: str | None = None
    """An agency's licence number (aggregate reports)."""
    gender: str | None = None
    """``female``, ``male`` or ``other`` (aggregate reports)."""
    occupation: str | None = None
    """An occupation code of ``app.reference.salary_norms.OCCUPATIONS`` (aggregate reports)."""
    by: str | None = None
    """The breakdown, for a report that has several (``placements``, ``cases``)."""
    countries: tuple[str, ...] | None = None
    """Only these destinations (a consular officer's mission); None means every country."""


Row = dict[str, Any]
Runner = Callable[[Session, Params], Iterable[Row]]


@dataclass(frozen=True)
class Report:
    name: str
    columns: tuple[str, ...]
    run: Runner
    help: str


_registry: dict[str, Report] = {}


def report(name: str, *, columns: tuple[str, ...]) -> Callable[[Runner], Runner]:
    """Register a report under ``name``; its help is the function's first docstring line."""

    def register(run: Runner) -> Runner:
        taken = _registry.get(name)
        if taken is not None and taken.run.__qualname__ != run.__qualname__:
            raise ValueError(f"report {name} is already registered")
        summary = (run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else ""
        _registry[name] = Report(name, columns, run, summary)
        return run

    return register


def reports() -> dict[str, Report]:
    """Give every registered report by name."""
    registry.check("report")
    return dict(sorted(_registry.items()))


def get(name: str) -> Report | None:
    """Give the report called ``name``, if there is one."""
    return reports().get(name)
