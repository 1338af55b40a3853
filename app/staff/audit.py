"""The audit log: every view of a person or case, every export and every action.

Call ``audit("case.view", f"case:{ref}")`` from a view; the signed-in user, the
request's address and user agent and the time are added. Pass ``session=`` to write
the entry in the same transaction as the action it records (committed together or not
at all); without it the entry is committed at once. Nothing updates or deletes an
entry: there is no code path for it, and the database refuses (triggers on
``audit_entries``, see ``app/models/console.py``).

Actions are ``<noun>.<verb>`` (``case.view``, ``case.ack``, ``person.view``,
``export.csv``, ``listing.approve``, ``user.login``); targets are ``<kind>:<id>``
(``case:KS-7Q2M``, ``person:42``, ``report:departures``). Details hold no personal data.
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy.orm import Session

from app.extensions import services
from app.models.console import AuditEntry, User
from app.staff.login import current_user


def audit(action: str, target: str | None = None, details: dict | None = None, *,
          session: Session | None = None, user: User | None = None,
          actor: str | None = None) -> AuditEntry:
    """Record that the current user did or saw ``action`` on ``target``."""
    user = user if user is not None else current_user()
    ip = agent = None
    if has_request_context():
        ip = request.remote_addr
        agent = (request.user_agent.string or "")[:500] or None
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        actor=user.email if user is not None else (actor or "anonymous"),
        role=user.role if user is not None else None,
        action=action,
        target=target,
        details=details or None,
        ip=ip,
        user_agent=agent,
    )
    if session is not None:
        session.add(entry)
        return entry
    with services().db.session() as db:
        db.add(entry)
    return entry


__all__ = ["audit"]
