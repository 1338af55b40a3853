"""The filters of the aggregate reports: read from a query string, turned into SQL.

The same filters serve the dashboard, the API and ``kazi report``: a date range
(Kenya's calendar), a destination country, the migrant's home county, gender and
occupation, and an agency by licence number. Each becomes a WHERE clause on the
table a report counts, person filters as a semi-join on ``people`` so no report
needs a join it would not otherwise make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from app.agencies.register import KENYA
from app.listings.service import today
from app.models import Case, Licence, Person, Placement
from app.reference.counties import COUNTIES
from app.reference.countries import is_known_country
from app.reference.salary_norms import OCCUPATIONS
from app.reports import Params

GENDERS = ("female", "male", "other")
"""What registration records (``menus/registration.py``)."""

FIELDS = ("from", "to", "country", "county", "agency", "gender", "occupation", "by")
"""The query-string names of the filters."""

MAX_RANGE = timedelta(days=366 * 20)
"""The widest date range accepted: wider is a typo, not a question."""


class FilterError(ValueError):
    """A filter value that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse(args: Mapping[str, str], *, strict: bool = False) -> Params:
    """Read filters from a query string; empty values mean "no filter".

    ``strict`` refuses unknown names (the API: a misspelt filter must not silently
    widen a report); the dashboard form ignores them.
    """
    if strict:
        unknown = sorted(set(args) - set(FIELDS))
        if unknown:
            raise FilterError(unknown[0], f"unknown filter {unknown[0]!r}; filters are "
                                          f"{', '.join(FIELDS)}")
    value = {k: (args.get(k) or "").strip() for k in FIELDS}
    date_from = _date("from", value["from"])
    date_to = _date("to", value["to"])
    if date_from and date_to:
        if date_from > date_to:
            raise FilterError("from", "'from' is after 'to'")
        if date_to - date_from > MAX_RANGE:
            raise FilterError("from", "the date range is over 20 years")
    country = value["country"].upper() or None
    if country and (len(country) != 2 or not is_known_country(country)):
        raise FilterError("country", "not an ISO 3166-1 alpha-2 country code")
    county = None
    if value["county"]:
        if not value["county"].isdigit() or not 1 <= int(value["county"]) <= len(COUNTIES):
            raise FilterError("county", f"a county is a code from 1 to {len(COUNTIES)}")
        county = int(value["county"])
    gender = value["gender"].lower() or None
    if gender and gender not in GENDERS:
        raise FilterError("gender", f"gender is one of {', '.join(GENDERS)}")
    occupation = value["occupation"].lower() or None
    if occupation and occupation not in OCCUPATIONS:
        raise FilterError("occupation", "not a known occupation code")
    agency = value["agency"].upper() or None
    if agency and len(agency) > 40:
        raise FilterError("agency", "a licence number is at most 40 characters")
    return Params(country=country, date_from=date_from, date_to=date_to, county=county,
                  agency=agency, gender=gender, occupation=occupation,
                  by=value["by"].lower() or None)


def _date(field: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(field, "not an ISO date (YYYY-MM-DD)") from None


def as_query(params: Params) -> dict[str, str]:
    """Give the filters as query-string values (links to exports, the API)."""
    pairs = {"from": params.date_from, "to": params.date_to, "country": params.country,
             "county": params.county, "agency": params.agency, "gender": params.gender,
             "occupation": params.occupation, "by": params.by}
    return {k: (v.isoformat() if isinstance(v, date) else str(v))
            for k, v in pairs.items() if v not in (None, "")}


def scoped(params: Params, countries: tuple[str, ...] | None) -> Params:
    """Restrict ``params`` to ``countries`` (a consular officer's mission); None is no limit."""
    return params if countries is None else replace(params, countries=tuple(countries))


# ---------------------------------------------------------------------------- days


def start_of(day: date) -> datetime:
    """Give the first instant of a Kenyan calendar day, in UTC (as stored)."""
    return datetime.combine(day, time.min, KENYA).astimezone(UTC)


def end_of(day: date) -> datetime:
    """Give the first instant after a Kenyan calendar day, in UTC."""
    return start_of(day + timedelta(days=1))


def as_of(params: Params) -> date:
    """Give the day a stock is counted on: ``to``, else ``as_of``, else today in Kenya."""
    return params.date_to or params.as_of or today()


def moment_range(params: Params, column: Any) -> list[ColumnElement[bool]]:
    """Keep moments (a UTC datetime column) inside the Kenyan days ``from``..``to``."""
    where = []
    if params.date_from:
        where.append(column >= start_of(params.date_from))
    if params.date_to:
        where.append(column < end_of(params.date_to))
    return where


def day_range(params: Params, column: Any) -> list[ColumnElement[bool]]:
    """Keep days (a date column) inside ``from``..``to``."""
    where = []
    if params.date_from:
        where.append(column >= params.date_from)
    if params.date_to:
        where.append(column <= params.date_to)
    return where


# ------------------------------------------------------------------------- tables


def agency_id(licence_no: str) -> Any:
    """Give the id of the agency holding ``licence_no`` as a scalar subquery."""
    return select(Licence.agency_id).where(Licence.licence_no == licence_no).scalar_subquery()


def person_ids(params: Params) -> Any | None:
    """Give the ids of people matching the person filters (county, gender), or None."""
    where = []
    if params.county is not None:
        where.append(Person.county_code == params.county)
    if params.gender:
        where.append(Person.gender == params.gender)
    return select(Person.id).where(*where) if where else None


def on_placements(params: Params, placement: Any = Placement) -> list[ColumnElement[bool]]:
    """Filter placements by country, agency, occupation and the person's county and gender.

    Occupation is the job's (``Placement.occupation``, set from the person's own
    when the agency named none).
    """
    where = _countries(params, placement.country)
    if params.agency:
        where.append(placement.agency_id == agency_id(params.agency))
    if params.occupation:
        where.append(placement.occupation == params.occupation)
    people = person_ids(params)
    if people is not None:
        where.append(placement.person_id.in_(people))
    return where


def on_cases(params: Params) -> list[ColumnElement[bool]]:
    """Filter cases as placements are filtered.

    The occupation is that of the placement the case is about: a case with no known
    placement is left out by an occupation filter, as a case with no known person is
    by a county or gender filter. (Falling back to the person's registered occupation
    would take an OR across two subqueries, far too slow at national scale.)
    """
    where = _countries(params, Case.country)
    if params.agency:
        where.append(Case.agency_id == agency_id(params.agency))
    if params.occupation:
        where.append(Case.placement_id.in_(
            select(Placement.id).where(Placement.occupation == params.occupation)))
    people = person_ids(params)
    if people is not None:
        where.append(Case.person_id.in_(people))
    return where


def _countries(params: Params, column: Any) -> list[ColumnElement[bool]]:
    where = []
    if params.country:
        where.append(column == params.country)
    if params.countries is not None:
        where.append(column.in_(params.countries))
    return where


def checked(session: Any, params: Params, countries: tuple[str, ...] | None) -> Params:
    """Check what needs the database or the caller's scope, and apply the scope.

    An unknown licence number is an error rather than an empty report, and so is a
    country outside a consular officer's mission (``countries``).
    """
    if params.agency and session.scalar(select(Licence.id).where(
            Licence.licence_no == params.agency)) is None:
        raise FilterError("agency", "no agency holds that licence number")
    if countries is not None and params.country and params.country not in countries:
        raise FilterError("country", "that country is outside your mission's countries")
    return scoped(params, countries)
