"""``agencies``: every agency on the register with its licence status and risk signals.

Each signal is counted from the records themselves, so the date range and the
filters apply to it:

- ``placements``: people it placed abroad (departure day in the range);
- ``cases``: distress cases naming it (opened in the range);
- ``complaints``: reports against it (filed in the range);
- ``police_alerts``: police alerts naming it (raised in the range);
- ``listings_total``/``listings_rejected``: job listings it submitted in the range.

The country filter narrows placements, cases and listings (their destination);
county, gender and occupation narrow placements and cases. Complaints and police
alerts carry no destination and are counted whatever the country.

``risk_score`` ranks agencies for attention (``agency_risk``)::

    10 x police alerts + 3 x distress cases + 2 x complaints + 1 x rejected listings
    + 20 if it placed anyone in the range while its licence is not valid

Why these weights: a police alert is law enforcement's own suspicion of
trafficking or fraud; a distress case is harm suffered abroad by someone it sent;
a complaint is fraud reported before departure (fees, kept passports); a rejected
listing shows the terms it tried to advertise. Placing people without a valid
licence is illegal in itself (Labour Migration and Management Act). Agencies'
register data is public and their counts describe agencies, not people, so no
count here is hidden from analysts; no director, phone or address is shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Agency, AgencyComplaint, Case, JobListing, Licence, Placement, PoliceAlert
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.dialect import dialect_of, rate
from app.reports.filters import agency_id, as_of, day_range, moment_range, on_cases, on_placements
from app.reports.placements import PLACED_STATES

COLUMNS = ("licence_no", "agency_name", "status", "expires_on", "placements", "cases",
           "cases_per_1000_placements", "complaints", "police_alerts", "listings_total",
           "listings_rejected", "rejected_pct", "risk_score")

WEIGHTS = {"police_alerts": 10, "cases": 3, "complaints": 2, "listings_rejected": 1,
           "unlicensed_placing": 20}
"""The risk score's weights (see the module's text for why)."""


def signals(session: Session, params: Params) -> Any:
    """Give the SELECT of every agency's status and signals (one statement)."""
    dialect = dialect_of(session)
    no_agency = replace(params, agency=None)  # every agency's own row is kept below
    placed = (select(Placement.agency_id.label("agency_id"), func.count().label("n"))
              .where(Placement.status.in_(PLACED_STATES),
                     *day_range(params, Placement.departed_on), *on_placements(no_agency))
              .group_by(Placement.agency_id).subquery("placed"))
    cases = (select(Case.agency_id.label("agency_id"), func.count().label("n"))
             .where(*moment_range(params, Case.opened_at), *on_cases(no_agency))
             .group_by(Case.agency_id).subquery("named"))
    complaints = (select(AgencyComplaint.agency_id.label("agency_id"), func.count().label("n"))
                  .where(*moment_range(params, AgencyComplaint.created_at))
                  .group_by(AgencyComplaint.agency_id).subquery("complained"))
    alerts = (select(PoliceAlert.agency_id.label("agency_id"), func.count().label("n"))
              .where(*moment_range(params, PoliceAlert.raised_at))
              .group_by(PoliceAlert.agency_id).subquery("alerted"))
    listing_where = moment_range(params, JobListing.submitted_at)
    if params.country:
        listing_where.append(JobListing.destination == params.country)
    if params.countries is not None:
        listing_where.append(JobListing.destination.in_(params.countries))
    listings = (select(JobListing.agency_id.label("agency_id"), func.count().label("n"),
                       func.count(case((JobListing.status == "rejected", 1))).label("rejected"))
                .where(*listing_where).group_by(JobListing.agency_id).subquery("listed"))
    day = as_of(params)
    status = case((Licence.status.is_(None), "none"),
                  ((Licence.status == "valid") & (Licence.expires_on < day), "expired"),
                  else_=Licence.status)
    n_placed = func.coalesce(placed.c.n, 0)
    n_cases = func.coalesce(cases.c.n, 0)
    n_complaints = func.coalesce(complaints.c.n, 0)
    n_alerts = func.coalesce(alerts.c.n, 0)
    n_listings = func.coalesce(listings.c.n, 0)
    n_rejected = func.coalesce(listings.c.rejected, 0)
    unlicensed = case(((status != "valid") & (n_placed > 0), 1), else_=0)
    score = (WEIGHTS["police_alerts"] * n_alerts + WEIGHTS["cases"] * n_cases
             + WEIGHTS["complaints"] * n_complaints + WEIGHTS["listings_rejected"] * n_rejected
             + WEIGHTS["unlicensed_placing"] * unlicensed)
    query = (select(Licence.licence_no, Agency.name.label("agency_name"),
                    status.label("status"), Licence.expires_on,
                    n_placed.label("placements"), n_cases.label("cases"),
                    rate(dialect, n_cases, n_placed, 1000).label("cases_per_1000_placements"),
                    n_complaints.label("complaints"), n_alerts.label("police_alerts"),
                    n_listings.label("listings_total"), n_rejected.label("listings_rejected"),
                    rate(dialect, n_rejected, n_listings, 100).label("rejected_pct"),
                    score.label("risk_score"))
             .select_from(Agency)
             .outerjoin(Licence, Licence.agency_id == Agency.id)
             .outerjoin(placed, placed.c.agency_id == Agency.id)
             .outerjoin(cases, cases.c.agency_id == Agency.id)
             .outerjoin(complaints, complaints.c.agency_id == Agency.id)
             .outerjoin(alerts, alerts.c.agency_id == Agency.id)
             .outerjoin(listings, listings.c.agency_id == Agency.id))
    if params.agency:
        query = query.where(Agency.id == agency_id(params.agency))
    return query


def as_row(row: Any) -> Row:
    """Give one agency's row, numbers as plain ints and floats."""
    out = dict(row._mapping)
    out["expires_on"] = row.expires_on.isoformat() if row.expires_on else None
    for column in ("cases_per_1000_placements", "rejected_pct"):
        out[column] = float(out[column]) if out[column] is not None else None
    return out


@aggregate("agencies", title="Agencies: licence status and risk", columns=COLUMNS,
           note="Every agency on the register; signals counted over the range.")
def agencies(session: Session, params: Params) -> list[Row]:
    """Every agency with its licence status and risk signals."""
    query = signals(session, params).order_by(Licence.licence_no, Agency.name)
    return [as_row(row) for row in session.execute(query)]
