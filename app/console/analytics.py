"""The analytics dashboard at ``/console/analytics``: every chart one query, with filters.

For ``nea_admin``, ``nea_officer``, ``analyst`` and consular officers (whose
charts only count their mission's countries, in the queries themselves). The
filter form is a plain GET, so a filtered dashboard is a link anyone with the
same role can open. Each chart is an SVG drawn here (``app.console.charts``), a
table of its first rows and CSV and XLSX downloads of all of them; every
download is written to the audit log. Analysts see small counts of people as
"<5" (``app.reports.privacy``).

The page loads progressively: charts whose rows are in the Redis cache are drawn
in the page; the others are placeholders that a small script fills, at most three
at a time, from ``/console/analytics/chart/<slug>`` (one chart, one query per
request). Without JavaScript each placeholder links to its chart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from redis.exceptions import RedisError

from app.console.charts import Point, bar_chart, line_chart
from app.db import utcnow
from app.extensions import services
from app.reference.counties import COUNTIES
from app.reference.countries import country_name
from app.reference.missions import MISSIONS
from app.reference.salary_norms import OCCUPATIONS
from app.reports import Params, Row
from app.reports.aggregates import Aggregate, get
from app.reports.export import to_csv, to_xlsx
from app.reports.filters import GENDERS, FilterError, as_query, checked, parse
from app.reports.privacy import HIDDEN_COUNT, HIDDEN_RATE, SMALL, suppress
from app.staff.audit import audit
from app.staff.login import current_user
from app.staff.roles import roles_required
from app.staff.scope import mission_countries

bp = Blueprint("analytics", __name__, url_prefix="/console/analytics",
               template_folder="templates")

ROLES = ("nea_officer", "analyst", "consular_officer")
"""Who may open the dashboard (``nea_admin`` always may)."""

CHART_ROWS = 15
"""Bars drawn per chart; the table and the downloads have the rest."""

TABLE_ROWS = 25
"""Rows shown per table on the page; the downloads have them all."""


@dataclass(frozen=True)
class Chart:
    """One chart of the dashboard: a report, maybe one of its breakdowns, and what to draw."""

    slug: str
    report: str
    title: str
    label: str
    value: str
    kind: str = "bar"
    by: str | None = None
    percent: bool = False
    """The value is a percentage: bars are drawn against 100, not the largest."""

    @property
    def aggregate(self) -> Aggregate:
        found = get(self.report)
        assert found is not None, self.report
        return found

    @property
    def columns(self) -> tuple[str, ...]:
        """Give the table's columns (a breakdown's name is the chart's, not a column)."""
        return tuple(c for c in self.aggregate.columns if not (self.by and c == "dimension"))


CHARTS: tuple[Chart, ...] = (
    Chart("stock", "stock", "Migrants abroad by country", "country_name", "migrants"),
    Chart("departures", "departures", "Departures per month", "month", "departures",
          kind="line"),
    Chart("placements-agency", "placements", "Placements by agency", "label", "placements",
          by="agency"),
    Chart("placements-county", "placements", "Placements by home county", "label",
          "placements", by="county"),
    Chart("placements-gender", "placements", "Placements by gender", "label", "placements",
          by="gender"),
    Chart("placements-occupation", "placements", "Placements by occupation", "label",
          "placements", by="occupation"),
    Chart("cases-country", "cases", "Distress cases per 1,000 migrants, by country", "label",
          "per_1000", by="country"),
    Chart("cases-agency", "cases", "Distress cases per 1,000 migrants, by agency", "label",
          "per_1000", by="agency"),
    Chart("cases-employer", "cases", "Distress cases per 1,000 migrants, by employer",
          "label", "per_1000", by="employer"),
    Chart("checkins", "checkins", "Check-in response rate by country (%)", "country_name",
          "response_pct", percent=True),
    Chart("sla", "sla", "Escalation SLA compliance per mission (%)", "mission",
          "compliance_pct", percent=True),
    Chart("red-flags", "red_flags", "Job-listing red flags by rule", "rule", "listings"),
    Chart("agency-risk", "agency_risk", "Top agencies by risk score", "agency_name",
          "risk_score"),
)
"""Every chart, in the order the page shows them."""

_BY_SLUG = {chart.slug: chart for chart in CHARTS}

HEADINGS = {
    "country": "Country", "country_name": "Country name", "migrants": "Migrants",
    "month": "Month", "departures": "Departures", "value": "Code", "label": "Name",
    "placements": "Placements", "cases": "Cases", "per_1000": "Per 1,000 migrants",
    "sent": "Sent", "answered": "Answered", "missed": "Missed", "awaiting": "Awaiting",
    "response_pct": "Response %", "mission": "Mission", "mission_name": "Mission name",
    "in_time": "In time", "late": "Late", "waiting": "Waiting",
    "compliance_pct": "Compliance %", "rule": "Rule", "listings": "Listings",
    "rejected": "Rejected", "needs_review": "Needs review", "licence_no": "Licence",
    "agency_name": "Agency", "status": "Licence status", "expires_on": "Expires",
    "risk_score": "Risk score", "police_alerts": "Police alerts", "complaints": "Complaints",
    "listings_rejected": "Listings rejected", "listings_total": "Listings",
    "cases_per_1000_placements": "Cases per 1,000 placements", "rejected_pct": "Rejected %",
    "dimension": "Breakdown",
}
"""Column headings people read; files keep the column names."""


def hides_small(role: str) -> bool:
    """Tell whether this role sees small counts of people hidden (analysts do)."""
    return role == "analyst"


CACHE_SECONDS = 300
"""How long a chart's rows are kept in Redis for the same filters and scope.

A national dashboard is 13 queries over a million placements: seconds, not
milliseconds. Analysts page through the same few filter sets, so for five minutes
the page (and its downloads, which then match it) reuse the rows.
"""

CACHE_KEY = "kazi:analytics:{chart}:{digest}"
"""Redis key of one chart's rows; the digest covers the filters and the scope."""


def chart_rows(chart: Chart, session: Any, params: Params, hide: bool) -> list[Row]:
    """Give one chart's rows for these filters (cached briefly); hide small counts if asked."""
    chosen = replace(params, by=chart.by)
    rows = _cached(chart, chosen)
    if rows is None:
        rows = chart.aggregate.rows(session, chosen)
        _keep(chart, chosen, rows)
    return _shown(chart, rows, hide)


def cached_rows(chart: Chart, params: Params, hide: bool) -> list[Row] | None:
    """Give one chart's rows if the cache has them for these filters, else None (no query)."""
    rows = _cached(chart, replace(params, by=chart.by))
    return None if rows is None else _shown(chart, rows, hide)


def _shown(chart: Chart, rows: list[Row], hide: bool) -> list[Row]:
    return suppress(chart.aggregate, rows) if hide else rows


def _key(chart: Chart, params: Params) -> str:
    scope = ",".join(params.countries) if params.countries is not None else "*"
    text = json.dumps([as_query(params), scope, params.as_of and params.as_of.isoformat()])
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return CACHE_KEY.format(chart=chart.slug, digest=digest)


def _cached(chart: Chart, params: Params) -> list[Row] | None:
    try:
        raw = services().redis.get(_key(chart, params))
    except RedisError:  # no cache: ask the database
        return None
    return json.loads(raw) if raw else None


def _keep(chart: Chart, params: Params, rows: list[Row]) -> None:
    try:
        services().redis.set(_key(chart, params), json.dumps(rows), ex=CACHE_SECONDS)
    except RedisError:
        pass


def _points(chart: Chart, rows: list[Row]) -> list[Point]:
    points = []
    for row in rows[:CHART_ROWS] if chart.kind == "bar" else rows:
        value = row.get(chart.value)
        hidden = value in (HIDDEN_COUNT, HIDDEN_RATE)
        number = value if isinstance(value, int | float) and not hidden else None
        points.append(Point(str(row.get(chart.label) or row.get("value") or ""), number,
                            show(value), hidden))
    return points


def show(value: Any) -> str:
    """Give a cell as text: thousands separated, one decimal, blanks as a dash."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _scope(user: Any) -> tuple[str, ...] | None:
    return mission_countries(user)


def _filters(session: Any, user: Any) -> tuple[Params, FilterError | None]:
    try:
        params = parse(request.args)
        return checked(session, params, _scope(user)), None
    except FilterError as exc:
        return replace(Params(), countries=_scope(user)), exc


@bp.get("")
@roles_required(*ROLES)
def index() -> tuple[str, int] | str:
    """Show the dashboard: cached charts drawn, the others as placeholders to load."""
    user = current_user()
    hide = hides_small(user.role)
    with services().db.Session() as session:
        params, error = _filters(session, user)
    charts = []
    query = as_query(params) if error is None else {}
    if error is None:
        for chart in CHARTS:
            rows = cached_rows(chart, params, hide)
            if rows is None:  # not drawn here: the page would wait for every query
                charts.append({"chart": chart, "url": url_for(
                    "analytics.fragment", slug=chart.slug, **query)})
            else:
                charts.append(_item(chart, rows, params))
        audit("report.view", "report:dashboard", {"filters": as_query(params)})
    page = render_template(
        "analytics.html", charts=charts, error=error, args=request.args,
        options=_options(user), **_context(user, query))
    return (page, 400) if error is not None else page


@bp.get("/chart/<slug>")
@roles_required(*ROLES)
def fragment(slug: str) -> Response:
    """Give one chart's section of the page, as an HTML fragment (one query, audited)."""
    found = _BY_SLUG.get(slug)
    if found is None:
        abort(404)
    user = current_user()
    params, rows = _requested_rows(found, user)
    audit("report.view", f"report:{found.report}",
          {"chart": slug, "filters": as_query(params)})
    html = render_template("_analytics_chart.html", item=_item(found, rows, params),
                           **_context(user, as_query(params)))
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _requested_rows(chart: Chart, user: Any) -> tuple[Params, list[Row]]:
    """Give the query string's filters and one chart's rows for them; 400 on a bad filter."""
    with services().db.Session() as session:
        params, error = _filters(session, user)
        if error is not None:
            abort(400, description=f"{error.field}: {error.message}")
        return params, chart_rows(chart, session, params, hides_small(user.role))


def _item(chart: Chart, rows: list[Row], params: Params) -> dict[str, Any]:
    """Give what the template draws for one chart with its rows."""
    draw = line_chart if chart.kind == "line" else bar_chart
    return {
        "chart": chart, "rows": rows[:TABLE_ROWS], "total": len(rows),
        "svg": draw(f"chart-{chart.slug}", chart.title, _points(chart, rows),
                    100 if chart.percent else None),
        "ignored": sorted(_given(params) - chart.aggregate.filters),
    }


def _context(user: Any, query: dict[str, str]) -> dict[str, Any]:
    """Give the template values the page and a chart fragment share."""
    return {
        "query": query, "headings": HEADINGS, "show": show, "hide": hides_small(user.role),
        "small": SMALL, "hidden": (HIDDEN_COUNT, HIDDEN_RATE),
        "cache_minutes": CACHE_SECONDS // 60, "scope": _scope(user),
        "export_url": lambda slug, fmt: url_for("analytics.export", slug=slug, fmt=fmt,
                                                **query),
    }


@bp.get("/<slug>.<fmt>")
@roles_required(*ROLES)
def export(slug: str, fmt: str) -> Response:
    """Download one chart's rows, all of them, as CSV or XLSX (audited)."""
    chart = _BY_SLUG.get(slug)
    if chart is None or fmt not in ("csv", "xlsx"):
        abort(404)
    user = current_user()
    hide = hides_small(user.role)
    params, rows = _requested_rows(chart, user)
    audit(f"export.{fmt}", f"report:{chart.report}",
          {"chart": slug, "filters": as_query(params), "rows": len(rows)})
    stamp = utcnow().strftime("%Y%m%d")
    name = f"kazi-{slug}-{stamp}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(to_csv(chart.columns, rows), mimetype="text/csv", headers=headers)
    about = {"report": chart.title, "filters": _describe(params),
             "generated_at": utcnow().isoformat(timespec="seconds"),
             "note": chart.aggregate.note,
             "privacy": (f"Counts of people from 1 to {SMALL - 1} read '{HIDDEN_COUNT}'; rates "
                         f"made from them read '{HIDDEN_RATE}'.") if hide else "exact counts",
             "source": "Kazi Salama, National Employment Authority"}
    body = to_xlsx(chart.title, chart.columns, rows, about)
    return Response(body, headers=headers, mimetype="application/vnd.openxmlformats-"
                                                   "officedocument.spreadsheetml.sheet")


def _given(params: Params) -> set[str]:
    return {k for k in as_query(params) if k != "by"}


def _describe(params: Params) -> str:
    given = as_query(params)
    if params.countries is not None:
        given["mission countries"] = ",".join(params.countries)
    return "; ".join(f"{k}={v}" for k, v in given.items()) or "none"


def _options(user: Any) -> dict[str, Any]:
    scope = _scope(user)
    covered = sorted({c for m in MISSIONS for c in m.covers} if scope is None else scope)
    return {
        "countries": [(c, country_name(c)) for c in covered],
        "counties": [(c.code, c.name) for c in COUNTIES],
        "genders": GENDERS,
        "occupations": OCCUPATIONS,
    }
