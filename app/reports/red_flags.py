"""``red_flags``: job listings flagged by each validation rule (``app.listings.rules``).

A listing counts once per rule it tripped, in the range of its submission day;
``rejected`` and ``needs_review`` say what became of those listings. The country
is the listing's destination, the occupation its own; listings are not people, so
the county and gender filters do not apply, and no count is hidden.
"""

from __future__ import annotations

from sqlalchemy import case, distinct, func, select, true
from sqlalchemy.orm import Session

from app.models import JobListing
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.dialect import dialect_of, json_array, json_field
from app.reports.filters import agency_id, moment_range

COLUMNS = ("rule", "listings", "rejected", "needs_review")

NOT_RULES = ("nea_review",)
"""Flags that are not red-flag rules: an NEA reviewer's decision, kept with the listing."""


@aggregate("red_flags", title="Red flags by rule", columns=COLUMNS,
           filters=("from", "to", "country", "agency", "occupation"),
           note="Listings submitted in the range that tripped each rule.")
def red_flags(session: Session, params: Params) -> list[Row]:
    """Job listings flagged by each red-flag rule."""
    dialect = dialect_of(session)
    elements, is_array = json_array(dialect, JobListing.flags)
    rule = json_field(dialect, elements.c.value, "rule").label("rule")
    where = [is_array, rule.not_in(NOT_RULES), *moment_range(params, JobListing.submitted_at)]
    if params.country:
        where.append(JobListing.destination == params.country)
    if params.countries is not None:
        where.append(JobListing.destination.in_(params.countries))
    if params.agency:
        where.append(JobListing.agency_id == agency_id(params.agency))
    if params.occupation:
        where.append(JobListing.occupation == params.occupation)
    listings = func.count(distinct(JobListing.id))
    query = (select(rule, listings.label("listings"),
                    func.count(distinct(case((JobListing.status == "rejected", JobListing.id))))
                    .label("rejected"),
                    func.count(distinct(case((JobListing.status == "needs_review",
                                              JobListing.id)))).label("needs_review"))
             .select_from(JobListing)
             .join(elements, true())
             .where(*where)
             .group_by(rule)
             .order_by(listings.desc(), rule))
    return [{"rule": row.rule, "listings": row.listings, "rejected": row.rejected,
             "needs_review": row.needs_review}
            for row in session.execute(query)]
