"""``kazi report irregular``: each mission's worklist of people abroad without valid papers.

One row per person: their newest placement abroad that breaks a rule of
``app.placements.irregular`` on the day (today in Kenya, or ``--as-of``), with
every reason. The reasons are computed in the same SQL as the nightly recompute,
so the list is right even between two runs. It never shows a national ID or a
passport number: a person is named by registration number.

``--country`` keeps one destination; ``--from``/``--to`` filter on the departure day.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.listings.service import today
from app.models import Agency, Licence, Person, Placement
from app.models.placement import ABROAD_STATES
from app.placements.irregular import computed, split
from app.reports import Params, Row, report

COLUMNS = ("country", "reg_no", "placement_id", "status", "departed_on", "agency_licence",
           "agency_name", "reasons")
"""Every column, in order; ``reasons`` is a list of codes (``;``-joined in CSV)."""


def rows(session: Session, params: Params) -> Iterator[Row]:
    """Give the worklist rows, by country, then departure day, then placement."""
    on = params.as_of or today()
    where = [Placement.status.in_(ABROAD_STATES)]
    if params.country:
        where.append(Placement.country == params.country)
    if params.countries is not None:  # a consular officer sees their mission's countries
        where.append(Placement.country.in_(params.countries))
    if params.date_from:
        where.append(Placement.departed_on >= params.date_from)
    if params.date_to:
        where.append(Placement.departed_on <= params.date_to)
    found = computed(on, where)
    computed_rows = (select(Placement.id, Placement.person_id, Placement.country,
                            Placement.status, Placement.departed_on, Placement.agency_id,
                            found.c.reasons)
                     .join(found, found.c.placement_id == Placement.id)
                     .subquery("computed_rows"))
    ranked = (select(computed_rows,
                     func.row_number().over(
                         partition_by=func.coalesce(computed_rows.c.person_id,
                                                    -computed_rows.c.id),
                         order_by=computed_rows.c.id.desc()).label("rank"))
              .where(computed_rows.c.reasons.is_not(None)).subquery("ranked"))
    query = (select(ranked.c.id, ranked.c.country, ranked.c.status, ranked.c.departed_on,
                    ranked.c.reasons, Person.reg_no, Licence.licence_no, Agency.name)
             .outerjoin(Person, Person.id == ranked.c.person_id)
             .outerjoin(Agency, Agency.id == ranked.c.agency_id)
             .outerjoin(Licence, Licence.agency_id == ranked.c.agency_id)
             .where(ranked.c.rank == 1)
             .order_by(ranked.c.country, ranked.c.departed_on, ranked.c.id))
    for row in session.execute(query):
        yield {
            "country": row.country,
            "reg_no": row.reg_no,
            "placement_id": row.id,
            "status": row.status,
            "departed_on": row.departed_on.isoformat() if row.departed_on else None,
            "agency_licence": row.licence_no,
            "agency_name": row.name,
            "reasons": split(row.reasons),
        }


@report("irregular", columns=COLUMNS)
def irregular(session: Session, params: Params) -> Iterator[Row]:
    """People abroad without valid papers, one row per person, with every reason."""
    return rows(session, params)
