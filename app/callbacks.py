"""What every Africa's Talking callback shares: the URL token and form parsing."""

from __future__ import annotations

import hmac
import logging

from flask import abort, current_app, request

log = logging.getLogger(__name__)


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
