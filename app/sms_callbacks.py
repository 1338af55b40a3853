"""POST /sms/incoming and /sms/delivery: AT's SMS callbacks, thin around ``app.sms``.

Per callback: check the token, read the form, hand it to ``app.sms.inbound`` or
``app.sms.delivery``, answer. Both are safe to receive twice, because AT retries
anything not answered 200.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError

from app.callbacks import form, require_token
from app.extensions import services
from app.phones import try_normalise
from app.sms import delivery as reports
from app.sms import inbound

log = logging.getLogger(__name__)
bp = Blueprint("sms_callbacks", __name__)


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@bp.post("/sms/incoming")
def incoming() -> Response:
    require_token()
    fields = form()
    at_id = fields.get("id", "").strip()
    raw_from = fields.get("from", "").strip()
    if not at_id:
        return _text("missing id", 400)
    if len(at_id) > 80:
        return _text("id too long", 400)
    if not raw_from:
        return _text("missing from", 400)
    phone = try_normalise(raw_from)
    if phone is None:
        return _text("from is not a valid phone number", 400)
    if not inbound.receive(services(), at_id, phone, fields):
        return _text("try again", 503)  # kept nowhere, so not acknowledged: AT retries it
    return _text("OK")


@bp.post("/sms/delivery")
def delivery() -> Response:
    require_token()
    fields = form()
    at_id = fields.get("id", "").strip()
    status = fields.get("status", "").strip()
    if not at_id or not status:
        return _text("missing id or status", 400)
    if status not in reports.STATUSES:
        return _text("unknown status", 400)
    reason = fields.get("failureReason", "").strip() or None
    try:
        found = reports.record(services(), at_id, status, reason)
    except SQLAlchemyError as exc:
        log.error("delivery report not stored: %s", type(exc).__name__)
        return _text("try again", 503)
    if not found:
        # Answer 200 anyway: an error would make AT retry a report we can never match.
        log.info("delivery report %s for unknown AT message id %s", status, at_id)
    return _text("OK")
