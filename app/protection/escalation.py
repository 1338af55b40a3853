"""Who is told about a case, when, and what happens when nobody answers.

Levels (contract §6): 0 the duty officers of the mission(s) covering the country,
1 their supervisors, 2 headquarters (the diaspora desk, ``HQ``). Each level has
the severity's clock (config ``SLA``, from ``ESCALATION_SLA_SECONDS``); when it
runs out without an ``ACK`` the case goes up one level. A level with nobody on
duty is skipped at once, so a case never waits on an empty roster. When even HQ
has nobody on duty, every active HQ officer is told; when HQ has no officer at
all the level is ``unrouted`` and is retried on every clock until someone exists.

Everything here writes into the caller's session: the Escalation row, the
officers' SMS (``queue_sms``, dedupe ``esc:<case>:<level>:<officer>``, so a
level is sent at most once per officer whatever runs twice) and the timer job,
which is enqueued after commit to run at the due time. ``escalate_due`` (every
minute) and the reconciler (``running_clocks``, ``clock_job``) catch any timer
Redis lost.

Both jobs (``escalate_case``, the timer; ``escalate_due``) are idempotent: each case
is escalated in its own transaction with its row locked, and a level is told at
most once per officer, so running both, twice, or on two workers at once sends
nothing twice.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import aware, defer, utcnow
from app.extensions import Services
from app.jobs import Job
from app.models import Case, Escalation, Officer
from app.protection import texts, timeline
from app.reference.missions import HQ, missions_for
from app.sms.outbox import queue_sms

log = logging.getLogger(__name__)

TOP = 2
"""The last level: headquarters."""

LEVEL_NAMES = {0: "duty officers", 1: "supervisors", 2: "headquarters"}

ESCALATE_JOB = "workers.escalation.escalate_case"
"""The timer job: escalate one case if its clock has run out."""

QUEUE = "critical"
"""Distress and escalation overtake everything else."""


def sla_seconds(svc: Services, severity: str) -> int:
    """Give the seconds a level has to acknowledge a case of this severity."""
    sla = svc.config["SLA"]
    return int(sla.get(severity, sla["normal"]))


def covering(case: Case) -> tuple[str, ...]:
    """Give the codes of the missions whose officers hear of the case first."""
    codes = tuple(m.code for m in missions_for(case.country)) if case.country else ()
    # A case reassigned to a mission that does not cover its country is that mission's.
    return codes if case.mission_code in codes else (case.mission_code,)


def recipients(session: Session, case: Case, level: int) -> list[Officer]:
    """List the on-duty officers to tell at ``level``."""
    query = select(Officer).where(Officer.active.is_(True), Officer.on_duty.is_(True))
    if level == 0:
        query = query.where(Officer.role == "duty", Officer.mission_code.in_(covering(case)))
    elif level == 1:
        query = query.where(Officer.role == "supervisor",
                            Officer.mission_code.in_(covering(case)))
    else:
        query = query.where(Officer.mission_code == HQ.code)
    return list(session.scalars(query.order_by(Officer.id)))


def timer_job(case_id: int, level: int, due: datetime, delay: int | None) -> Job:
    """The timer job of one clock, named after it (case, level, due time): enqueued once."""
    return Job(ESCALATE_JOB, (case_id,), queue=QUEUE,
               job_id=f"esc-due:{case_id}:{level}:{int(due.timestamp())}", delay=delay)


def running_clocks() -> Select:
    """Select the open cases whose clock is running: each needs a live timer job."""
    return (select(Case.id, Case.escalation_level, Case.next_escalation_at)
            .where(Case.status == "open", Case.next_escalation_at.is_not(None))
            .order_by(Case.id))


def clock_job(row: Any, now: datetime) -> Job:
    """The timer job a row of ``running_clocks`` needs: at its due time, or now."""
    due = aware(row.next_escalation_at)
    delay = max(math.ceil((due - now).total_seconds()), 0)
    return timer_job(row.id, row.escalation_level, due, delay or None)


def schedule_timer(session: Session, case: Case, now: datetime) -> None:
    """Ask for the timer job at the case's due time (after commit)."""
    due = aware(case.next_escalation_at)
    if due is None:
        return
    delay = max(math.ceil((due - now).total_seconds()), 1)
    defer(session, timer_job(case.id, case.escalation_level, due, delay))


def start(session: Session, svc: Services, case: Case, now: datetime) -> Escalation:
    """Tell the first level that has anyone on duty, and start its clock."""
    return notify(session, svc, case, 0, now)


def notify(session: Session, svc: Services, case: Case, level: int,
           now: datetime) -> Escalation:
    """Tell ``level`` (or the first level above it with anyone) and start the clock."""
    sla = sla_seconds(svc, case.severity)
    # Reached by a clock running out (ESCALATED), or the first alert anyone gets (SOS),
    # even when empty levels were skipped on the way.
    escalated = level > 0
    while True:
        mission = case.mission_code if level < TOP else HQ.code
        officers = recipients(session, case, level)
        if not officers and level == TOP:
            # The last line must reach someone: off-duty HQ officers rather than no one.
            officers = list(session.scalars(
                select(Officer).where(Officer.active.is_(True), Officer.mission_code == HQ.code)
                .order_by(Officer.id)))
        row = _row(session, case, level, mission)
        row.recipients = len(officers)
        if officers or level == TOP:
            row.status = "notified" if officers else "unrouted"
            row.notified_at = now if officers else None
            row.due_at = now + timedelta(seconds=sla)
            case.escalation_level = level
            case.next_escalation_at = row.due_at
            session.flush()
            for officer in officers:
                queue_sms(session, officer.phone, alert_text(svc, case, level, escalated),
                          kind="officer_alert", queue=QUEUE,
                          dedupe_key=f"esc:{case.id}:{level}:{officer.id}")
            if officers:
                timeline.add(session, case, "escalated" if level else "alerted",
                             f"level {level} ({LEVEL_NAMES[level]}, {mission}): {len(officers)} "
                             f"officer(s) told; acknowledge within {texts.duration(sla)}", now=now)
            else:
                log.error("case %d: no officer registered at HQ; escalation unrouted", case.id)
                timeline.add(session, case, "unrouted",
                             "no officer registered at headquarters; retrying every clock", now=now)
            schedule_timer(session, case, now)
            return row
        row.status = "skipped"
        row.due_at = now
        timeline.add(session, case, "skipped", f"level {level} ({LEVEL_NAMES[level]}, {mission}): "
                     "nobody on duty; going up at once", now=now)
        level += 1


def _row(session: Session, case: Case, level: int, mission: str) -> Escalation:
    row = session.scalar(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.level == level,
        Escalation.mission_code == mission))
    if row is None:
        row = Escalation(case_id=case.id, level=level, mission_code=mission,
                         status="pending", recipients=0, due_at=case.opened_at)
        session.add(row)
    return row


def current(session: Session, case: Case) -> Escalation | None:
    """Give the escalation row the case's clock belongs to."""
    mission = case.mission_code if case.escalation_level < TOP else HQ.code
    return session.scalar(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.level == case.escalation_level,
        Escalation.mission_code == mission))


def escalate_due(svc: Services, as_of: datetime | str | None = None) -> dict[str, int]:
    """Escalate every open case whose clock has run out by ``as_of`` (default now)."""
    now = _moment(as_of)
    with svc.db.Session() as session:
        ids = list(session.scalars(
            select(Case.id).where(Case.status == "open", Case.next_escalation_at.is_not(None),
                                  Case.next_escalation_at <= now).order_by(Case.id)))
    counts: dict[str, int] = {}
    for case_id in ids:
        outcome = escalate_case(svc, case_id, as_of=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    if ids:
        log.info("escalate_due: %s", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return counts


def escalate_case(svc: Services, case_id: int, as_of: datetime | str | None = None) -> str:
    """Escalate one case, in its own transaction, if it is still open and due; say what
    happened."""
    now = _moment(as_of)
    try:
        with svc.db.session() as session:
            case = session.get(Case, case_id, with_for_update=True)
            if case is None:
                return "gone"
            outcome = escalate(session, svc, case, now)
    except IntegrityError:
        # Another worker escalated this case at the same moment and committed first.
        log.info("case %d escalated concurrently elsewhere", case_id)
        return "concurrent"
    if outcome not in ("not_due", "not_open"):
        log.info("case %d: %s", case_id, outcome)
    return outcome


def _moment(as_of: datetime | str | None) -> datetime:
    if as_of is None:
        return utcnow()
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    return aware(as_of)


def escalate(session: Session, svc: Services, case: Case, now: datetime) -> str:
    """Go up one level if the case's clock has run out; say what happened."""
    due = aware(case.next_escalation_at)
    if case.status != "open":
        return "not_open"
    if due is None or due > now:
        return "not_due"
    row = current(session, case)
    if case.escalation_level >= TOP:
        if row is not None and row.status == "unrouted":
            notify(session, svc, case, TOP, now)
            return "retried"
        if row is not None:
            row.status = "expired"
        case.next_escalation_at = None
        timeline.add(session, case, "sla_breached", "no acknowledgement at any level", now=now)
        return "exhausted"
    if row is not None and row.status == "notified":
        row.status = "expired"
    notify(session, svc, case, case.escalation_level + 1, now)
    return "escalated"


def reroute(session: Session, svc: Services, case: Case, now: datetime) -> None:
    """The country became known: tell its mission from level 0, on a fresh clock."""
    for row in session.scalars(select(Escalation).where(
            Escalation.case_id == case.id, Escalation.status == "notified")):
        row.status = "rerouted"
    notify(session, svc, case, 0, now)


def acknowledged(session: Session, case: Case, now: datetime) -> None:
    """Stop the clock: every level still waiting is answered."""
    for row in session.scalars(select(Escalation).where(
            Escalation.case_id == case.id, Escalation.status.in_(("notified", "unrouted")))):
        row.status = "acked"
        row.acknowledged_at = now
    case.next_escalation_at = None


def severity_raised(session: Session, svc: Services, case: Case, now: datetime,
                    marker: str, words: str | None = None) -> None:
    """Shorten the running clock to the new severity's and tell the officers on it."""
    if case.status == "closed":
        return
    if case.status == "open":
        row = current(session, case)
        started = aware(row.notified_at) if row is not None and row.notified_at else now
        due = max(started + timedelta(seconds=sla_seconds(svc, case.severity)), now)
        if row is not None and case.next_escalation_at is not None \
                and due < aware(case.next_escalation_at):
            row.due_at = due
            case.next_escalation_at = due
            schedule_timer(session, case, now)
        officers = recipients(session, case, case.escalation_level)
    else:
        officer = session.get(Officer, case.acknowledged_by) if case.acknowledged_by else None
        officers = [officer] if officer is not None else []
    body = texts.fitted("en", "sms.officer_update", fill=first_words(case, words or None),
                        case_ref=case.ref,
                        severity=case.severity.upper())
    for officer in officers:
        queue_sms(session, officer.phone, body, kind="officer_update", queue=QUEUE,
                  dedupe_key=f"case:{case.id}:upd:{marker}:{officer.id}")


def first_words(case: Case, text: str | None = None) -> str:
    """Give what the officer reads first: who it is about and the reporter's words."""
    words = (text if text is not None else case.first_text) or f"({case.channel} report)"
    if not case.reporter_is_subject:
        about = case.subject_phone or case.subject_name or "?"
        words = f"for relative {about}: {words}"
    return words


def alert_text(svc: Services, case: Case, level: int, escalated: bool | None = None) -> str:
    """The officer's alert: reference, severity, category, country, reporter, first words."""
    values = {
        "case_ref": case.ref,
        "severity": case.severity.upper(),
        "category": texts.category_label(case.category),
        "country": texts.country_label(case.country) if case.country else "country unknown",
        "reporter": case.reporter_phone,
        "level": level,
        "waited": texts.duration(sla_seconds(svc, case.severity)),
    }
    escalated = level > 0 if escalated is None else escalated
    key = "sms.officer_escalated" if escalated else "sms.officer_alert"
    return texts.fitted("en", key, fill=first_words(case), **values)
