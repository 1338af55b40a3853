"""Partners post signed events: ``POST /api/v1/events``.

The order of checks, each with its answer:

1. ``X-Kazi-Partner``, ``X-Kazi-Timestamp`` and ``X-Kazi-Signature`` present and well
   formed, the partner known and active, the HMAC right (constant time), the
   timestamp within 300 s of our clock: otherwise 401.
2. The body is JSON and a valid event: otherwise 422 with ``error.field``
   (``unknown_type`` for a type we do not know, ``future_date`` for a time ahead).
3. The partner's kind may send this type: otherwise 403.
4. An event id this partner already sent: 200 with what it did then, and nothing else.
   The row is inserted before anything is done, under a unique (partner, event id):
   a copy, even one sent at the same moment as the first, fails that INSERT and
   is answered from the stored row, so two copies cannot both act.
5. Otherwise the effect is recorded and the answer says what became of the event:
   200 ``applied`` or ``matched``, 202 ``unmatched`` (nobody we know: kept for
   review), 409 when it contradicts our records (kept as ``rejected``, with the reason).
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.api import ApiError, bp, fail, json_response
from app.db import utcnow
from app.extensions import services
from app.listings.submission import FieldError
from app.models.partner import PartnerEvent
from app.partners import effects
from app.partners.events import Event, parse
from app.partners.registry import active_partner
from app.partners.signing import WINDOW, fresh, parse_timestamp, verify

_DUMMY_SECRET = "0" * 64
"""Checked against when the partner is unknown, so that answer takes as long as a bad one."""

_STATUS = {"applied": 200, "matched": 200, "unmatched": 202}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


@bp.post("/events")
def receive() -> Response:
    svc = services()
    raw = request.get_data(cache=True)  # 413 past MAX_BODY
    with svc.db.Session() as session:
        partner_id, kind = _authenticate(svc, session, raw)
        event = _read(raw)
        if event.kind != kind:
            fail(403, "wrong_partner_kind",
                 f"Partners of kind {kind} may not send {event.type} events.", "type")
        nid_bidx, passport_bidx = effects.identifiers(svc.cipher, event)
        row = PartnerEvent(partner_id=partner_id, event_id=event.id, type=event.type,
                           occurred_at=event.occurred_at,
                           body_enc=svc.cipher.encrypt(raw.decode("utf-8")),
                           national_id_bidx=nid_bidx, passport_bidx=passport_bidx,
                           status="unmatched", received_at=utcnow())
        session.add(row)
        try:
            # The unique (partner, event id) decides here, before any effect: a replay,
            # even one racing the first copy, stops at this INSERT.
            session.flush()
        except IntegrityError:
            session.rollback()
            known = _known(session, partner_id, event.id)
            if known is None:
                raise
            return _replay(known)
        outcome = effects.apply(session, row, event, kind)
        answer = _body(row, duplicate=False)
        session.commit()
    if outcome.status == "rejected":
        raise ApiError(409, outcome.code or "conflict", outcome.message or "", outcome.field)
    return json_response(answer, _STATUS[outcome.status])


def _authenticate(svc, session, raw: bytes) -> tuple[int, str]:
    """Check the three headers and the signature; give the partner's id and kind."""
    partner_header = (request.headers.get("X-Kazi-Partner") or "").strip()
    stamp_header = request.headers.get("X-Kazi-Timestamp")
    signature = request.headers.get("X-Kazi-Signature")
    if not partner_header or stamp_header is None or signature is None:
        raise _unauthorized("Send X-Kazi-Partner, X-Kazi-Timestamp and X-Kazi-Signature.")
    timestamp = parse_timestamp(stamp_header)
    if timestamp is None:
        raise _unauthorized("X-Kazi-Timestamp must be unix seconds.")
    partner = None
    if partner_header.isascii() and partner_header.isdigit() and len(partner_header) < 10:
        partner = active_partner(session, int(partner_header))
    secret = svc.cipher.decrypt(partner.secret_enc) if partner else _DUMMY_SECRET
    good = verify(secret, str(timestamp), raw, signature)
    if partner is None or not good:
        raise _unauthorized("The partner is unknown or the signature does not match.")
    if not fresh(timestamp, time.time()):
        raise _unauthorized(f"X-Kazi-Timestamp is more than {WINDOW} s from our clock; "
                            "check the sender's clock.")
    return partner.id, partner.kind


def _read(raw: bytes) -> Event:
    try:
        body: Any = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        fail(422, "malformed_json", "The body is not valid JSON.", "body")
    try:
        return parse(body, utcnow())
    except FieldError as exc:
        fail(422, exc.code, exc.message, exc.field)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _known(session, partner_id: int, event_id: str) -> PartnerEvent | None:
    return session.scalar(select(PartnerEvent).where(PartnerEvent.partner_id == partner_id,
                                                     PartnerEvent.event_id == event_id))


def _body(row: PartnerEvent, duplicate: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": row.event_id, "type": row.type, "status": row.status,
                              "duplicate": duplicate}
    if row.status == "rejected" and row.detail:
        answer["detail"] = row.detail
    return answer


def _replay(row: PartnerEvent) -> Response:
    """The same event again: say what it did the first time, do nothing."""
    return json_response(_body(row, duplicate=True), 200)
