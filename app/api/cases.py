"""Distress cases for staff: ``GET /api/v1/cases`` and ``GET /api/v1/cases/<ref>``.

For a staff API key (``kazi users key --email …``) of a ``consular_officer`` (or
``nea_admin``). The scope is the console's (``app.staff.scope``), in the query: a
consular officer's key sees only their mission's cases, and another mission's case
is 404, as if it did not exist. Every read is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from sqlalchemy import select

from app.api import bp, fail, json_response
from app.api.keys import api_roles_required
from app.extensions import services
from app.models import Case
from app.protection.cases import OPEN_STATES
from app.staff.audit import audit
from app.staff.login import current_user
from app.staff.scope import CASE_ROLES, cases_where

LIMIT = 50
"""Most cases one list answer gives."""


def case_json(case: Case) -> dict[str, Any]:
    """Give a case as the API shows it."""

    def moment(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "ref": case.ref, "status": case.status, "severity": case.severity,
        "category": case.category, "country": case.country, "mission": case.mission_code,
        "escalation_level": case.escalation_level, "channel": case.channel,
        "reporter_phone": case.reporter_phone, "person_id": case.person_id,
        "placement_id": case.placement_id, "agency_id": case.agency_id,
        "opened_at": moment(case.opened_at), "acknowledged_at": moment(case.acknowledged_at),
        "closed_at": moment(case.closed_at),
    }


@bp.get("/cases")
@api_roles_required(*CASE_ROLES)
def list_cases() -> Response:
    """List the open cases the key's user may see, oldest first, 50 at a time."""
    raw = request.args.get("offset", "0")
    if not raw.isdigit() or int(raw) > 10_000_000:
        fail(422, "invalid", "offset is a whole number from 0.", "offset")
    offset = int(raw)
    with services().db.Session() as db:
        rows = list(db.scalars(
            select(Case).where(cases_where(current_user()), Case.status.in_(OPEN_STATES))
            .order_by(Case.opened_at, Case.id).offset(offset).limit(LIMIT)))
    audit("cases.list", None, {"via": "api", "offset": offset})
    return json_response({"cases": [case_json(c) for c in rows], "offset": offset,
                          "limit": LIMIT})


@bp.get("/cases/<ref>")
@api_roles_required(*CASE_ROLES)
def show_case(ref: str) -> Response:
    """Give one case, if the key's user may see it (404 otherwise)."""
    with services().db.Session() as db:
        case = db.scalar(select(Case).where(Case.ref == ref.strip().upper()[:20],
                                            cases_where(current_user())))
    if case is None:
        fail(404, "not_found", "There is no such case.")
    audit("case.view", f"case:{case.ref}", {"via": "api"})
    return json_response(case_json(case))
