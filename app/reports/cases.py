"""``cases``: distress cases per 1,000 migrants abroad, by country, agency and employer.

The numerator is cases opened in the range (``--from``/``--to``, Kenyan days); the
denominator is the migrants abroad on the last day of the range (``stock``'s
definition) in the same country, through the same agency, or with the same
employer. Both sides are counted in one statement: each grouped on its own, then
stacked (UNION ALL) and summed per key. A group with cases but no migrant on record has no
rate (the case may name an agency or employer we have no placement for).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.models import Agency, Case, Employer, Licence, Placement
from app.reference.countries import country_name
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.dialect import dialect_of, rate
from app.reports.filters import as_of, moment_range, on_cases, on_placements
from app.reports.stock import UNKNOWN, abroad_on, migrants

DIMENSIONS = ("country", "agency", "employer")
"""The breakdowns, in the order the full report gives them."""

COLUMNS = ("dimension", "value", "label", "cases", "migrants", "per_1000")

_KEYS = {"country": (Placement.country, Case.country),
         "agency": (Placement.agency_id, Case.agency_id),
         "employer": (Placement.employer_id, Case.employer_id)}


def breakdown(dialect: str, dimension: str, params: Params) -> Any:
    """Give the SELECT of cases, migrants and the rate by one dimension.

    Each side is grouped on its own (the migrants from the ``(key, person_id)``
    indexes), then the two are stacked and summed per key: no join, and a key
    missing on one side (cases naming an agency nobody is placed through) still
    has its row.
    """
    placement_key, case_key = _KEYS[dimension]
    zero = literal_column("0")
    people = (select(placement_key.label("key"), migrants().label("migrants"),
                     zero.label("cases"))
              .where(abroad_on(as_of(params)), *on_placements(params))
              .group_by(placement_key))
    cases = (select(case_key.label("key"), zero.label("migrants"), func.count().label("cases"))
             .where(*moment_range(params, Case.opened_at), *on_cases(params))
             .group_by(case_key))
    both = union_all(people, cases).subquery(f"{dimension}_both")
    n_cases = cast(func.sum(both.c.cases), Integer)
    n_migrants = cast(func.sum(both.c.migrants), Integer)
    counted = (select(both.c.key, n_cases.label("cases"), n_migrants.label("migrants"),
                      rate(dialect, n_cases, n_migrants, 1000).label("per_1000"))
               .group_by(both.c.key).subquery(f"{dimension}_counted"))
    columns = [counted.c.cases, counted.c.migrants, counted.c.per_1000]
    if dimension == "country":
        return select(literal(dimension).label("dimension"), counted.c.key.label("value"),
                      cast(null(), String).label("label"), *columns)
    if dimension == "agency":
        return (select(literal(dimension).label("dimension"), Licence.licence_no.label("value"),
                       Agency.name.label("label"), *columns)
                .select_from(counted)
                .outerjoin(Licence, Licence.agency_id == counted.c.key)
                .outerjoin(Agency, Agency.id == counted.c.key))
    label = Employer.name + literal(", ") + Employer.country
    return (select(literal(dimension).label("dimension"), Employer.name.label("value"),
                   label.label("label"), *columns)
            .select_from(counted)
            .outerjoin(Employer, Employer.id == counted.c.key))


@aggregate("cases", title="Distress cases per 1,000 migrants", columns=COLUMNS,
           counts=("cases", "migrants"), rates={"per_1000": ("cases", "migrants")},
           ranked=True, breakdowns=DIMENSIONS,
           note="Cases opened in the range per 1,000 people abroad on its last day.")
def cases(session: Session, params: Params) -> list[Row]:
    """Distress cases per 1,000 migrants by country, agency and employer."""
    dimensions = (params.by,) if params.by in DIMENSIONS else DIMENSIONS
    dialect = dialect_of(session)
    union = union_all(*(breakdown(dialect, d, params) for d in dimensions)).subquery("rated")
    order = case(*((union.c.dimension == d, i) for i, d in enumerate(DIMENSIONS)))
    query = select(union).order_by(order, union.c.per_1000.desc().nulls_last(),
                                   union.c.cases.desc(), union.c.value.asc().nulls_last())
    return [{"dimension": row.dimension, "value": row.value or UNKNOWN,
             "label": _label(row.dimension, row.value, row.label),
             "cases": row.cases, "migrants": row.migrants,
             "per_1000": float(row.per_1000) if row.per_1000 is not None else None}
            for row in session.execute(query)]


def _label(dimension: str, value: str | None, label: str | None) -> str:
    if value is None:
        return UNKNOWN
    if dimension == "country":
        return country_name(value)
    return label or value
