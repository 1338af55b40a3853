"""Agency API keys: issued once in plain text, stored only as a SHA-256 hash.

A key is ``kzs_`` plus 32 random bytes (base64url), so its hash can be looked up
directly: nothing about a key can be learned from the time a wrong guess takes,
and the stored hash is compared once more in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api import ApiError
from app.extensions import services
from app.listings.service import licence_status, today
from app.models import Agency, AgencyApiKey, Licence

KEY_PREFIX = "kzs_"
"""Every key starts so; it tells a leaked key in a log or a repository for what it is."""

SHOWN_PREFIX = 12
"""Characters of a key kept in clear (``AgencyApiKey.prefix``) to tell keys apart."""

_KEY = re.compile(r"^kzs_[A-Za-z0-9_-]{20,100}$")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kazi-salama"'}

F = TypeVar("F", bound=Callable[..., Any])


def hash_key(key: str) -> str:
    """Give the hex SHA-256 of a key, as stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_key(session: Session, licence_no: str) -> str:
    """Create an API key for the agency holding ``licence_no``; give the plain key once.

    Only the hash is stored. Raises LookupError for a licence not on the register.
    The caller commits.
    """
    wanted = (licence_no or "").strip().upper()
    licence = session.scalar(select(Licence).where(Licence.licence_no == wanted))
    if licence is None:
        raise LookupError(f"no licence {licence_no!r} on the register")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(AgencyApiKey(agency_id=licence.agency_id, key_hash=hash_key(key),
                             prefix=key[:SHOWN_PREFIX]))
    session.flush()
    return key


def agency_for_key(session: Session, key: str) -> Agency | None:
    """Give the agency an unrevoked key belongs to, or None."""
    if not _KEY.match(key):
        return None
    digest = hash_key(key)
    row = session.scalar(select(AgencyApiKey).where(AgencyApiKey.key_hash == digest,
                                                    AgencyApiKey.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return session.get(Agency, row.agency_id)


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.",
                       headers=_CHALLENGE)
    return token.strip()


def require_agency(view: F) -> F:
    """Let the view run only for an agency with a known key and a valid licence today.

    Sets ``g.agency_id``. A missing or unknown key gets 401; the key of an agency
    whose licence is not valid (suspended, revoked, expired, or past its date) 403.
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = _bearer()
        svc = services()
        with svc.db.Session() as session:
            agency = agency_for_key(session, key)
            if agency is None:
                raise ApiError(401, "unauthorized", "The API key is not known or was revoked.",
                               headers=_CHALLENGE)
            licence = session.scalar(select(Licence).where(Licence.agency_id == agency.id))
            status = licence_status(licence, today())
        if status != "valid":
            shown = "missing" if status == "none" else status
            raise ApiError(403, "licence_not_valid",
                           f"The agency's NEA licence is {shown}; only a licensed agency may "
                           "submit or read job listings.")
        g.agency_id = agency.id
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
