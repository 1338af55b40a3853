"""``checkins``: how many check-in SMS people answered, by destination country.

A check-in counts once sent (``sent_at`` in the range). ``answered`` and
``missed`` are final; ``awaiting`` is sent with no answer yet and its window still
open, so it is left out of ``response_pct = answered / (answered + missed)``.
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import CheckIn, Placement
from app.reference.countries import country_name
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.dialect import dialect_of, rate
from app.reports.filters import moment_range, on_placements
from app.reports.stock import UNKNOWN

COLUMNS = ("country", "country_name", "sent", "answered", "missed", "awaiting", "response_pct")

SENT_STATES = ("sent", "answered", "missed")
"""Check-in states after the SMS went out."""


@aggregate("checkins", title="Check-in response rate", columns=COLUMNS,
           counts=("sent", "answered", "missed", "awaiting"),
           rates={"response_pct": ("answered", "missed")},
           note="Check-ins sent in the range; the rate leaves out those still awaiting "
                "an answer.")
def checkins(session: Session, params: Params) -> list[Row]:
    """Check-in response rate by destination country."""
    answered = func.count(case((CheckIn.status == "answered", 1)))
    missed = func.count(case((CheckIn.status == "missed", 1)))
    awaiting = func.count(case((CheckIn.status == "sent", 1)))
    query = (select(Placement.country, func.count().label("sent"), answered.label("answered"),
                    missed.label("missed"), awaiting.label("awaiting"),
                    rate(dialect_of(session), answered, answered + missed, 100)
                    .label("response_pct"))
             .select_from(CheckIn)
             .join(Placement, Placement.id == CheckIn.placement_id)
             .where(CheckIn.status.in_(SENT_STATES), *moment_range(params, CheckIn.sent_at),
                    *on_placements(params))
             .group_by(Placement.country)
             .order_by(Placement.country.asc().nulls_last()))
    return [{"country": row.country or UNKNOWN,
             "country_name": country_name(row.country) if row.country else UNKNOWN,
             "sent": row.sent, "answered": row.answered, "missed": row.missed,
             "awaiting": row.awaiting,
             "response_pct": (float(row.response_pct)
                              if row.response_pct is not None else None)}
            for row in session.execute(query)]
