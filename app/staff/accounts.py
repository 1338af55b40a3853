"""Staff accounts: creating them, passwords, the lockout and the one-time set-password link."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import aware, utcnow
from app.extensions import services
from app.models.console import ROLES, User
from app.reference.countries import is_known_country
from app.reference.missions import HQ, by_code, mission_for

LINK_MAX_AGE = 24 * 3600
"""Seconds a set-password link stays valid."""

MIN_PASSWORD = 12
"""Shortest password accepted (NIST SP 800-63B: length, not composition rules)."""

MAX_PASSWORD = 256
"""Longest password accepted (argon2 takes any length; this bounds the work per try)."""

MAX_FAILED_LOGINS = 5
"""Wrong passwords in a row that lock an account."""

LOCKOUT = timedelta(minutes=15)
"""How long a locked account stays locked."""

_SALT = "console-set-password"

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True)
class NewUser:
    """A created account and where its password comes from."""

    user: User
    mission_label: str | None


def create_user(session: Session, email: str, role: str, country: str | None = None,
                password: str | None = None) -> NewUser:
    """Create a console account; consular officers join the mission covering ``country``."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or " " in email:
        raise AccountError(f"not an email address: {email!r}")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    mission_code = label = None
    if role == "consular_officer":
        if not country:
            raise AccountError("a consular officer needs --country (a country the mission covers)")
        iso2 = country.strip().upper()
        mission = HQ if iso2 in ("KE", "HQ") else None
        if mission is None:
            if not is_known_country(iso2):
                raise AccountError(f"unknown country {country!r} (ISO 3166 alpha-2)")
            mission = mission_for(iso2)
        mission_code, label = mission.code, mission.label
    elif country:
        raise AccountError("--country applies to consular officers only")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"an account for {email} already exists")
    user = User(email=email, role=role, mission_code=mission_code, failed_logins=0,
                session_epoch=0, active=True)
    if password is not None:
        user.password_hash = hash_password(check_password(password))
    session.add(user)
    session.flush()
    return NewUser(user=user, mission_label=label)


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


def check_password(password: str) -> str:
    """Give ``password`` back if it is acceptable, else raise AccountError."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password has at most {MAX_PASSWORD} characters")
    return password


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password, unlock the account and end its other sessions."""
    user.password_hash = hash_password(check_password(password))
    user.failed_logins = 0
    user.locked_until = None
    user.session_epoch += 1


def password_token(user: User) -> str:
    """Give a signed token that sets ``user``'s password once, within 24 hours."""
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_token(session: Session, token: str) -> User | None:
    """Give the user a set-password token is for, or None if it is forged, used or old.

    The token carries a fingerprint of the password it replaces: once a password is
    set, the fingerprint changes and every earlier link stops working.
    """
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def mission_label(code: str | None) -> str | None:
    """Give a mission's display label from its code."""
    mission = by_code(code) if code else None
    return mission.label if mission else code


def _fingerprint(user: User) -> str:
    seed = f"{user.id}:{user.password_hash or ''}:{user.session_epoch}"
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
