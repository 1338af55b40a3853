"""The OpenAPI 3 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written as data next to the code it describes: each group of routes has its own
description module (``openapi_listings``, ``openapi_events``, ``openapi_placements``,
``openapi_reports``, ``openapi_cases``), whose enumerations and limits are taken from
the modules that enforce them, so the two cannot drift apart. This module holds
what they share (the error shape and the common error responses), merges them into
one document and serves it. ``tests/api/test_openapi.py`` validates the document
and runs schemathesis against the app with it.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from app.api import (
    MAX_BODY,
    bp,
    json_response,
    openapi_cases,
    openapi_events,
    openapi_listings,
    openapi_placements,
    openapi_reports,
)
from app.api.openapi_refs import _error

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable.",
                         "example": "invalid"},
                "message": {"type": "string", "description": "Plain words for a person."},
                "field": {"type": "string", "description": "Path of the field at fault, "
                                                           "e.g. employer.country."},
            },
        }},
    },
}

RESPONSES: dict[str, Any] = {
    "BadRequest": _error("The body is not valid JSON."),
    "Unauthorized": {**_error("The API key is missing, unknown or revoked."),
                     "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
    "Forbidden": _error("The agency's licence is not valid today (suspended, revoked or "
                        "expired)."),
    "PayloadTooLarge": _error(f"The body is larger than {MAX_BODY // 1024} KB."),
    "UnsupportedMediaType": _error("The body is not application/json."),
    "Unprocessable": _error("A field is missing or wrong; error.field names it."),
}

PATHS: dict[str, Any] = {
    **openapi_listings.PATHS,
    **openapi_events.PATHS,
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}}},
        },
    },
}

# Each group of routes is described beside them; the document merges them all.
for _part in (openapi_listings, openapi_events, openapi_placements, openapi_reports,
              openapi_cases):
    SCHEMAS.update(_part.SCHEMAS)
    RESPONSES.update(_part.RESPONSES)
for _part in (openapi_placements, openapi_reports, openapi_cases):
    PATHS.update(_part.PATHS)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Kazi Salama partner API",
        "version": "1.0.0",
        "description": "Licensed recruitment agencies submit job listings for validation; "
                       "immigration, police and destination-country systems post signed "
                       "events. Errors are always {\"error\": {\"code\", \"message\", \"field\"?}} "
                       "with a 4xx status.",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "An agency API key from `kazi agencies issue-key LICENCE_NO`.",
            },
            "partnerId": {"type": "apiKey", "in": "header", "name": "X-Kazi-Partner",
                          "description": "The partner id from `kazi partners add`."},
            "partnerTimestamp": {"type": "apiKey", "in": "header", "name": "X-Kazi-Timestamp",
                                 "description": "Unix seconds; at most 300 s old."},
            "partnerSignature": {"type": "apiKey", "in": "header", "name": "X-Kazi-Signature",
                                 "description": "sha256=<hex HMAC-SHA256(secret, timestamp + "
                                                "'.' + raw body)>."},
        },
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}
"""The whole OpenAPI 3.0 document."""


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(DOCUMENT)
