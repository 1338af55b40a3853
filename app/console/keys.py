"""Staff API keys: a console user's key for JSON endpoints, shown once, stored hashed."""

from __future__ import annotations

import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.keys import KEY_PREFIX, SHOWN_PREFIX, hash_key
from app.extensions import services
from app.models.console import StaffApiKey, User

_KEY = re.compile(r"^kzs_[A-Za-z0-9_-]{20,100}$")


def issue_staff_key(session: Session, user: User) -> str:
    """Create an API key for ``user``; give the plain key once. The caller commits."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(StaffApiKey(user_id=user.id, key_hash=hash_key(key), prefix=key[:SHOWN_PREFIX]))
    session.flush()
    return key


def user_for_key(key: str) -> User | None:
    """Give the active user an unrevoked staff key belongs to, or None."""
    if not _KEY.match(key):
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
