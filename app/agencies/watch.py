"""The licence watch: a daily job that expires lapsed licences and warns who relied on them.

1. Every licence still ``valid`` or ``suspended`` whose ``expires_on`` has passed
   becomes ``expired``, with a ``LicenceChange`` (source ``licence-watch``).
2. Every status change not yet warned about (``warned_at`` empty), whether the
   register import or this watch made it, to ``suspended``, ``revoked`` or
   ``expired``: each number that checked the agency in the 90 days before the change
   gets one SMS in its language (dedupe key ``licence-warn:<change id>:<phone>``, so a
   second run sends nothing), and the agency's open job listings are held.
   Then ``warned_at`` is set. A change back to ``valid`` warns nobody and releases
   the held listings (back to validation); a licence's first appearance, or a change
   of expiry date alone, is only marked.

Only people who checked the agency are warned; its placements are not looked at here,
though people who applied through it should be warned too.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.agencies.checks import WARNED_STATUSES, sms_warning
from app.agencies.index import register_changed
from app.agencies.register import kenya_today
from app.db import utcnow
from app.extensions import Services
from app.jobs import Job
from app.keywords import reply_language
from app.listings.service import hold_open_listings, release_held_listings
from app.models import Agency, AgencyCheck, Licence, LicenceChange
from app.sms.outbox import queue_sms

log = logging.getLogger(__name__)

WATCH_JOB = "workers.licences.licence_watch"
"""The watch's job: daily from the schedule, and after an import that changed statuses."""

SOURCE = "licence-watch"
"""How the watch signs the changes it makes."""

WARN_WINDOW = timedelta(days=90)
"""Whoever checked an agency this long before a change is warned of it."""



def watch_job(import_id: int) -> Job:
    """The watch run after one register import, named after it so it is enqueued once.

    Warnings need not wait for the morning's run.
    """
    return Job(WATCH_JOB, job_id=f"licence-watch:import:{import_id}")


def licence_watch(svc: Services, as_of: str | None = None) -> dict[str, int]:
    """Expire lapsed licences, then warn about every unwarned status change; give counts."""
    today = date.fromisoformat(as_of[:10]) if as_of else kenya_today()
    with svc.db.session() as session:
        expired = expire_lapsed(session, today)
    if expired:
        register_changed(svc.redis)
    counts = warn_changes(svc)
    counts["expired"] = expired
    log.info("licence watch %s: %s", today.isoformat(),
             " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return counts


def expire_lapsed(session: Session, today: date) -> int:
    """Turn every lapsed valid or suspended licence to expired, keeping the history."""
    lapsed = session.scalars(
        select(Licence).where(Licence.status.in_(("valid", "suspended")),
                              Licence.expires_on.is_not(None), Licence.expires_on < today)
        .order_by(Licence.id)
    ).all()
    now = utcnow()
    for licence in lapsed:
        session.add(LicenceChange(licence_id=licence.id, old_status=licence.status,
                                  new_status="expired", old_expires_on=licence.expires_on,
                                  new_expires_on=licence.expires_on, source=SOURCE,
                                  learned_at=now))
        licence.status = "expired"
    return len(lapsed)


def warn_changes(svc: Services) -> dict[str, int]:
    """Warn about each unwarned change to a warned status, once; mark the rest as warned."""
    counts = {"changes": 0, "warnings": 0, "held": 0}
    with svc.db.session() as session:
        quiet = (LicenceChange.old_status.is_(None)
                 | (LicenceChange.old_status == LicenceChange.new_status))
        session.execute(update(LicenceChange)
                        .where(LicenceChange.warned_at.is_(None), quiet)
                        .values(warned_at=utcnow()))
        pending = session.scalars(
            select(LicenceChange.id).where(LicenceChange.warned_at.is_(None))
            .order_by(LicenceChange.id)
        ).all()
    for change_id in pending:
        # One transaction per change: a failure later on keeps what was already done.
        with svc.db.session() as session:
            warnings, held = _warn(svc, session, change_id)
        counts["changes"] += 1
        counts["warnings"] += warnings
        counts["held"] += held
    return counts


def _warn(svc: Services, session: Session, change_id: int) -> tuple[int, int]:
    change = session.get(LicenceChange, change_id, with_for_update=True)
    if change is None or change.warned_at is not None:
        return 0, 0  # another run got here first
    licence = session.get(Licence, change.licence_id)
    agency = session.get(Agency, licence.agency_id)
    if change.new_status not in WARNED_STATUSES:  # valid again: nobody to warn
        released = release_held_listings(session, agency.id)
        change.warned_at = utcnow()
        log.info("licence change %d (%s -> %s): %d listing(s) released", change.id,
                 change.old_status, change.new_status, released)
        return 0, 0
    learned = change.learned_at
    phones = session.scalars(
        select(AgencyCheck.phone)
        .where(AgencyCheck.agency_id == agency.id,
               AgencyCheck.checked_at >= learned - WARN_WINDOW,
               AgencyCheck.checked_at < learned)
        .group_by(AgencyCheck.phone)
        .order_by(func.min(AgencyCheck.id))
    ).all()
    for phone in phones:
        lang = reply_language(session, phone)
        body = sms_warning(lang, change.new_status, agency.name, licence.licence_no,
                           licence.expires_on, svc.config["USSD_SERVICE_CODE"])
        queue_sms(session, phone, body, kind="licence_warning", queue="default",
                  dedupe_key=f"licence-warn:{change.id}:{phone}")
    held = hold_open_listings(session, agency.id,
                              f"licence {licence.licence_no} {change.new_status} "
                              f"({change.source})")
    change.warned_at = utcnow()
    log.info("licence change %d (%s -> %s): %d warning(s), %d listing(s) held", change.id,
             change.old_status, change.new_status, len(phones), held)
    return len(phones), held
