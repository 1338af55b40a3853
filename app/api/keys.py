"""API keys at the API: agency keys (issued, looked up, required) and staff keys required.

Every key has the format of ``app.staff.keys``: issued once in plain text, stored only
as a SHA-256 hash. An agency key (``kazi agencies issue-key``) opens the job-listing
and placement endpoints (``require_agency``); a staff key (``kazi users key``) opens
the staff endpoints for its user's role (``api_roles_required``).
"""

from __future__ import annotations

import hmac
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
from app.staff.keys import SHOWN_PREFIX, hash_key, new_key, user_for_key, well_formed
from app.staff.login import act_as

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kazi-salama"'}

F = TypeVar("F", bound=Callable[..., Any])


def issue_key(session: Session, licence_no: str) -> str:
    """Create an API key for the agency holding ``licence_no``; give the plain key once.

    Only the hash is stored. Raises LookupError for a licence not on the register.
    The caller commits.
    """
    wanted = (licence_no or "").strip().upper()
    licence = session.scalar(select(Licence).where(Licence.licence_no == wanted))
    if licence is None:
        raise LookupError(f"no licence {licence_no!r} on the register")
    key = new_key()
    session.add(AgencyApiKey(agency_id=licence.agency_id, key_hash=hash_key(key),
                             prefix=key[:SHOWN_PREFIX]))
    session.flush()
    return key


def agency_for_key(session: Session, key: str) -> Agency | None:
    """Give the agency an unrevoked key belongs to, or None."""
    if not well_formed(key):
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


def api_roles_required(*roles: str) -> Callable[[F], F]:
    """Let a JSON view run for a staff API key whose user has one of ``roles``.

    The key goes in ``Authorization: Bearer <key>``; a missing or unknown key gets
    401, a user without the role 403. The key's user becomes the request's staff
    member (``app.staff.login.current_user``), so ``audit()`` records who asked.
    """
    allowed = frozenset(roles) | {"nea_admin"}

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = user_for_key(_bearer())
            if user is None:
                raise ApiError(401, "unauthorized", "The API key is not known or was revoked.",
                               headers=_CHALLENGE)
            if user.role not in allowed:
                raise ApiError(403, "forbidden", "This key's role may not read this.")
            act_as(user)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
