"""``placements``: people placed abroad, by agency, home county, gender and occupation.

A placement counts once it has left Kenya (``departed`` or any later state);
``--from``/``--to`` bound its departure day. The breakdown is ``by`` one of
``agency`` (licence number and name), ``county`` (the person's home county),
``gender`` (the person's) or ``occupation`` (the job's); without ``by`` the
report gives all four, one block of rows each, in one statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from app.models import Agency, Licence, Person, Placement
from app.reference.counties import by_code
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.filters import day_range, on_placements
from app.reports.stock import UNKNOWN

DIMENSIONS = ("agency", "county", "gender", "occupation")
"""The breakdowns, in the order the full report gives them."""

PLACED_STATES = ("departed", "arrived", "employed", "ended", "returned")
"""States of a placement that has left Kenya."""

COLUMNS = ("dimension", "value", "label", "placements")


def breakdown(dimension: str, params: Params) -> Any:
    """Give the SELECT counting placements by one dimension."""
    count = func.count().label("placements")
    query = select(literal(dimension).label("dimension"))
    if dimension == "agency":
        # Count per agency id first, then name the few thousand groups: joining the
        # register to every placement would carry names through a million rows.
        per_agency = (select(Placement.agency_id, count)
                      .where(Placement.status.in_(PLACED_STATES),
                             *day_range(params, Placement.departed_on), *on_placements(params))
                      .group_by(Placement.agency_id).subquery("per_agency"))
        return (query.add_columns(Licence.licence_no.label("value"),
                                  Agency.name.label("label"), per_agency.c.placements)
                .select_from(per_agency)
                .outerjoin(Licence, Licence.agency_id == per_agency.c.agency_id)
                .outerjoin(Agency, Agency.id == per_agency.c.agency_id))
    if dimension in ("county", "gender"):
        value = (cast(Person.county_code, String) if dimension == "county"
                 else Person.gender)
        query = (query.add_columns(value.label("value"), null().label("label"), count)
                 .select_from(Placement)
                 .outerjoin(Person, Person.id == Placement.person_id)
                 .group_by(value))
    else:
        value = Placement.occupation
        query = (query.add_columns(value.label("value"), null().label("label"), count)
                 .select_from(Placement)
                 .group_by(value))
    return query.where(Placement.status.in_(PLACED_STATES),
                       *day_range(params, Placement.departed_on), *on_placements(params))


def label_of(dimension: str, value: str | None, label: str | None) -> str:
    """Give the words a person reads for a value."""
    if value is None:
        return UNKNOWN
    if dimension == "county":
        county = by_code(int(value))
        return county.name if county else value
    return label or value


@aggregate("placements", title="Placements", columns=COLUMNS, counts=("placements",),
           ranked=True, breakdowns=DIMENSIONS,
           note="Placements that left Kenya, by departure day in the range.")
def placements(session: Session, params: Params) -> list[Row]:
    """Placements abroad by agency, county, gender and occupation."""
    dimensions = (params.by,) if params.by in DIMENSIONS else DIMENSIONS
    union = union_all(*(breakdown(d, params) for d in dimensions)).subquery("counted")
    query = select(union).order_by(union.c.dimension, union.c.placements.desc(),
                                   union.c.value.asc().nulls_last())
    return [{"dimension": row.dimension, "value": row.value or UNKNOWN,
             "label": label_of(row.dimension, row.value, row.label),
             "placements": row.placements}
            for row in session.execute(query)]
