"""RQ jobs: small functions that take ids, reload from SQL and are safe to repeat.

Jobs reach the database, Redis and the SMS backend through ``services()``: the
app context that ``kazi worker`` (and the tests) push, or one built from the
environment when a bare ``rq worker`` runs them.
"""

from __future__ import annotations

from app.extensions import Services

_fallback = None


def services() -> Services:
    """Give the services of the current app, creating one from the environment if none."""
    global _fallback
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["kazi"]
    if _fallback is None:
        from app import create_app

        _fallback = create_app()
        _fallback.app_context().push()
    return _fallback.extensions["kazi"]
