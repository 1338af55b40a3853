"""Signing staff in for the report tests, and the parts of a row a test compares."""

from __future__ import annotations

import time
from typing import Any

from app.staff.accounts import create_user
from app.staff.keys import issue_staff_key


def make_user(svc, role: str, country: str | None = None,
              email: str | None = None) -> tuple[int, str]:
    """Create a console user; give its id and a staff API key."""
    with svc.db.session() as db:
        made = create_user(db, email or f"{role}.{time.monotonic_ns()}@nea.go.ke", role,
                           country, None)
        key = issue_staff_key(db, made.user)
        return made.user.id, key


def sign_in(client, svc, role: str, country: str | None = None) -> int:
    """Sign a new user with ``role`` in on ``client`` (as the login form would)."""
    user_id, _ = make_user(svc, role, country)
    with client.session_transaction() as session:
        session["uid"] = user_id
        session["epoch"] = 0
        session["seen"] = time.time()
        session["csrf"] = "test-csrf"
    return user_id


def pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    """Give ``columns`` of each row, in order."""
    return [tuple(row[c] for c in columns) for row in rows]
