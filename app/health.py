"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select, text

from app.extensions import QUEUES, services
from app.models import Message

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    svc = services()
    checks: dict[str, str] = {}
    try:
        with svc.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = type(exc).__name__
    try:
        svc.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = type(exc).__name__
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    svc = services()
    lines = [
        "# HELP kazi_up The gateway answers.",
        "# TYPE kazi_up gauge",
        "kazi_up 1",
    ]
    try:
        lines += ["# HELP kazi_queue_length Jobs waiting per RQ queue.",
                  "# TYPE kazi_queue_length gauge"]
        for name in QUEUES:
            lines.append(f'kazi_queue_length{{queue="{name}"}} {svc.queues[name].count}')
    except Exception:  # noqa: BLE001 - metrics must not fail because Redis is down
        lines.append("kazi_redis_up 0")
    try:
        with svc.db.Session() as session:
            rows = session.execute(select(Message.status, func.count()).group_by(Message.status))
            lines += ["# HELP kazi_messages Outbound SMS by status.",
                      "# TYPE kazi_messages gauge"]
            lines += [f'kazi_messages{{status="{status}"}} {count}' for status, count in rows]
    except Exception:  # noqa: BLE001
        lines.append("kazi_database_up 0")
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
