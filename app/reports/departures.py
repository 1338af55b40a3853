"""``departures``: placements that left Kenya, per month of departure.

A departure is a placement with a departure day (set by the person, the agency
or immigration); the month is that day's. ``--from``/``--to`` bound the day.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Placement
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.dialect import dialect_of, month
from app.reports.filters import day_range, on_placements


@aggregate("departures", title="Departures per month", columns=("month", "departures"),
           counts=("departures",),
           note="Placements with a departure day in the range, by the month of that day.")
def departures(session: Session, params: Params) -> list[Row]:
    """Departures per month (the placement's departure day)."""
    bucket = month(dialect_of(session), Placement.departed_on).label("month")
    query = (select(bucket, func.count().label("departures"))
             .where(Placement.departed_on.is_not(None),
                    *day_range(params, Placement.departed_on), *on_placements(params))
             .group_by(bucket)
             .order_by(bucket))
    return [{"month": row.month, "departures": row.departures}
            for row in session.execute(query)]
