"""What each staff role may open: labels, and the decorators console views wear.

Views protect themselves with two decorators::

    @bp.get("/things")
    @login_required                      # any signed-in staff member
    def things(): ...

    @bp.post("/things/<ref>/close")
    @roles_required("consular_officer")  # nea_admin is always let in too
    def close(ref): ...

Both also check the CSRF token on every unsafe method (``app.staff.login``). Someone
not signed in is sent to the console's login page (302); a signed-in user without the
role gets 403. What a role may *see* inside a page is ``app.staff.scope``; the staff
API's decorator is ``app.api.keys.api_roles_required``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for

from app.models.console import ROLES
from app.staff.login import check_csrf, current_user, idle_expired

ROLE_LABELS = {
    "nea_admin": "NEA administrator",
    "nea_officer": "NEA officer",
    "consular_officer": "Consular officer",
    "analyst": "Analyst",
}

F = TypeVar("F", bound=Callable[..., Any])


def role_label(role: str) -> str:
    """Give a role as staff read it (``nea_officer`` is "NEA officer")."""
    return ROLE_LABELS.get(role, role)


def login_required(view: F) -> F:
    """Let the view run for any signed-in staff member; check CSRF on unsafe methods."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return to_login()
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
                return to_login()
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


def to_login() -> Any:
    """Send the browser to the console's login page, back here afterwards (GET only)."""
    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        target = None
    expired = "1" if idle_expired() else None
    return redirect(url_for("console.login", next=target, expired=expired))
