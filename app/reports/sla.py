"""``sla``: per mission, the share of distress cases acknowledged within their severity's clock.

The clock is the configured one (``ESCALATION_SLA_SECONDS``: critical 15 min,
high 2 h, normal 24 h by default) and runs from the moment the case was opened:
what a person in distress waits for a human to answer. A case counts for the
mission it was routed to (``Case.mission_code``; ``HQ`` when no mission covers
the country) and is

- ``in_time``: acknowledged (or closed, if nobody acknowledged it) within the clock;
- ``late``: acknowledged after the clock, or still unanswered past it;
- ``waiting``: still unanswered, its clock not yet run out (not counted in the rate).

``compliance_pct`` is ``in_time / (in_time + late)``. Cases opened in the range count.
"""

from __future__ import annotations

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from app.config import parse_sla
from app.db import utcnow
from app.models import Case
from app.reference.missions import Mission, by_code
from app.reports import Params, Row
from app.reports.aggregates import aggregate
from app.reports.dialect import dialect_of, rate, seconds_between
from app.reports.filters import moment_range, on_cases

COLUMNS = ("mission", "mission_name", "cases", "in_time", "late", "waiting", "compliance_pct")


def sla_config() -> dict[str, int]:
    """Give the seconds allowed per severity: the app's ``SLA``, else the contract's default."""
    from flask import current_app, has_app_context

    if has_app_context() and "SLA" in current_app.config:
        return dict(current_app.config["SLA"])
    return parse_sla("")


@aggregate("sla", title="Escalation SLA compliance per mission", columns=COLUMNS,
           counts=("cases", "in_time", "late", "waiting"),
           rates={"compliance_pct": ("in_time", "late")},
           note="Cases opened in the range, acknowledged within their severity's clock "
                "(from opening); waiting cases are not yet judged.")
def sla(session: Session, params: Params) -> list[Row]:
    """Escalation SLA compliance per mission: acknowledged within the severity's clock."""
    dialect = dialect_of(session)
    clocks = sla_config()
    allowed = case(*((Case.severity == name, seconds) for name, seconds in clocks.items()),
                   else_=clocks["normal"])
    answered = func.coalesce(Case.acknowledged_at, Case.closed_at)
    now = literal(utcnow(), Case.opened_at.type)
    took = seconds_between(dialect, Case.opened_at, answered)
    waited = seconds_between(dialect, Case.opened_at, now)
    in_time = func.count(case((answered.is_not(None) & (took <= allowed), 1)))
    late = func.count(case(((answered.is_not(None) & (took > allowed))
                            | (answered.is_(None) & (waited > allowed)), 1)))
    waiting = func.count(case((answered.is_(None) & (waited <= allowed), 1)))
    query = (select(Case.mission_code, func.count().label("cases"), in_time.label("in_time"),
                    late.label("late"), waiting.label("waiting"),
                    rate(dialect, in_time, in_time + late, 100).label("compliance_pct"))
             .where(*moment_range(params, Case.opened_at), *on_cases(params))
             .group_by(Case.mission_code)
             .order_by(Case.mission_code))
    rows = []
    for row in session.execute(query):
        mission = by_code(row.mission_code)
        rows.append({"mission": row.mission_code,
                     "mission_name": _name(mission) if mission else row.mission_code,
                     "cases": row.cases, "in_time": row.in_time, "late": row.late,
                     "waiting": row.waiting,
                     "compliance_pct": (float(row.compliance_pct)
                                        if row.compliance_pct is not None else None)})
    return rows


def _name(mission: Mission) -> str:
    # "Embassy of Kenya, Riyadh"; the HQ desk already says where it is.
    return mission.name if mission.city in mission.name else mission.label
