"""Warn people about a police alert: everyone who checked the agency or applied through it.

Run as a job after the alert is committed (``warn_job``), and again for any alert
still unwarned ``REWARN_AFTER`` later (``rewarn``: Redis lost the job).
Each number is warned once per agency (or per alerted recruiter phone), whatever
the number of alerts or runs: the dedupe key is ``police-warn:agency:<id>:<phone>``
(``police-warn:phone:<recruiter>:<phone>``), so a replayed event, a second alert on
the same agency or a retried job sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.agencies.checks import fit
from app.agencies.names import display_name
from app.db import aware, utcnow
from app.extensions import Services
from app.i18n import translate
from app.jobs import Job, default_retry
from app.keywords import reply_language
from app.models import Agency, AgencyCheck, Person, Placement
from app.models.departure import DepartureDeclaration
from app.models.partner import PoliceAlert
from app.placements.service import OPEN_STATES
from app.sms.outbox import queue_sms

log = logging.getLogger(__name__)

WARN_JOB = "workers.partners.warn_police_alert"
"""The job that SMS-warns people about one police alert, by alert id."""

REWARN_AFTER = timedelta(minutes=10)
"""A police alert still unwarned this long after it was stored lost its job: ask again."""

CHECK_WINDOW = timedelta(days=90)
"""Whoever checked the agency this long before the alert is warned (checks are kept 90 days)."""


def warn_job(alert_id: int) -> Job:
    """The warning job of one alert, named after it so it is enqueued at most once."""
    return Job(WARN_JOB, (alert_id,), job_id=f"police-warn:{alert_id}", retry=default_retry())


def recipients(session: Session, alert: PoliceAlert) -> list[str]:
    """Give the numbers to warn, in a stable order, without the alerted numbers themselves."""
    phones: list[str] = []
    raised = aware(alert.raised_at) or utcnow()
    recruit_phone = func.coalesce(Placement.phone, Person.phone)
    recruits = (select(recruit_phone).select_from(Placement)
                .outerjoin(Person, Person.id == Placement.person_id)
                .where(Placement.status.in_(OPEN_STATES)))
    excluded = {alert.phone}
    if alert.agency_id is not None:
        agency = session.get(Agency, alert.agency_id)
        excluded.add(agency.phone if agency else None)
        phones += session.scalars(
            select(AgencyCheck.phone)
            .where(AgencyCheck.agency_id == alert.agency_id,
                   AgencyCheck.checked_at >= min(raised, utcnow()) - CHECK_WINDOW)
            .group_by(AgencyCheck.phone).order_by(func.min(AgencyCheck.id))).all()
        phones += session.scalars(recruits.where(Placement.agency_id == alert.agency_id)
                                  .order_by(Placement.id)).all()
    if alert.phone is not None:  # people who named this agent before leaving
        phones += session.scalars(select(DepartureDeclaration.phone)
                                  .where(DepartureDeclaration.agent_phone == alert.phone)
                                  .order_by(DepartureDeclaration.id)).all()
    seen: set[str] = set()
    wanted = []
    for phone in phones:
        if phone and phone not in excluded and phone not in seen:
            seen.add(phone)
            wanted.append(phone)
    return wanted


def warning(lang: str, alert: PoliceAlert, agency: Agency | None, service_code: str) -> str:
    """Write the warning SMS in ``lang``, the agency's name cut to fit one SMS."""
    if agency is None:
        return translate(lang, "sms.police_warn_phone", recruiter=alert.phone,
                         service_code=service_code)
    values = {"licence_no": alert.licence_no or "-", "service_code": service_code}
    fitted = fit(lang, "sms.police_warn_agency", "agency", display_name(agency.name, 40),
                 display_name, values, least=6)
    return translate(lang, "sms.police_warn_agency", **(fitted or {**values, "agency": ""}))


def dedupe_key(alert: PoliceAlert, phone: str) -> str:
    """Name one warning: per agency (or alerted phone) and recipient, not per alert."""
    about = f"agency:{alert.agency_id}" if alert.agency_id is not None else f"phone:{alert.phone}"
    return f"police-warn:{about}:{phone}"


def warn(svc: Services, session: Session, alert_id: int) -> int:
    """Queue the warnings for one alert; give how many numbers it covers."""
    alert = session.get(PoliceAlert, alert_id)
    if alert is None:
        return 0
    agency = session.get(Agency, alert.agency_id) if alert.agency_id is not None else None
    phones = recipients(session, alert)
    code = svc.config["USSD_SERVICE_CODE"]
    for phone in phones:
        body = warning(reply_language(session, phone), alert, agency, code)
        queue_sms(session, phone, body, kind="police_warning", queue="default",
                  dedupe_key=dedupe_key(alert, phone))
    alert.warned_at = utcnow()
    log.info("police alert %d: %d number(s) warned", alert.id, len(phones))
    return len(phones)


def warn_alert(svc: Services, alert_id: int) -> int:
    """The warning job: warn everyone who checked or applied through the alerted agency."""
    with svc.db.session() as session:
        return warn(svc, session, alert_id)


def rewarn(svc: Services) -> int:
    """Re-enqueue the warning job of every alert still unwarned (Redis lost the job)."""
    with svc.db.Session() as session:
        pending = session.scalars(
            select(PoliceAlert.id).where(PoliceAlert.warned_at.is_(None),
                                         PoliceAlert.created_at < utcnow() - REWARN_AFTER)
            .order_by(PoliceAlert.id)).all()
    for alert_id in pending:
        svc.enqueue(warn_job(alert_id))
    return len(pending)
