"""Console sign-in: argon2id passwords, signed-cookie sessions, CSRF, roles and staff API keys.

Views protect themselves with two decorators::

    @bp.get("/things")
    @login_required                      # any signed-in staff member
    def things(): ...

    @bp.post("/things/<ref>/close")
    @roles_required("consular_officer")  # nea_admin is always let in too
    def close(ref): ...

Both also check the CSRF token on every POST/PUT/PATCH/DELETE (form field ``csrf_token``
or header ``X-CSRF-Token``); templates add it with ``{{ csrf_field() }}``. Someone not
signed in is sent to the login page (302); a signed-in user without the role gets 403.
``current_user()`` gives the signed-in ``User`` (or None) anywhere in a request.

JSON endpoints for staff use ``api_roles_required(*roles)``: a staff API key
(``kazi users key --email …``) as ``Authorization: Bearer <key>``; errors are the API's.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, has_request_context, redirect, request, session, url_for
from sqlalchemy import select, update

from app.db import aware, utcnow
from app.extensions import services
from app.models.console import ROLES, User

IDLE_TIMEOUT = 30 * 60
"""Seconds without a request after which a console session ends."""

MAX_FAILED_LOGINS = 5
"""Wrong passwords in a row that lock an account."""

LOCKOUT = timedelta(minutes=15)
"""How long a locked account stays locked."""

SEEN_WRITE_EVERY = 60
"""Seconds between writes of ``User.last_seen_at`` (not one write per page view)."""

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change something and so must carry the CSRF token."""

F = TypeVar("F", bound=Callable[..., Any])

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    """Give the argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Tell whether ``password`` matches the stored hash (False when none is set)."""
    if not stored:
        # Spend the same time as a real check, so absent accounts don't answer faster.
        _burn(password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy: dict[int, str] = {}


def _burn(password: str) -> None:
    """Spend one password check's time, for an account that has no password to check."""
    dummy = _dummy.get(id(_hasher))
    if dummy is None:
        dummy = _dummy[id(_hasher)] = _hasher.hash(secrets.token_urlsafe(16))
    try:
        _hasher.verify(dummy, password)
    except (VerificationError, InvalidHashError):
        pass


# --------------------------------------------------------------------------- sessions


def current_user() -> User | None:
    """Give the signed-in console user of this request, or None.

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


_USER = "kazi.console_user"
_IDLE = "kazi.console_idle_expired"


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


def logout_user() -> None:
    """End this session and every other session of the same user."""
    user = current_user()
    if user is not None:
        with services().db.session() as db:
            db.execute(update(User).where(User.id == user.id)
                       .values(session_epoch=User.session_epoch + 1))
    session.clear()
    request.environ[_USER] = None


def authenticate(email: str, password: str) -> tuple[User | None, str]:
    """Check a login; give ``(user, "ok")`` or ``(None, reason)``.

    Reasons: ``"bad"`` (unknown email or wrong password, told apart nowhere),
    ``"locked"`` (too many failures; 15 minutes). Five wrong passwords in a row lock
    the account; a right one resets the count.
    """
    email = normalise_email(email)
    with services().db.session() as db:
        user = db.scalar(select(User).where(User.email == email))
        if user is None or not user.active:
            _burn(password)
            return None, "bad"
        locked = aware(user.locked_until)
        if locked is not None and locked > utcnow():
            _burn(password)
            return None, "locked"
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = utcnow() + LOCKOUT
                user.failed_logins = 0
                return None, "locked"
            return None, "bad"
        user.failed_logins = 0
        user.locked_until = None
        user.last_seen_at = utcnow()
        if _hasher.check_needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(password)
        db.flush()
        db.expunge(user)
    return user, "ok"


def normalise_email(email: str) -> str:
    """Give the form emails are stored in: trimmed, lower case."""
    return (email or "").strip().lower()


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


# --------------------------------------------------------------------------- decorators


def login_required(view: F) -> F:
    """Let the view run for any signed-in staff member; check CSRF on unsafe methods."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return _to_login()
        check_csrf()
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let the view run only for these roles (``nea_admin`` always); 403 for others."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    allowed = frozenset(roles) | {"nea_admin"}

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return _to_login()
            if user.role not in allowed:
                abort(403)
            check_csrf()
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def has_role(*roles: str) -> bool:
    """Tell whether the signed-in user has one of ``roles`` (``nea_admin`` has all)."""
    user = current_user()
    return user is not None and (user.role == "nea_admin" or user.role in roles)


def _to_login() -> Any:
    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        target = None
    expired = "1" if request.environ.get(_IDLE) else None
    return redirect(url_for("console.login", next=target, expired=expired))


def safe_next(target: str | None) -> str:
    """Give a local path to go to after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.home")


# --------------------------------------------------------------------------- staff API keys


def api_roles_required(*roles: str) -> Callable[[F], F]:
    """Let a JSON view run for a staff API key whose user has one of ``roles``.

    The key goes in ``Authorization: Bearer <key>``; a missing or unknown key gets
    401, a user without the role 403 (the API's error shape). Sets ``current_user()``
    so ``audit()`` records who asked.
    """
    allowed = frozenset(roles) | {"nea_admin"}

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from app.api import ApiError
            from app.console.keys import user_for_key

            challenge = {"WWW-Authenticate": 'Bearer realm="kazi-salama"'}
            header = request.headers.get("Authorization", "")
            scheme, _, key = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise ApiError(401, "unauthorized",
                               "Send your API key as 'Authorization: Bearer <key>'.",
                               headers=challenge)
            user = user_for_key(key.strip())
            if user is None:
                raise ApiError(401, "unauthorized", "The API key is not known or was revoked.",
                               headers=challenge)
            if user.role not in allowed:
                raise ApiError(403, "forbidden", "This key's role may not read this.")
            request.environ[_USER] = user
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def configure_cookies(app: Any) -> None:
    """Session cookies: HttpOnly, SameSite=Lax, and Secure in production."""
    app.config["SESSION_COOKIE_NAME"] = "kazi_console"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = current_app_is_production(app)


def current_app_is_production(app: Any = None) -> bool:
    """Tell whether the app runs with ``KAZI_ENV=production``."""
    return (app or current_app).config.get("KAZI_ENV") == "production"
