"""Consular officers: the roster (``kazi officers …``) and their SMS commands.

Officers answer alerts by SMS from their registered phone: ``ACK <ref>``,
``NOTE <ref> <text>`` and ``CLOSE <ref> <text>``, in any case. A number that is
not an active officer's is refused and nothing changes. Any active officer may
act on any case: a case must never wait because the officer who has the phone
in hand sits at another mission; the timeline records who did what.

Headquarters (the diaspora desk in Nairobi, mission ``HQ``) officers are added
with ``--country KE`` (or ``HQ``): Kenya is covered by no mission abroad, so
``mission_for("KE")`` is HQ, like any country no mission covers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.keywords import KeywordContext, keyword
from app.models import Case, Officer
from app.phones import normalise
from app.protection import cases, texts
from app.reference.countries import is_known_country
from app.reference.missions import HQ, Mission, mission_for

log = logging.getLogger(__name__)

ROLES = ("duty", "supervisor")
"""Duty officers hear of a case first (level 0); supervisors when nobody answers (level 1)."""

QUEUE = "critical"
"""Officers' confirmations go out with the escalations."""


class RosterError(ValueError):
    """The officer cannot be registered as asked."""


@dataclass(frozen=True)
class Enrolled:
    officer: Officer
    mission: Mission
    created: bool


def mission_of(country: str) -> Mission:
    """Give the mission an officer posted for ``country`` joins (KE or HQ: headquarters)."""
    code = (country or "").strip().upper()
    if code in ("KE", HQ.code):
        return HQ
    if not is_known_country(code):
        raise RosterError(f"unknown country {country!r}; give an ISO2 code such as SA")
    return mission_for(code)


def enrol(session: Session, *, name: str, phone: str, country: str,
          role: str = "duty") -> Enrolled:
    """Register an officer (or update the one with this phone) at the covering mission."""
    name = " ".join((name or "").split())
    if not name:
        raise RosterError("a name is needed")
    if role not in ROLES:
        raise RosterError(f"role must be one of {', '.join(ROLES)}")
    try:
        number = normalise(phone)
    except ValueError as exc:
        raise RosterError(f"not a valid phone number ({exc})") from None
    mission = mission_of(country)
    officer = session.scalar(select(Officer).where(Officer.phone == number))
    created = officer is None
    if officer is None:
        officer = Officer(phone=number, on_duty=True)
        session.add(officer)
    officer.name, officer.mission_code, officer.role, officer.active = (
        name[:120], mission.code, role, True)
    session.flush()
    return Enrolled(officer, mission, created)


def set_duty(session: Session, phone: str, on: bool) -> Officer | None:
    """Put an officer on or off duty; None if the number is no officer's."""
    officer = by_phone(session, normalise(phone), active_only=False)
    if officer is not None:
        officer.on_duty = on
    return officer


def by_phone(session: Session, phone: str, *, active_only: bool = True) -> Officer | None:
    query = select(Officer).where(Officer.phone == phone)
    if active_only:
        query = query.where(Officer.active.is_(True))
    return session.scalar(query)


# SMS commands --------------------------------------------------------------------------


def _command(ctx: KeywordContext, needs_text: bool) -> tuple[Officer, Case, str] | None:
    """Check the sender and the case; answer and give None when either is wrong."""
    officer = by_phone(ctx.session, ctx.phone)
    if officer is None:
        log.warning("inbound sms %d: %s from a number that is no officer's; refused",
                    ctx.inbound.id, ctx.word or "command")
        ctx.reply("sms.officer_refused", kind="officer_refused")
        return None
    ctx.lang = "en"
    ref, _, text = ctx.rest.partition(" ")
    text = text.strip()
    if not ref or (needs_text and not text):
        ctx.reply("sms.officer_usage", kind="officer_reply", queue=QUEUE)
        return None
    case = cases.by_ref(ctx.session, ref, lock=True)
    if case is None:
        ctx.reply("sms.officer_no_case", kind="officer_reply", queue=QUEUE,
                  case_ref=texts.gsm_clean(ref)[:12].upper())
        return None
    return officer, case, text


@keyword("ACK")
def ack(ctx: KeywordContext) -> None:
    """``ACK <ref>``: take the case up; the escalation stops and the reporter is told."""
    found = _command(ctx, needs_text=False)
    if found is None:
        return
    officer, case, _ = found
    if case.status == "closed":
        ctx.reply("sms.officer_is_closed", kind="officer_reply", queue=QUEUE, case_ref=case.ref)
    elif cases.acknowledge(ctx.session, ctx.svc, case, officer):
        ctx.reply("sms.officer_acked", kind="officer_reply", queue=QUEUE, case_ref=case.ref,
                  reporter=case.reporter_phone)
    else:
        holder = ctx.session.get(Officer, case.acknowledged_by) if case.acknowledged_by else None
        ctx.reply("sms.officer_already", kind="officer_reply", queue=QUEUE, case_ref=case.ref,
                  officer=texts.gsm_clean(holder.name if holder else "another officer"))


@keyword("NOTE")
def note(ctx: KeywordContext) -> None:
    """``NOTE <ref> <text>``: log a note on the case's timeline."""
    found = _command(ctx, needs_text=True)
    if found is None:
        return
    officer, case, text = found
    cases.add_note(ctx.session, ctx.svc, case, officer, text)
    ctx.reply("sms.officer_noted", kind="officer_reply", queue=QUEUE, case_ref=case.ref)


@keyword("CLOSE")
def close(ctx: KeywordContext) -> None:
    """``CLOSE <ref> <text>``: close the case; the reporter gets the note."""
    found = _command(ctx, needs_text=True)
    if found is None:
        return
    officer, case, text = found
    if cases.close(ctx.session, ctx.svc, case, officer, text):
        ctx.reply("sms.officer_closed", kind="officer_reply", queue=QUEUE, case_ref=case.ref)
    else:
        ctx.reply("sms.officer_is_closed", kind="officer_reply", queue=QUEUE, case_ref=case.ref)
