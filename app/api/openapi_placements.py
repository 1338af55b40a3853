"""The OpenAPI description of the placement routes (``app.api.placements``).

Merged into the document of ``app.api.openapi``; the enumerations and patterns
are the ones the routes enforce. References (``EmployerInput``, ``Error``, the
auth responses) resolve in the merged document.
"""

from __future__ import annotations

from typing import Any

from app.api.openapi_refs import _error, _nullable, _ref
from app.api.placements import AGENCY_STATES, EVIDENCE_MAX, REF_PATTERN, VISA_TYPES
from app.models.placement import PLACEMENT_STATES
from app.placements.service import SOURCES
from app.reference.salary_norms import OCCUPATIONS

_COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$", "example": "SA",
            "description": "ISO 3166-1 alpha-2 code of a known country abroad (not KE)."}
_MOMENT = {"type": "string", "format": "date-time", "example": "2026-11-20T08:15:00Z",
           "description": "When the step happened, with its time zone; not in the future "
                          "and not before the placement's last step."}
_STATUS = {"type": "string", "enum": list(AGENCY_STATES),
           "description": "employed records an employer change and needs employer."}
_EVIDENCE = {"type": "string", "minLength": 1, "maxLength": EVIDENCE_MAX,
             "description": "What shows it happened, e.g. a contract or visa number."}
_STEP_REF = {"type": "string", "pattern": REF_PATTERN,
             "description": "Your id for this step: sent again, it records nothing twice."}

SCHEMAS: dict[str, Any] = {
    "PersonRef": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": "A person registered with Kazi Salama, found by national ID and/or "
                       "passport (matched through blind indexes).",
        "properties": {
            "national_id": {"type": "string", "pattern": "^([0-9]{7,8}|[0-9]{14})$",
                            "example": "12345678"},
            "passport": {"type": "string", "pattern": "^[A-Z]{1,2}[0-9]{6,8}$",
                         "example": "AK1234567"},
        },
    },
    "PlacementInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["person", "country", "occurred_at"],
        "properties": {
            "person": _ref("schemas", "PersonRef"),
            "country": _COUNTRY,
            "status": {**_STATUS, "default": "applied"},
            "occurred_at": _MOMENT,
            "evidence": _EVIDENCE,
            "ref": _STEP_REF,
            "listing_code": {"type": "string", "maxLength": 20, "example": "K7MZQ2",
                             "description": "One of this agency's job listings."},
            "occupation": {"type": "string", "enum": list(OCCUPATIONS)},
            "visa_type": {"type": "string", "enum": list(VISA_TYPES)},
            "employer": _ref("schemas", "EmployerInput"),
        },
        "example": {"person": {"national_id": "12345678"}, "country": "SA",
                    "status": "offered", "occurred_at": "2026-11-20T08:15:00Z",
                    "evidence": "Offer letter AN-2291", "ref": "offer-2291",
                    "listing_code": "K7MZQ2"},
    },
    "TransitionInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["status", "occurred_at"],
        "properties": {
            "status": _STATUS,
            "occurred_at": _MOMENT,
            "evidence": _EVIDENCE,
            "ref": _STEP_REF,
            "employer": _ref("schemas", "EmployerInput"),
        },
        "example": {"status": "employed", "occurred_at": "2027-03-01T06:00:00Z",
                    "evidence": "Transfer of sponsorship 4471",
                    "employer": {"name": "Al Noor Household Services", "country": "SA",
                                 "city": "Riyadh"}},
    },
    "PlacementStep": {
        "type": "object",
        "required": ["from", "to", "source", "occurred_at", "recorded_at", "evidence"],
        "properties": {
            "from": _nullable({"type": "string", "enum": list(PLACEMENT_STATES)}),
            "to": {"type": "string", "enum": list(PLACEMENT_STATES)},
            "source": {"type": "string", "enum": list(SOURCES)},
            "occurred_at": {"type": "string", "format": "date-time"},
            "recorded_at": {"type": "string", "format": "date-time"},
            "evidence": _nullable({"type": "string",
                                   "description": "Shown for the agency's own steps."}),
        },
    },
    "Placement": {
        "type": "object",
        "required": ["id", "status", "person", "country", "occupation", "visa_type",
                     "listing_code", "employer", "departed_on", "arrived_at", "transitions"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(PLACEMENT_STATES)},
            "person": {"type": "object", "required": ["reg_no"],
                       "properties": {"reg_no": _nullable({"type": "string"})}},
            "country": _nullable({"type": "string"}),
            "occupation": _nullable({"type": "string"}),
            "visa_type": _nullable({"type": "string"}),
            "listing_code": _nullable({"type": "string"}),
            "employer": _nullable({
                "type": "object", "required": ["name", "country", "city"],
                "properties": {"name": {"type": "string"}, "country": {"type": "string"},
                               "city": _nullable({"type": "string"})},
            }),
            "departed_on": _nullable({"type": "string", "format": "date"}),
            "arrived_at": _nullable({"type": "string", "format": "date-time"}),
            "transitions": {"type": "array", "items": _ref("schemas", "PlacementStep")},
        },
    },
}

RESPONSES: dict[str, Any] = {
    "PlacementNotFound": _error("No such placement among this agency's placements."),
    "PlacementConflict": _error("An open placement exists for this person, or the ref was "
                                "used for another placement."),
    "PlacementRefused": _error("A field is missing or wrong, the person is not registered "
                               "(unknown_person), or the step cannot happen: future_date, "
                               "out_of_order or bad_transition. error.field names the field."),
}

_ID = {"name": "placement_id", "in": "path", "required": True,
       "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
_AUTH = {"401": _ref("responses", "Unauthorized"), "403": _ref("responses", "Forbidden")}
_BODY_ERRORS = {"400": _ref("responses", "BadRequest"),
                "413": _ref("responses", "PayloadTooLarge"),
                "415": _ref("responses", "UnsupportedMediaType"),
                "422": _ref("responses", "PlacementRefused")}


def _placement(description: str, location: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {
        "schema": _ref("schemas", "Placement")}}}
    if location:
        answer["headers"] = {"Location": {"schema": {"type": "string"}}}
    return answer


PATHS: dict[str, Any] = {
    "/api/v1/placements": {
        "post": {
            "operationId": "createPlacement",
            "summary": "Start a placement for a registered person",
            "description": "The first step (default applied) is kept with source agency.",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _ref("schemas", "PlacementInput")}}},
            "responses": {
                "200": _placement("This ref was sent before: the placement, unchanged."),
                "201": _placement("Started.", location=True),
                **_AUTH,
                "409": _ref("responses", "PlacementConflict"),
                **_BODY_ERRORS,
            },
        },
    },
    "/api/v1/placements/{placement_id}": {
        "get": {
            "operationId": "getPlacement",
            "summary": "Read one of this agency's placements with every step",
            "security": [{"bearerAuth": []}],
            "parameters": [_ID],
            "responses": {"200": _placement("The placement."), **_AUTH,
                          "404": _ref("responses", "PlacementNotFound")},
        },
    },
    "/api/v1/placements/{placement_id}/transitions": {
        "post": {
            "operationId": "addPlacementStep",
            "summary": "Record a step: applied, offered, contracted, visa issued, departed, "
                       "arrived, or an employer change",
            "security": [{"bearerAuth": []}],
            "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _ref("schemas", "TransitionInput")}}},
            "responses": {
                "200": _placement("This ref was sent before: the placement, unchanged."),
                "201": _placement("Recorded."),
                **_AUTH,
                "404": _ref("responses", "PlacementNotFound"),
                "409": _ref("responses", "PlacementConflict"),
                **_BODY_ERRORS,
            },
        },
    },
}
