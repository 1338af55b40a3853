"""``stock``: the migrants abroad on a day, by destination country.

A migrant is abroad on day D when a placement of theirs has departed by D (a
placement abroad whose departure day is unknown counts from when it was
recorded) and either is still abroad (``departed``, ``arrived``, ``employed``)
or ended or came home after D. Each person is counted once, however many
placements they have; a placement with no registered person counts as one.
D is ``--to`` (default today in Kenya); ``--from`` does not apply.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.models import Placement
from app.models.placement import ABROAD_STATES
from app.reference.countries import country_name
from app.reports import Params, Row
from app.reports.aggregates import ALL_FILTERS, aggregate
from app.reports.filters import as_of, end_of, on_placements

UNKNOWN = "unknown"
"""The label of rows whose dimension is not recorded."""


def abroad_on(day: date, placement: Any = Placement) -> ColumnElement[bool]:
    """Tell whether a placement had its person abroad on ``day``."""
    after = end_of(day)
    departed = or_(placement.departed_on <= day,
                   and_(placement.departed_on.is_(None), placement.created_at < after))
    still = or_(placement.status.in_(ABROAD_STATES),
                and_(placement.status.in_(("ended", "returned")), placement.ended_at >= after))
    return and_(departed, still)


def migrants(placement: Any = Placement) -> ColumnElement[int]:
    """Count migrants among placements: each person once, a placement with no person as one.

    Written as ``count(DISTINCT person_id)`` plus the placements without a person,
    not as a distinct count of an expression, so PostgreSQL can count from the
    ``(country, person_id)`` index in order instead of hashing every row.
    """
    return (func.count(distinct(placement.person_id))
            + func.count(case((placement.person_id.is_(None), 1))))


@aggregate("stock", title="Migrants abroad by country",
           columns=("country", "country_name", "migrants"), counts=("migrants",), ranked=True,
           filters=ALL_FILTERS - {"from"},
           note="People abroad on the 'to' day (default today), each counted once.")
def stock(session: Session, params: Params) -> list[Row]:
    """Migrants abroad on a day (--to, default today), by destination country."""
    counted = migrants().label("migrants")
    query = (select(Placement.country, counted)
             .where(abroad_on(as_of(params)), *on_placements(params))
             .group_by(Placement.country)
             .order_by(counted.desc(), Placement.country.asc().nulls_last()))
    return [{"country": row.country or UNKNOWN,
             "country_name": country_name(row.country) if row.country else UNKNOWN,
             "migrants": row.migrants}
            for row in session.execute(query)]
