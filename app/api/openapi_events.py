"""The OpenAPI description of the signed partner events route (``app.api.events``).

Merged into the document of ``app.api.openapi``; the event types, statuses and
permit types are the ones ``app.partners.events`` enforces. References (``Error``,
the body responses) resolve in the merged document.
"""

from __future__ import annotations

from typing import Any

from app.api.openapi_listings import COUNTRY
from app.api.openapi_refs import _error, _ref
from app.listings.submission import VISA_TYPES
from app.models.partner import EVENT_STATUSES, PERMIT_TYPES
from app.partners.events import TYPES as EVENT_TYPES

SCHEMAS: dict[str, Any] = {
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
    "Conflict": _error("The event contradicts our records; it is kept as rejected."),
    "PartnerUnauthorized": _error("A partner header is missing, the partner unknown or "
                                  "inactive, the signature wrong, or the timestamp more "
                                  "than 300 s from our clock."),
    "WrongPartnerKind": _error("This kind of partner may not send this type of event."),
}

PATHS: dict[str, Any] = {
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
}
