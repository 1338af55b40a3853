"""The OpenAPI description of the staff case endpoints (``app.api.cases``).

Merged into the document of ``app.api.openapi``.
"""

from __future__ import annotations

from typing import Any

from app.api.openapi_refs import _error, _ref
from app.models.protection import CATEGORIES, SEVERITIES

_MOMENT = {"type": "string", "format": "date-time", "nullable": True}
_ID = {"type": "integer", "nullable": True}

SCHEMAS: dict[str, Any] = {
    "Case": {
        "type": "object",
        "required": ["ref", "status", "severity", "mission", "opened_at"],
        "properties": {
            "ref": {"type": "string", "example": "7Q2MKX"},
            "status": {"type": "string", "enum": ["open", "acknowledged", "closed"]},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "category": {"type": "string", "enum": list(CATEGORIES), "nullable": True},
            "country": {"type": "string", "nullable": True},
            "mission": {"type": "string", "example": "KE-RUH"},
            "escalation_level": {"type": "integer"},
            "channel": {"type": "string"},
            "reporter_phone": {"type": "string"},
            "person_id": _ID, "placement_id": _ID, "agency_id": _ID,
            "opened_at": {"type": "string", "format": "date-time"},
            "acknowledged_at": _MOMENT, "closed_at": _MOMENT,
        },
    },
    "CaseList": {
        "type": "object", "required": ["cases", "offset", "limit"],
        "properties": {"cases": {"type": "array", "items": _ref("schemas", "Case")},
                       "offset": {"type": "integer"}, "limit": {"type": "integer"}},
    },
}

RESPONSES: dict[str, Any] = {
    "StaffUnauthorized": {**_error("The staff API key is missing, unknown or revoked."),
                          "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
    "StaffForbidden": _error("The key's user has no role that reads cases."),
    "CaseNotFound": _error("No such case among those the key's user may see."),
}

_ERRORS = {"401": _ref("responses", "StaffUnauthorized"),
           "403": _ref("responses", "StaffForbidden")}

PATHS: dict[str, Any] = {
    "/api/v1/cases": {
        "get": {
            "operationId": "listCases",
            "summary": "List open distress cases the key's user may see (staff key)",
            "description": "A consular officer's key sees only their mission's cases; an "
                           "nea_admin's every case. Oldest first, 50 at a time. Audited.",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "offset", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0,
                                       "maximum": 10000000, "default": 0}}],
            "responses": {
                "200": {"description": "One page of cases.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "CaseList")}}},
                **_ERRORS,
                "422": _ref("responses", "Unprocessable"),
            },
        },
    },
    "/api/v1/cases/{ref}": {
        "get": {
            "operationId": "getCase",
            "summary": "Read one distress case (staff key); another mission's case is 404",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "ref", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The case.",
                        "content": {"application/json": {"schema": _ref("schemas", "Case")}}},
                **_ERRORS,
                "404": _ref("responses", "CaseNotFound"),
            },
        },
    },
}
