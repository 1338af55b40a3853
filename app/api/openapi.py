"""The OpenAPI 3 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written as data next to the code it describes; the enumerations and limits are
taken from the modules that enforce them, so the two cannot drift apart.
``tests/api/test_openapi.py`` validates the document and runs schemathesis
against the app with it.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from app.api import (
    MAX_BODY,
    bp,
    json_response,
    openapi_cases,
    openapi_placements,
    openapi_reports,
)
from app.api.listings import MAX_PER_PAGE, PER_PAGE
from app.listings import codes
from app.listings.submission import MAX_AMOUNT, PERIODS, VISA_TYPES
from app.models.listing import LISTING_STATUSES
from app.models.partner import EVENT_STATUSES, PERMIT_TYPES
from app.partners.events import TYPES as EVENT_TYPES
from app.reference.salary_norms import OCCUPATIONS

_REF = "#/components/"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}{kind}/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("schemas", "Error")}}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$",
           "description": "ISO 3166-1 alpha-2 code of a known country, e.g. SA.",
           "example": "SA"}
CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 currency code, e.g. SAR.", "example": "SAR"}
AMOUNT = {"type": "number", "maximum": MAX_AMOUNT}
CODE = {"type": "string", "pattern": f"^[{codes.ALPHABET}]{{{codes.LENGTH}}}$",
        "description": "The listing's public code: 6 characters without 0, O, 1 or I.",
        "example": "K7MZQ2"}

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
    "Flag": {
        "type": "object",
        "required": ["rule", "message"],
        "properties": {
            "rule": {"type": "string", "example": "worker_fee",
                     "description": "Stable id of the red-flag rule."},
            "severity": {"type": "string", "enum": ["reject", "review"],
                         "description": "reject decides the outcome; review asks an officer."},
            "message": {"type": "string"},
        },
    },
    "EmployerInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "country"],
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 200},
            "country": COUNTRY,
            "city": {"type": "string", "maxLength": 100},
            "address": {"type": "string", "maxLength": 300},
        },
    },
    "Salary": {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount", "currency", "period"],
        "properties": {
            "amount": {**AMOUNT, "exclusiveMinimum": True, "minimum": 0},
            "currency": CURRENCY,
            "period": {"type": "string", "enum": list(PERIODS)},
        },
    },
    "WorkerFees": {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount", "currency"],
        "description": "What the worker is charged. It must be 0: the employer pays.",
        "properties": {"amount": {**AMOUNT, "minimum": 0}, "currency": CURRENCY},
    },
    "ListingInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "occupation"],
        "description": "A job listing (contract §5). Only title and occupation are required "
                       "to store it; a listing without employer, salary, contract "
                       "languages or worker fees is stored and then flagged by validation.",
        "properties": {
            "title": {"type": "string", "minLength": 2, "maxLength": 120,
                      "example": "House help"},
            "occupation": {"type": "string", "enum": list(OCCUPATIONS)},
            "employer": _ref("schemas", "EmployerInput"),
            "salary": _ref("schemas", "Salary"),
            "hours_per_week": {"type": "integer", "minimum": 1, "maximum": 168},
            "vacancies": {"type": "integer", "minimum": 1, "maximum": 100000},
            "contract_languages": {
                "type": "array", "maxItems": 10,
                "items": {"type": "string", "pattern": "^[a-z]{2,3}$",
                          "description": "ISO 639 language code, e.g. en, ar, ru."},
            },
            "worker_fees": _ref("schemas", "WorkerFees"),
            "visa_type": {"type": "string", "enum": list(VISA_TYPES)},
            "closing_date": {"type": "string", "format": "date"},
        },
        "example": {
            "title": "House help", "occupation": "domestic_worker",
            "employer": {"name": "Al Noor Household Services", "country": "SA",
                         "city": "Riyadh", "address": "King Fahd Rd"},
            "salary": {"amount": 1500, "currency": "SAR", "period": "month"},
            "hours_per_week": 48, "vacancies": 20, "contract_languages": ["en", "ar"],
            "worker_fees": {"amount": 0, "currency": "KES"}, "visa_type": "work",
            "closing_date": "2027-01-31",
        },
    },
    "Listing": {
        "type": "object",
        "required": ["code", "status", "flags", "title", "occupation", "employer", "salary",
                     "hours_per_week", "vacancies", "contract_languages", "worker_fees",
                     "visa_type", "closing_date", "submitted_at", "validated_at",
                     "held_reason"],
        "properties": {
            "code": CODE,
            "status": {"type": "string", "enum": list(LISTING_STATUSES),
                       "description": "pending until validation decides; held when the "
                                      "agency's licence stops being valid."},
            "flags": {"type": "array", "items": _ref("schemas", "Flag")},
            "title": {"type": "string"},
            "occupation": {"type": "string", "enum": list(OCCUPATIONS)},
            "employer": _nullable({
                "type": "object",
                "required": ["name", "country", "city", "address"],
                "properties": {
                    "name": {"type": "string"}, "country": COUNTRY,
                    "city": _nullable({"type": "string"}),
                    "address": _nullable({"type": "string"}),
                },
            }),
            "salary": _nullable({
                "type": "object",
                "required": ["amount", "currency", "period"],
                "properties": {"amount": {"type": "number"}, "currency": CURRENCY,
                               "period": {"type": "string", "enum": list(PERIODS)}},
            }),
            "hours_per_week": _nullable({"type": "integer"}),
            "vacancies": _nullable({"type": "integer"}),
            "contract_languages": {"type": "array", "items": {"type": "string"}},
            "worker_fees": _nullable({
                "type": "object",
                "required": ["amount", "currency"],
                "properties": {"amount": {"type": "number"}, "currency": CURRENCY},
            }),
            "visa_type": _nullable({"type": "string", "enum": list(VISA_TYPES)}),
            "closing_date": _nullable({"type": "string", "format": "date"}),
            "submitted_at": {"type": "string", "format": "date-time"},
            "validated_at": _nullable({"type": "string", "format": "date-time"}),
            "held_reason": _nullable({"type": "string"}),
        },
    },
    "ListingPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref("schemas", "Listing")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    "PartnerEvent": {
        "type": "object",
        "required": ["id", "type", "occurred_at"],
        "description": "A movement, permit or police event from a partner system (contract "
                       "§5). person is required except for police.alert; unknown keys are "
                       "ignored. Sent again with the same id, it has no second effect: an "
                       "id is used once, so send a corrected event under a new id.",
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$",
                   "example": "evt-000123"},
            "type": {"type": "string", "enum": list(EVENT_TYPES),
                     "description": "immigration partners send immigration.*, destination "
                                    "countries permit.*, police police.alert (else 403)."},
            "occurred_at": {"type": "string", "format": "date-time",
                            "description": "With a time zone; not in the future (422 "
                                           "future_date)."},
            "person": {"type": "object", "description": "Matched by blind index; an "
                                                        "unknown person is kept (202).",
                       "properties": {
                           "national_id": {"type": "string", "pattern":
                                           "^([0-9]{7,8}|[0-9]{14})$"},
                           "passport": {"type": "string", "example": "AK1234567"}}},
            "data": {"type": "object", "description":
                     "immigration.departure: country (required, not KE), port, visa_type "
                     f"({'/'.join(VISA_TYPES)}). immigration.arrival (back in Kenya): "
                     "country (from), port. permit.issued: country, permit_no, permit_type "
                     f"({'/'.join(PERMIT_TYPES)}), expires_on (all required), issued_on "
                     "(default: the day of occurred_at). permit.revoked: permit_no "
                     "(required), country, reason. police.alert: licence_no and/or phone, "
                     "reason (required).",
                     "properties": {
                         "country": COUNTRY, "port": {"type": "string", "maxLength": 40},
                         "visa_type": {"type": "string", "enum": list(VISA_TYPES)},
                         "permit_no": {"type": "string", "maxLength": 40},
                         "permit_type": {"type": "string", "enum": list(PERMIT_TYPES)},
                         "issued_on": {"type": "string", "format": "date"},
                         "expires_on": {"type": "string", "format": "date"},
                         "licence_no": {"type": "string", "example": "NEA/PEA/2024/0001"},
                         "phone": {"type": "string", "example": "+254712345678"},
                         "reason": {"type": "string", "maxLength": 500},
                     }},
        },
        "example": {"id": "evt-000123", "type": "immigration.departure",
                    "occurred_at": "2026-11-20T08:15:00Z",
                    "person": {"national_id": "12345678", "passport": "AK1234567"},
                    "data": {"country": "SA", "port": "JKIA", "visa_type": "work"}},
    },
    "EventResult": {
        "type": "object",
        "required": ["id", "type", "status", "duplicate"],
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "status": {"type": "string", "enum": list(EVENT_STATUSES)},
            "duplicate": {"type": "boolean",
                          "description": "true when this id was received before."},
            "detail": {"type": "string"},
        },
    },
}

RESPONSES: dict[str, Any] = {
    "BadRequest": _error("The body is not valid JSON."),
    "Unauthorized": {**_error("The API key is missing, unknown or revoked."),
                     "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
    "Forbidden": _error("The agency's licence is not valid today (suspended, revoked or "
                        "expired)."),
    "NotFound": _error("No such listing among this agency's listings."),
    "PayloadTooLarge": _error(f"The body is larger than {MAX_BODY // 1024} KB."),
    "UnsupportedMediaType": _error("The body is not application/json."),
    "Unprocessable": _error("A field is missing or wrong; error.field names it."),
    "Conflict": _error("The event contradicts our records; it is kept as rejected."),
    "PartnerUnauthorized": _error("A partner header is missing, the partner unknown or "
                                  "inactive, the signature wrong, or the timestamp more "
                                  "than 300 s from our clock."),
    "WrongPartnerKind": _error("This kind of partner may not send this type of event."),
}

_AUTH_ERRORS = {"401": _ref("responses", "Unauthorized"), "403": _ref("responses", "Forbidden")}

PATHS: dict[str, Any] = {
    "/api/v1/job-listings": {
        "post": {
            "operationId": "submitJobListing",
            "summary": "Submit a job listing for validation",
            "description": "Stores the listing as pending and validates it in the "
                           "background; read the outcome with GET.",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("schemas", "ListingInput")}},
            },
            "responses": {
                "201": {"description": "Stored; validation follows.",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {
                            "schema": _ref("schemas", "Listing")}}},
                "400": _ref("responses", "BadRequest"),
                **_AUTH_ERRORS,
                "413": _ref("responses", "PayloadTooLarge"),
                "415": _ref("responses", "UnsupportedMediaType"),
                "422": _ref("responses", "Unprocessable"),
            },
        },
        "get": {
            "operationId": "listJobListings",
            "summary": "List this agency's job listings, newest first",
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(LISTING_STATUSES)}},
                {"name": "page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000000,
                            "default": 1}},
                {"name": "per_page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                            "default": PER_PAGE}},
            ],
            "responses": {
                "200": {"description": "One page of listings.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "ListingPage")}}},
                **_AUTH_ERRORS,
                "422": _ref("responses", "Unprocessable"),
            },
        },
    },
    "/api/v1/job-listings/{code}": {
        "get": {
            "operationId": "getJobListing",
            "summary": "Read one of this agency's listings with its outcome and flags",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "code", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The listing.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "Listing")}}},
                **_AUTH_ERRORS,
                "404": _ref("responses", "NotFound"),
            },
        },
    },
    "/api/v1/events": {
        "post": {
            "operationId": "postPartnerEvent",
            "summary": "Post a signed partner event (immigration, permits, police)",
            "description": "Signed with X-Kazi-Signature: sha256=<hex HMAC-SHA256(secret, "
                           "timestamp + '.' + raw body)>, X-Kazi-Timestamp within 300 s of "
                           "our clock either way. Idempotent by event id per partner: a "
                           "repeat gets 200 with duplicate=true and what the first did. "
                           "A body that does not parse or is not a valid event gets 422 "
                           "(code malformed_json, invalid, unknown_type or future_date, "
                           "with error.field); a valid event that contradicts our records "
                           "(out_of_order, already_abroad, permit_conflict, unknown_permit) "
                           "is kept as rejected and answered 409.",
            "security": [{"partnerId": [], "partnerTimestamp": [], "partnerSignature": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("schemas", "PartnerEvent")}},
            },
            "responses": {
                "200": {"description": "Applied or matched, or a repeat of an earlier id.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "EventResult")}}},
                "202": {"description": "About nobody we know: kept, unmatched, for review.",
                        "content": {"application/json": {
                            "schema": _ref("schemas", "EventResult")}}},
                "401": _ref("responses", "PartnerUnauthorized"),
                "403": _ref("responses", "WrongPartnerKind"),
                "409": _ref("responses", "Conflict"),
                "413": _ref("responses", "PayloadTooLarge"),
                "422": _ref("responses", "Unprocessable"),
            },
        },
    },
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

# Placements (issue 5): described beside their routes, merged here.
SCHEMAS.update(openapi_placements.SCHEMAS)
RESPONSES.update(openapi_placements.RESPONSES)
PATHS.update(openapi_placements.PATHS)
SCHEMAS.update(openapi_reports.SCHEMAS)
RESPONSES.update(openapi_reports.RESPONSES)
PATHS.update(openapi_reports.PATHS)
SCHEMAS.update(openapi_cases.SCHEMAS)
RESPONSES.update(openapi_cases.RESPONSES)
PATHS.update(openapi_cases.PATHS)

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
