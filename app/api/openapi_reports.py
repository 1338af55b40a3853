"""The OpenAPI description of the aggregate reports (``app.api.reports``).

Merged into the document of ``app.api.openapi``. Every filter is a query
parameter; the values are the ones ``app.reports.filters`` accepts.
"""

from __future__ import annotations

from typing import Any

from app.api.openapi_refs import _error, _ref
from app.reference.salary_norms import OCCUPATIONS
from app.reports.filters import GENDERS

def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


FILTERS = [
    _query("from", {"type": "string", "format": "date"}, "First day (Kenya), inclusive."),
    _query("to", {"type": "string", "format": "date"},
           "Last day (Kenya), inclusive; the day stocks are counted on (default today)."),
    _query("country", {"type": "string", "pattern": "^[A-Za-z]{2}$"},
           "Destination, ISO 3166-1 alpha-2."),
    _query("county", {"type": "integer", "minimum": 1, "maximum": 47},
           "The migrant's home county, by its code."),
    _query("agency", {"type": "string", "maxLength": 40}, "An agency's NEA licence number."),
    _query("gender", {"type": "string", "enum": list(GENDERS)}, "The migrant's gender."),
    _query("occupation", {"type": "string", "enum": list(OCCUPATIONS)}, "An occupation code."),
    _query("by", {"type": "string"},
           "The breakdown, for reports with several (placements: agency, county, gender, "
           "occupation; cases: country, agency, employer). Without it, all of them."),
]

_CELL = {"oneOf": [{"type": "number"}, {"type": "string"}], "nullable": True,
         "description": "A number; \"<5\" for a small count of people hidden from analysts, "
                        "\"suppressed\" for a rate made from one; text for labels."}

SCHEMAS: dict[str, Any] = {
    "ReportList": {
        "type": "object", "required": ["reports"],
        "properties": {"reports": {"type": "array", "items": {
            "type": "object", "required": ["name", "title", "columns"],
            "properties": {
                "name": {"type": "string"}, "title": {"type": "string"},
                "columns": {"type": "array", "items": {"type": "string"}},
                "breakdowns": {"type": "array", "items": {"type": "string"}},
                "filters": {"type": "array", "items": {"type": "string"}},
                "note": {"type": "string"},
            }}}},
    },
    "Report": {
        "type": "object",
        "required": ["report", "title", "columns", "filters", "rows", "suppressed_below"],
        "properties": {
            "report": {"type": "string", "example": "stock"},
            "title": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "filters": {"type": "object", "additionalProperties": {"type": "string"}},
            "ignored_filters": {"type": "array", "items": {"type": "string"}},
            "suppressed_below": {"type": "integer", "nullable": True,
                                 "description": "Counts of people under this are hidden; "
                                                "null for exact counts (nea_admin)."},
            "note": {"type": "string"},
            "rows": {"type": "array", "items": {"type": "object",
                                                 "additionalProperties": _CELL}},
        },
    },
}

RESPONSES: dict[str, Any] = {
    "ReportNotFound": _error("There is no report by that name."),
    "NotAggregate": _error("The key's role may not read this, or the report lists people "
                           "(irregular, clusters) and is not served by the API."),
    "InvalidFilter": _error("A filter is unknown or its value cannot be used; "
                            "error.field names it."),
}

_AUTH = {"401": _ref("responses", "Unauthorized")}

PATHS: dict[str, Any] = {
    "/api/v1/reports": {
        "get": {
            "operationId": "listReports",
            "summary": "The aggregate reports, with their columns, breakdowns and filters",
            "description": "For a staff API key (`kazi users key --email …`) of an analyst.",
            "security": [{"bearerAuth": []}],
            "responses": {
                "200": {"description": "Every aggregate report.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "ReportList")}}},
                **_AUTH,
                "403": _ref("responses", "NotAggregate"),
            },
        },
    },
    "/api/v1/reports/{name}": {
        "get": {
            "operationId": "getReport",
            "summary": "One aggregate report (stock, departures, placements, cases, sla, "
                       "checkins, red_flags, agencies, agency_risk) for the filters",
            "description": "For a staff API key of an analyst: counts of 1 to 4 people read "
                           "\"<5\". Every read is audited.",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "name", "in": "path", "required": True,
                            "schema": {"type": "string"}}, *FILTERS],
            "responses": {
                "200": {"description": "The report's rows.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "Report")}}},
                **_AUTH,
                "403": _ref("responses", "NotAggregate"),
                "404": _ref("responses", "ReportNotFound"),
                "422": _ref("responses", "InvalidFilter"),
            },
        },
    },
}
