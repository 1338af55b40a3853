"""People check a job offer by its code: the USSD port, its event, and SMS ``JOB <code>``.

``AJIRA`` ("employment") is the Kiswahili keyword. ``KAZI`` is deliberately not
one: it is the first word of the service's own name, so "Kazi Salama" or "kazi"
sent as a greeting would be taken for a malformed job check.

A check of a found listing is recorded as a check of its agency (``AgencyCheck``),
so the person is warned if that agency's licence changes within 90 days.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events import Hop, handles
from app.extensions import Services
from app.i18n import translate
from app.keywords import KeywordContext, keyword
from app.listings import card, codes
from app.listings.service import agency_licence, licence_status, today
from app.models import Agency, AgencyCheck, Contact, Employer, JobListing
from app.ports import Known, port
from menus.engine import Event

SMS_KEYS = ("sms.job_ok", "sms.job_warn")
"""SMS texts that show a found listing: without and with a warning."""

SWAHILI_WORDS = frozenset({"AJIRA"})
"""Keywords that are Kiswahili: the reply is in Kiswahili unless the number chose a language."""


def summary(session: Session, code: str) -> dict[str, Any] | None:
    """Give what a person checking ``code`` is shown, as plain JSON-able data, or None."""
    listing = session.scalar(select(JobListing).where(JobListing.code == code))
    if listing is None:
        return None
    agency = session.get(Agency, listing.agency_id)
    employer = session.get(Employer, listing.employer_id) if listing.employer_id else None
    return {
        "code": listing.code,
        "status": listing.status,
        "title": listing.title,
        "country": listing.destination,
        "salary_amount": str(listing.salary_amount) if listing.salary_amount else None,
        "salary_currency": listing.salary_currency,
        "salary_period": listing.salary_period,
        "employer": employer.name if employer else None,
        "agency": agency.name if agency else None,
        "agency_id": listing.agency_id,
        "licence": licence_status(agency_licence(session, listing.agency_id), today()),
    }


def record_check(session: Session, agency_id: int, phone: str, channel: str) -> None:
    """Remember that this number relied on this agency (for licence-change warnings)."""
    session.add(AgencyCheck(agency_id=agency_id, phone=phone, channel=channel))


@port("listings")
class ListingsPort:
    """Lookups the job-check journey needs."""

    def __init__(self, svc: Services, known: Known) -> None:
        self.svc = svc

    def check(self, code: str) -> dict[str, Any] | None:
        with self.svc.db.Session() as session:
            return summary(session, code)


@handles("JobChecked")
def _job_checked(hop: Hop, event: Event) -> None:
    job = event.data.get("job") or {}
    if job.get("agency_id"):
        record_check(hop.session, int(job["agency_id"]), hop.phone, hop.channel)


@keyword("JOB", "AJIRA")
def job(ctx: KeywordContext) -> None:
    """Answer ``JOB <code>`` with the listing's status, agency and warnings in one SMS."""
    if _typed_swahili(ctx):
        ctx.lang = "sw"
    try:
        code = codes.parse(ctx.rest)
    except codes.CodeError as exc:
        ctx.reply("sms.job_chars" if exc.reason == "look_alike" else "sms.job_bad_code",
                  kind="job_check")
        return
    found = summary(ctx.session, code)
    if found is None:
        ctx.reply("sms.job_unknown", kind="job_check", job_code=code)
        return
    record_check(ctx.session, found["agency_id"], ctx.phone, "sms")
    key = card.pick(found, *SMS_KEYS)
    ctx.reply(key, kind="job_check", **card.labels(found, ctx.lang, translate, [key]))


def _typed_swahili(ctx: KeywordContext) -> bool:
    """Tell whether the person wrote the Kiswahili keyword and never chose a language."""
    first = (ctx.inbound.text or "").strip().split(maxsplit=1)
    if not first or first[0].strip(".,;:!?").upper() not in SWAHILI_WORDS:
        return False
    return not ctx.session.scalar(select(Contact.lang).where(Contact.phone == ctx.phone))
