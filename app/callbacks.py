"""What every Africa's Talking callback shares: the URL token and form parsing."""

from __future__ import annotations

import hmac
import logging

from flask import Flask, Request, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

log = logging.getLogger(__name__)

CALLBACK_PATHS = ("/ussd", "/sms/")
"""Where Africa's Talking calls us: machines, which never carry a session cookie."""


class CallbackFreeSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for people (the console), none for AT's callbacks.

    Opening a cookie session builds a signing serializer on every request, about
    as much CPU as a USSD hop's engine step; a callback never reads or sets a
    cookie, so it gets Flask's null session (reading works, writing raises).
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(CALLBACK_PATHS):
            return self.make_null_session(app)
        return super().open_session(app, request)


def require_token() -> None:
    """Refuse a callback without ``?token=<CALLBACK_TOKEN>``, compared in constant time."""
    expected = current_app.config.get("CALLBACK_TOKEN")
    if not expected:
        return
    given = request.args.get("token", "")
    if not hmac.compare_digest(given.encode(), str(expected).encode()):
        # The body may hold personal data: log only where the request came from.
        log.warning("callback %s refused: bad token from %s", request.path, request.remote_addr)
        abort(403)


def form() -> dict[str, str]:
    """Give the callback's form fields (AT posts x-www-form-urlencoded)."""
    return {key: value for key, value in request.form.items()}
