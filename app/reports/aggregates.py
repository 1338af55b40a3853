"""Aggregate reports: counts, never people. The dashboard, the API and analysts use only these.

An aggregate is a report (``app.reports.report``) that also says how it is read:
which columns count people (hidden when small, ``app.reports.privacy``), which
are rates made from those counts, which breakdowns it offers (``by``) and which
filters it honours. Every one is a single set-based SQL query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from types import ModuleType

from sqlalchemy.orm import Session

from app.reports import Params, Row, Runner, report, reports
from app.reports.dialect import tune

ALL_FILTERS = frozenset({"from", "to", "country", "county", "agency", "gender", "occupation"})
"""Every filter; most aggregates honour them all."""


@dataclass(frozen=True)
class Aggregate:
    """How one aggregate report is read."""

    name: str
    title: str
    columns: tuple[str, ...]
    run: Runner
    counts: tuple[str, ...] = ()
    """Columns that count people: hidden from analysts when small."""
    rates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Columns computed from counts, each with the counts it is made of."""
    ranked: bool = False
    """Rows come ordered by a count, so hidden rows must not keep their place."""
    breakdowns: tuple[str, ...] = ()
    """What ``by`` may be; the first is the default of a chart (the report gives all)."""
    filters: frozenset[str] = ALL_FILTERS
    """The filters this report honours; others are ignored and said so."""
    note: str = ""
    """What the numbers mean, in one or two sentences, shown under the chart."""

    def rows(self, session, params: Params) -> list[Row]:
        """Run the report and give its rows."""
        return list(self.run(session, params))


_aggregates: dict[str, Aggregate] = {}


def aggregate(name: str, *, title: str, columns: tuple[str, ...], counts: tuple[str, ...] = (),
              rates: Mapping[str, tuple[str, ...]] | None = None, ranked: bool = False,
              breakdowns: tuple[str, ...] = (), filters: Iterable[str] = ALL_FILTERS,
              note: str = "") -> Callable[[Runner], Runner]:
    """Register an aggregate report under ``name`` (for ``kazi report`` too)."""

    def register(run: Runner) -> Runner:
        @wraps(run)
        def tuned(session: Session, params: Params) -> Iterable[Row]:
            tune(session)
            return run(session, params)

        report(name, columns=columns)(tuned)
        _aggregates[name] = Aggregate(name, title, columns, tuned, counts, dict(rates or {}),
                                      ranked, breakdowns, frozenset(filters), note)
        return run

    return register


def arrange(modules: Iterable[ModuleType]) -> None:
    """Keep the aggregates in the order of their ``modules`` (``app.features.REPORTS``).

    The API and the dashboard list them in that order; the order they were imported in
    would do instead, but one report module imports another, so it is no order at all.
    """
    rank = {module.__name__: n for n, module in enumerate(modules)}
    ordered = sorted(_aggregates.values(), key=lambda agg: rank.get(agg.run.__module__, len(rank)))
    _aggregates.clear()
    _aggregates.update((agg.name, agg) for agg in ordered)


def aggregates() -> dict[str, Aggregate]:
    """Give every aggregate report by name, in ``app.features.REPORTS``' order."""
    reports()  # refuses before app.features has imported the report modules
    return dict(_aggregates)


def get(name: str) -> Aggregate | None:
    """Give the aggregate report called ``name``, if there is one."""
    return aggregates().get(name)
