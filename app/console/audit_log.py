"""The audit log page: administrators read it, newest first; nobody edits it."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from app.console import bp
from app.console.paging import paginate
from app.staff.audit import audit
from app.staff.roles import roles_required
from app.extensions import services
from app.models import AuditEntry


@bp.get("/audit")
@roles_required()  # nea_admin only
def audit_log():
    """List audit entries, filtered by action, person acting or target."""
    args = {k: (request.args.get(k) or "").strip()[:120] for k in ("action", "actor", "target")}
    query = select(AuditEntry)
    if args["action"]:
        query = query.where(AuditEntry.action.startswith(args["action"], autoescape=True))
    if args["actor"]:
        query = query.where(AuditEntry.actor == args["actor"].lower())
    if args["target"]:
        query = query.where(AuditEntry.target == args["target"])
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    with services().db.Session() as db:
        page = paginate(db, query)
    audit("audit.view", None, {k: v for k, v in args.items() if v} or None)
    return render_template("audit_log.html", page=page, args=args)
