"""What every Africa's Talking callback shares: the URL token and form parsing."""

from __future__ import annotations

import hmac
import logging

from flask import Flask, Request, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

log = logging.getLogger(__name__)

CALLBACK_MAX_BODY = 64 * 1024
"""The largest callback body read (AT's are well under 2 KB); a larger one gets 413."""

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
    """Give the callback's form fields, the first value of each (AT posts urlencoded).

    No more than ``CALLBACK_MAX_BODY`` is read: a larger body raises
    ``RequestEntityTooLarge`` (413).
    """
    request.max_content_length = CALLBACK_MAX_BODY
    return {key: value for key, value in request.form.items()}
