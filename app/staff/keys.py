"""API keys: the format every key has, and staff keys (a console user's, for JSON endpoints).

A key is ``kzs_`` plus 32 random bytes (base64url), shown once and stored only as its
SHA-256 hash, so it can be looked up directly: nothing about a key can be learned
from the time a wrong guess takes, and the stored hash is compared once more in
constant time. Agency keys (``app.api.keys``) share the format.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import services
from app.models.console import StaffApiKey, User

KEY_PREFIX = "kzs_"
"""Every key starts so; it tells a leaked key in a log or a repository for what it is."""

SHOWN_PREFIX = 12
"""Characters of a key kept in clear (the ``prefix`` column) to tell keys apart."""

_KEY = re.compile(r"^kzs_[A-Za-z0-9_-]{20,100}$")


def new_key() -> str:
    """Make a fresh plain key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def well_formed(key: str) -> bool:
    """Tell whether ``key`` looks like a key at all (no lookup for one that does not)."""
    return _KEY.match(key) is not None


def hash_key(key: str) -> str:
    """Give the hex SHA-256 of a key, as stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_staff_key(session: Session, user: User) -> str:
    """Create an API key for ``user``; give the plain key once. The caller commits."""
    key = new_key()
    session.add(StaffApiKey(user_id=user.id, key_hash=hash_key(key), prefix=key[:SHOWN_PREFIX]))
    session.flush()
    return key


def user_for_key(key: str) -> User | None:
    """Give the active user an unrevoked staff key belongs to, or None."""
    if not well_formed(key):
        return None
    digest = hash_key(key)
    with services().db.Session() as db:
        row = db.scalar(select(StaffApiKey).where(StaffApiKey.key_hash == digest,
                                                  StaffApiKey.revoked_at.is_(None)))
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        user = db.get(User, row.user_id)
        if user is None or not user.active:
            return None
        db.expunge(user)
        return user
