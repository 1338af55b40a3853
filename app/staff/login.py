"""Who is signed in: the staff member of a request, the session cookie and CSRF.

A console session is a signed cookie (``uid``, ``epoch``, ``seen``, ``csrf``). It ends
after ``IDLE_TIMEOUT`` without a request, when the account is deactivated, and when
the user logs out anywhere (``User.session_epoch`` moves on). A staff API key signs a
request in with ``act_as`` instead (``app.api.keys.api_roles_required``).
``current_user()`` gives the signed-in ``User`` (or None) anywhere in a request.

Every unsafe request (POST, PUT, PATCH, DELETE) carries the session's CSRF token, as
the form field ``csrf_token`` or the header ``X-CSRF-Token``; templates add it with
``{{ csrf_field() }}``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from flask import abort, current_app, has_request_context, request, session, url_for
from sqlalchemy import update

from app.db import aware, utcnow
from app.extensions import services
from app.models.console import User

IDLE_TIMEOUT = 30 * 60
"""Seconds without a request after which a console session ends."""

SEEN_WRITE_EVERY = 60
"""Seconds between writes of ``User.last_seen_at`` (not one write per page view)."""

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change something and so must carry the CSRF token."""

_USER = "kazi.console_user"
_IDLE = "kazi.console_idle_expired"


def current_user() -> User | None:
    """Give the signed-in staff member of this request, or None.

    A session ends when it has been idle for ``IDLE_TIMEOUT``, when the account is
    deactivated, and when the user logs out anywhere (``session_epoch`` moves on).
    """
    if not has_request_context():
        return None
    # Cached on the request, not on ``g``: an app context (and its ``g``) can outlive a
    # request, e.g. in tests, and a user must never carry over to the next request.
    if _USER not in request.environ:
        request.environ[_USER] = _session_user()
    return request.environ[_USER]


def idle_expired() -> bool:
    """Tell whether this request's session just ended for being idle too long."""
    return bool(request.environ.get(_IDLE))


def _session_user() -> User | None:
    uid = session.get("uid")
    if uid is None:
        return None
    now = time.time()
    if now - float(session.get("seen", 0)) > IDLE_TIMEOUT:
        session.clear()
        request.environ[_IDLE] = True
        return None
    with services().db.Session() as db:
        user = db.get(User, uid)
        if user is None or not user.active or user.session_epoch != session.get("epoch"):
            session.clear()
            return None
        seen = aware(user.last_seen_at)
        if seen is None or (utcnow() - seen).total_seconds() > SEEN_WRITE_EVERY:
            user.last_seen_at = utcnow()
            db.commit()
    session["seen"] = now
    return user


def login_user(user: User) -> None:
    """Start a fresh session for ``user`` (a new cookie: nothing carries over)."""
    session.clear()
    session["uid"] = user.id
    session["epoch"] = user.session_epoch
    session["seen"] = time.time()
    session["csrf"] = secrets.token_urlsafe(32)
    request.environ[_USER] = user


def act_as(user: User) -> None:
    """Make ``user`` this request's staff member, without a session (a staff API key)."""
    request.environ[_USER] = user


def logout_user() -> None:
    """End this session and every other session of the same user."""
    user = current_user()
    if user is not None:
        with services().db.session() as db:
            db.execute(update(User).where(User.id == user.id)
                       .values(session_epoch=User.session_epoch + 1))
    session.clear()
    request.environ[_USER] = None


def safe_next(target: str | None) -> str:
    """Give a local path to go to after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.home")


# --------------------------------------------------------------------------- CSRF


def csrf_token() -> str:
    """Give this session's CSRF token, creating it on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (400) an unsafe request whose CSRF token is missing or wrong."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form has expired or did not come from this site. "
                               "Go back, reload the page and try again.")


# --------------------------------------------------------------------------- cookies


def configure_cookies(app: Any) -> None:
    """Session cookies: HttpOnly, SameSite=Lax, and Secure in production."""
    app.config["SESSION_COOKIE_NAME"] = "kazi_console"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = current_app_is_production(app)


def current_app_is_production(app: Any = None) -> bool:
    """Tell whether the app runs with ``KAZI_ENV=production``."""
    return (app or current_app).config.get("KAZI_ENV") == "production"
