"""The aggregate reports as JSON: ``GET /api/v1/reports`` and ``GET /api/v1/reports/<name>``.

For a staff API key (``kazi users key --email …``) of an ``analyst`` (or
``nea_admin``). The filters are the dashboard's, as query parameters (``from``,
``to``, ``country``, ``county``, ``agency``, ``gender``, ``occupation``, ``by``);
a filter the API does not know, or a value it cannot use, is a 422 naming it.
Analysts get small counts of people as ``"<5"`` (``app.reports.privacy``). Reports
that list people (``irregular``, ``clusters``) are not served here. Every read is
written to the audit log, as an export.
"""

from __future__ import annotations

from flask import Response, request

from app.api import bp, fail, json_response
from app.api.keys import api_roles_required
from app.extensions import services
from app.reports import reports
from app.reports.aggregates import aggregates, get
from app.reports.filters import FilterError, as_query, checked, parse
from app.reports.privacy import SMALL, suppress
from app.staff.audit import audit
from app.staff.login import current_user

ROLE = "analyst"
"""The role a key's user needs (``nea_admin`` may too)."""


@bp.get("/reports")
@api_roles_required(ROLE)
def list_reports() -> Response:
    return json_response({"reports": [
        {"name": agg.name, "title": agg.title, "columns": list(agg.columns),
         "breakdowns": list(agg.breakdowns), "filters": sorted(agg.filters), "note": agg.note}
        for agg in aggregates().values()]})


@bp.get("/reports/<string:name>")
@api_roles_required(ROLE)
def show_report(name: str) -> Response:
    agg = get(name)
    if agg is None:
        if name in reports():
            fail(403, "not_aggregate", f"The report {name!r} lists people; the API serves "
                                       "aggregate reports only.")
        fail(404, "not_found", f"There is no report called {name!r}.")
    user = current_user()
    try:
        params = parse(request.args, strict=True)
        if params.by and params.by not in agg.breakdowns:
            choices = ", ".join(agg.breakdowns) or "none"
            raise FilterError("by", f"{name} breaks down by: {choices}")
        with services().db.Session() as session:
            params = checked(session, params, None)
            rows = agg.rows(session, params)
    except FilterError as exc:
        fail(422, "invalid_filter", exc.message, exc.field)
    hide = user.role == ROLE
    if hide:
        rows = suppress(agg, rows)
    given = as_query(params)
    audit("export.json", f"report:{name}", {"filters": given, "rows": len(rows), "api": True})
    return json_response({
        "report": name, "title": agg.title, "columns": list(agg.columns), "filters": given,
        "ignored_filters": sorted(set(given) - agg.filters - {"by"}),
        "suppressed_below": SMALL if hide else None, "note": agg.note,
        "rows": [{c: row.get(c) for c in agg.columns} for row in rows],
    })

