"""The OpenAPI description of the job-listing routes (``app.api.listings``).

Merged into the document of ``app.api.openapi``; the enumerations and limits are
the ones the routes and validation enforce. References (``Error``, the auth and
body responses) resolve in the merged document.
"""

from __future__ import annotations

from typing import Any

from app.api.listings import MAX_PER_PAGE, PER_PAGE
from app.api.openapi_refs import _error, _nullable, _ref
from app.listings import codes
from app.listings.submission import MAX_AMOUNT, PERIODS, VISA_TYPES
from app.models.listing import LISTING_STATUSES
from app.reference.salary_norms import OCCUPATIONS

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
}

RESPONSES: dict[str, Any] = {
    "NotFound": _error("No such listing among this agency's listings."),
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
}
