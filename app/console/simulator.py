"""The phone simulator at ``/simulator``: a feature phone in the browser.

Open in development to anyone, in production only to a signed-in ``nea_admin``
(there it reaches real records and real SMS). Each hop is relayed to ``POST /ussd``
with exactly the fields Africa's Talking sends (``sessionId``, ``serviceCode``,
``phoneNumber``, ``networkCode``, ``text``, and ``?token=`` when one is set), through
the whole app as a callback would be; an SMS typed on the phone goes to ``POST
/sms/incoming`` the same way. The page works without JavaScript; a small script only
saves the page reload. Below the phone is that number's SMS inbox.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import select
from werkzeug.test import Client

from app.console import ERRORS, _error_page
from app.extensions import services
from app.models import Message, User
from app.phones import try_normalise
from app.staff.audit import audit
from app.staff.login import check_csrf, current_user
from app.staff.roles import to_login

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")

for _code in ERRORS:
    bp.register_error_handler(_code, _error_page)

DEFAULT_PHONE = "+254712345678"
NETWORK_CODE = "63902"
"""Safaricom's network code, as AT reports it."""

INBOX_ROWS = 30
"""The newest SMS the inbox shows."""


def allowed(user: User | None) -> bool:
    """Tell whether the simulator is open: development, or an nea_admin in production."""
    if current_app.config.get("KAZI_ENV") != "production":
        return True
    return user is not None and user.role == "nea_admin"


def _guard():
    user = current_user()
    if allowed(user):
        return None
    if user is None:
        return to_login()
    abort(403)


@bp.get("")
def phone():
    """Show the phone, idle, with the number's inbox."""
    refused = _guard()
    if refused is not None:
        return refused
    number = try_normalise(request.args.get("phoneNumber", "")) or DEFAULT_PHONE
    return _page(number, screen=None, session_id="", text="", ended=True)


@bp.post("/ussd")
def hop():
    """Dial, answer or hang up: relay one hop to ``/ussd`` as AT would."""
    refused = _guard()
    if refused is not None:
        return refused
    check_csrf()
    form = request.form
    number = try_normalise(form.get("phoneNumber", ""))
    if number is None:
        return _page(DEFAULT_PHONE, screen="That is not a phone number.", session_id="",
                     text="", ended=True, status=422)
    action = form.get("action", "send")
    if action == "hangup":
        return _page(number, screen=None, session_id="", text="", ended=True)
    if action == "dial" or not form.get("sessionId"):
        session_id, text = f"SIM{secrets.token_hex(12)}", ""
    else:
        session_id = form["sessionId"][:100]
        typed = form.get("input", "")
        text = f"{form.get('text', '')}*{typed}" if form.get("text") else typed
    fields = {
        "sessionId": session_id,
        "serviceCode": current_app.config["USSD_SERVICE_CODE"],
        "phoneNumber": number,
        "networkCode": NETWORK_CODE,
        "text": text,
    }
    status, body = _relay("/ussd", fields)
    ended = not body.startswith("CON ")
    screen = body[4:] if body[:4] in ("CON ", "END ") else body
    if current_user() is not None:
        audit("simulator.ussd", None, {"status": status, "ended": ended})
    if _wants_json():
        return jsonify(screen=screen, sessionId="" if ended else session_id,
                       text="" if ended else text, ended=ended, inbox=_inbox_json(number))
    return _page(number, screen=screen, session_id="" if ended else session_id,
                 text="" if ended else text, ended=ended, status=200 if status == 200 else 502)


@bp.post("/sms")
def sms():
    """Send an SMS from the phone: relay it to ``/sms/incoming`` as AT would."""
    refused = _guard()
    if refused is not None:
        return refused
    check_csrf()
    number = try_normalise(request.form.get("phoneNumber", "")) or DEFAULT_PHONE
    words = (request.form.get("message") or "").strip()[:480]
    note = None
    if words:
        now = datetime.now(UTC)
        fields = {"from": number, "to": current_app.config.get("AT_SENDER_ID") or "22384",
                  "text": words, "date": now.strftime("%Y-%m-%d %H:%M:%S"),
                  "id": f"SIM-{secrets.token_hex(10)}", "linkId": "",
                  "networkCode": NETWORK_CODE}
        status, _ = _relay("/sms/incoming", fields)
        note = "SMS sent; answers appear in the inbox once the worker has run." \
            if status == 200 else f"The SMS callback answered {status}."
        if current_user() is not None:
            audit("simulator.sms", None, {"status": status})
    return _page(number, screen=note, session_id="", text="", ended=True)


@bp.get("/inbox")
def inbox():
    """Give the number's inbox as JSON (the page's script polls it)."""
    refused = _guard()
    if refused is not None:
        return refused
    number = try_normalise(request.args.get("phoneNumber", "")) or DEFAULT_PHONE
    return jsonify(inbox=_inbox_json(number))


def _relay(path: str, fields: dict[str, str]) -> tuple[int, str]:
    """Post ``fields`` to one of our own callbacks through the whole WSGI app."""
    token = current_app.config.get("CALLBACK_TOKEN")
    url = path + (f"?{urlencode({'token': token})}" if token else "")
    client = Client(current_app)
    response = client.post(url, data=fields, headers={"User-Agent": "kazi-simulator"})
    try:
        return response.status_code, response.get_data(as_text=True)
    finally:
        response.close()


def _inbox(number: str) -> list[Message]:
    with services().db.Session() as db:
        return list(db.scalars(select(Message).where(Message.to_phone == number)
                               .order_by(Message.created_at.desc(), Message.id.desc())
                               .limit(INBOX_ROWS)))


def _inbox_json(number: str) -> list[dict]:
    return [{"at": m.created_at.strftime("%Y-%m-%d %H:%M"), "body": m.body,
             "status": m.delivery_status or m.status} for m in _inbox(number)]


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _page(number: str, *, screen: str | None, session_id: str, text: str, ended: bool,
          status: int = 200):
    return render_template(
        "simulator.html", number=number, screen=screen, session_id=session_id, text=text,
        ended=ended, inbox=_inbox(number),
        service_code=current_app.config["USSD_SERVICE_CODE"]), status
