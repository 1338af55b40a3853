"""The answer to "check an agency", the reports people file, and the agency's risk signals.

An answer tells the licence status in force (a licence past its expiry date is
expired even before the licence watch has run), the expiry date, the date of the
register's last update and the complaints on record, with a plain warning for
anything but valid. It ends with one of three rules, in rotation per phone number,
so someone who checks several agencies hears all three. Every answer about an agency
that was found is recorded (``AgencyCheck``): that is who gets warned if it changes.

Whatever the channel (``check``): the answer comes from the process's in-memory
index of the register (``app.agencies.index``: status, expiry, register date and
complaints), the one the search uses, and the check is recorded in SQL in the
transaction of the USSD hop or SMS that asked. In a USSD hop the register's tokens
and the number's rule count were read with the session (``known``), and the
rotation's increment is made by the script that saves it (``writes``), so it moves
on if and only if the person is shown the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.agencies.index import Index, Match, complaints_changed, current_index
from app.agencies.names import display_name, gsm_text
from app.agencies.register import KENYA, effective_status, kenya_today, last_update
from app.db import after_commit, aware, utcnow
from app.i18n import translate
from app.models import Agency, AgencyCheck, AgencyComplaint, Licence
from app.sms.gsm import septets

log = logging.getLogger(__name__)

RULES = ("agency.rule.fees", "agency.rule.contract", "agency.rule.passport")
"""The three rules every answer ends with, one at a time: fees, contract, passport."""

RULE_KEY = "kazi:agencies:rule:{0}"
"""Redis counter per phone (by blind index) of answers given, for the rule rotation."""

RULE_TTL = 90 * 86400
"""Seconds a phone's rotation is remembered after its last answer."""

COMPLAINT_KINDS = ("fee", "passport", "fake_job", "other")
"""What a report against an agency can be about."""

WARNED_STATUSES = ("suspended", "revoked", "expired")
"""Statuses that get a plain warning (and, on a change, an SMS to people who checked)."""

SMS_LIMIT = 160
"""One GSM-7 SMS."""


@dataclass(frozen=True)
class Answer:
    """What a check tells about one agency."""

    agency_id: int
    name: str
    licence_no: str
    status: str
    register_status: str
    expires_on: date | None
    register_updated: date | None
    complaints: int

    @property
    def warning(self) -> bool:
        return self.status != "valid"

    def as_data(self) -> dict[str, Any]:
        """Give the answer as JSON-able session data (by hand: ``asdict`` is slow)."""
        return {"agency_id": self.agency_id, "name": self.name, "licence_no": self.licence_no,
                "status": self.status, "register_status": self.register_status,
                "expires_on": self.expires_on.isoformat() if self.expires_on else None,
                "register_updated": (self.register_updated.isoformat()
                                     if self.register_updated else None),
                "complaints": self.complaints}


def show_date(value: date | str | None) -> str:
    """Write a date as people in Kenya do: 31/12/2026."""
    if not value:
        return "-"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def register_updated(session: Session) -> date | None:
    """Give the date of the register's last import, in Kenya."""
    return _kenya_date(session.scalar(last_update()))


def _kenya_date(moment: datetime | None) -> date | None:
    moment = aware(moment)
    return moment.astimezone(KENYA).date() if moment else None


def indexed_answer(index: Index, agency_id: int, today: date | None = None) -> Answer | None:
    """Give what a check tells about an agency from the in-memory index, or None."""
    i = index.positions.get(agency_id)
    if i is None:
        return None
    expires_on = index.expiries[i]
    return Answer(agency_id, index.names[i], index.licences[i],
                  effective_status(index.statuses[i], expires_on, today or kenya_today()),
                  index.register_statuses[i], expires_on, index.updated_on,
                  index.complaints.get(agency_id, 0))


def answer(session: Session, agency_id: int, today: date | None = None) -> Answer | None:
    """Load what a check tells about an agency (one query), or None if it is gone."""
    newest = last_update().scalar_subquery()
    row = session.execute(
        select(Agency.id, Agency.name, Agency.complaints_count, Licence.licence_no,
               Licence.status, Licence.register_status, Licence.expires_on,
               newest.label("updated"))
        .join(Licence, Licence.agency_id == Agency.id)
        .where(Agency.id == agency_id)
    ).one_or_none()
    if row is None:
        return None
    status = effective_status(row.status, row.expires_on, today or kenya_today())
    return Answer(row.id, row.name, row.licence_no, status, row.register_status,
                  row.expires_on, _kenya_date(row.updated), row.complaints_count or 0)


_RECORD = insert(AgencyCheck.__table__)  # Core: no ORM bulk-insert machinery per check


def record_check(session: Session, agency_id: int, phone: str, channel: str) -> None:
    """Remember in SQL that this number was told about this agency (to warn it of changes)."""
    session.execute(_RECORD, {"agency_id": agency_id, "phone": phone,
                              "channel": channel[:10], "checked_at": utcnow()})


def rule_key(svc: Any, phone: str) -> str:
    """Give the Redis key of this number's rule rotation (a blind index, not the number)."""
    return RULE_KEY.format(svc.cipher.blind_index("phone", phone)[:32])


def next_rule(svc: Any, phone: str) -> int:
    """Give the index in ``RULES`` of the rule this number hears next, and move on."""
    key = rule_key(svc, phone)
    try:
        with svc.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, RULE_TTL)
            count = pipe.execute()[0]
    except RedisError as exc:  # the rule still shows; only the rotation is lost
        log.warning("rule rotation unavailable (%s)", type(exc).__name__)
        return 0
    return (int(count) - 1) % len(RULES)


def next_rule_on_save(svc: Any, phone: str, known: Mapping[str, bytes | None],
                      writes: list) -> int:
    """Like ``next_rule``, from the count read with the USSD session; it moves on at the save."""
    key = rule_key(svc, phone)
    writes.append(("incr", key, RULE_TTL))
    return int(known.get(key) or 0) % len(RULES)


def check(svc: Any, session: Session, agency_id: int, phone: str, channel: str,
          known: Mapping[str, bytes | None] | None = None, writes: list | None = None,
          today: date | None = None) -> tuple[Answer | None, int]:
    """Answer a check of a found agency, record it in SQL, and give the rule.

    ``known`` and ``writes`` are a USSD hop's (``app.events.Hop``); elsewhere the
    tokens and the rotation are read and moved here.
    """
    result = indexed_answer(current_index(svc.db, svc.redis, known), agency_id, today)
    if result is None:  # an agency newer than this process's index
        result = answer(session, agency_id, today)
    if result is not None:
        record_check(session, agency_id, phone, channel)
    rule = (next_rule(svc, phone) if writes is None
            else next_rule_on_save(svc, phone, known or {}, writes))
    return result, rule


def report(session: Session, agency_id: int, phone: str | None, kind: str, channel: str,
           source_ref: str, text: str | None = None,
           redis: Redis | None = None) -> AgencyComplaint | None:
    """File a report against an agency once per ``source_ref``; count it on the agency."""
    if kind not in COMPLAINT_KINDS:
        raise ValueError(f"unknown complaint kind {kind!r}")
    existing = session.scalar(select(AgencyComplaint)
                              .where(AgencyComplaint.source_ref == source_ref))
    if existing is not None:
        return existing
    if session.get(Agency, agency_id) is None:
        return None
    complaint = AgencyComplaint(agency_id=agency_id, phone=phone, kind=kind,
                                channel=channel[:10], text=text, source_ref=source_ref)
    try:
        with session.begin_nested():
            session.add(complaint)
            session.flush()
    except IntegrityError:  # a concurrent copy of this very report won
        return session.scalar(select(AgencyComplaint)
                              .where(AgencyComplaint.source_ref == source_ref))
    session.execute(update(Agency).where(Agency.id == agency_id)
                    .values(complaints_count=Agency.complaints_count + 1))
    if redis is not None:  # every process's index reloads its counts after the commit
        after_commit(session, lambda: complaints_changed(redis))
    return complaint


def complaint_ref(complaint_id: int) -> str:
    """Give the reference a person is told for their report, e.g. ``AC00042``."""
    return f"AC{complaint_id:05d}"


@dataclass(frozen=True)
class Risk:
    """An agency's risk signals, for NEA staff and reports."""

    complaints: int
    complaints_per_100_placements: float | None
    listings_rejected_share: float | None
    police_alerts: int


def risk(agency: Agency) -> Risk:
    """Compute an agency's risk signals from its counters."""
    placements = agency.placements_count or 0
    listings = agency.listings_total or 0
    return Risk(
        complaints=agency.complaints_count or 0,
        complaints_per_100_placements=(round(100 * (agency.complaints_count or 0) / placements, 1)
                                       if placements else None),
        listings_rejected_share=(round((agency.listings_rejected or 0) / listings, 3)
                                 if listings else None),
        police_alerts=agency.police_alerts or 0,
    )


# ------------------------------------------------------------------------ texts


def status_text(lang: str, status: str, expires_on: date | str | None) -> str:
    """Give the status sentence of an answer, with its plain warning."""
    return translate(lang, f"agency.status.{status}", expires=show_date(expires_on))


def rule_text(lang: str, rule: int) -> str:
    """Give rule number ``rule`` (0-2) of the rotation."""
    return translate(lang, RULES[rule % len(RULES)])


SmsText = tuple[str, dict[str, Any]]
"""A text key and the values that fill it so the text fits one SMS."""


def sms_answer(lang: str, result: Answer, rule: int) -> SmsText:
    """Give the answer about one agency as one SMS.

    The licence number goes in while the name can keep 16 characters beside it;
    otherwise the name wins (the person can send the number to see it).
    """
    values = dict(complaints=result.complaints,
                  status_line=status_text(lang, result.status, result.expires_on),
                  updated=show_date(result.register_updated), rule=rule_text(lang, rule))
    key = "sms.agency_answer"
    fitted = fit(lang, key, "agency", display_name(result.name, 40), display_name,
                 {**values, "licence_no": " " + result.licence_no}, least=16)
    if fitted is not None:
        return key, fitted
    return key, fit(lang, key, "agency", display_name(result.name, 40), display_name,
                    {**values, "licence_no": ""}, least=6) or {**values, "agency": "",
                                                                "licence_no": ""}


def sms_not_found(lang: str, query: str, updated: date | None, rule: int) -> SmsText:
    """Give the not-found warning as one SMS."""
    values = dict(updated=show_date(updated), rule=rule_text(lang, rule))
    key = "sms.agency_none"
    return key, fit(lang, key, "query", '"' + gsm_text(query, 40) + '"', _quoted, values,
                    least=6) or {**values, "query": ""}


def sms_several(lang: str, matches: list, total: int) -> SmsText:
    """List up to three matches with their licence numbers, and say how to narrow.

    Licence numbers are given as ``2024/0001``: that is enough to send back, and three
    full ones with their names would not fit one SMS.
    """
    return _listed(lang, "sms.agency_several", matches, {"count": total})


def sms_nearest(lang: str, matches: list[Match]) -> SmsText:
    """Offer the agencies whose names are only near what was typed, to check by licence.

    No check is recorded: the person has not said any of them is their agency.
    """
    return _listed(lang, "sms.agency_nearest", matches, {})


def _listed(lang: str, key: str, matches: list, values: dict[str, Any]) -> SmsText:
    """Fill ``key`` with up to three matches, fewer and shorter names until it fits one SMS."""
    values = {**values, "example": short_licence(matches[0].licence_no)}
    for shown, least in ((3, 12), (2, 12), (1, 6)):  # fewer names rather than unreadable
        for width in range(26, least - 1, -1):
            values["matches"] = "; ".join(
                f"{display_name(m.name, width)} {short_licence(m.licence_no)}"
                for m in matches[:shown])
            if septets(translate(lang, key, **values)) <= SMS_LIMIT:
                return key, values
    return key, values


def short_licence(licence_no: str) -> str:
    """Give ``2024/0001`` for ``NEA/PEA/2024/0001``: the part that tells licences apart."""
    return "/".join(licence_no.split("/")[-2:])


def sms_warning(lang: str, status: str, name: str, licence_no: str, expires_on: date | None,
                service_code: str) -> str:
    """Write the SMS that warns someone who checked an agency of its new status."""
    values = dict(licence_no=licence_no, expires=show_date(expires_on),
                  service_code=service_code)
    key = f"sms.agency_warn_{status}"
    fitted = fit(lang, key, "agency", display_name(name, 40), display_name, values, least=6)
    return translate(lang, key, **(fitted or {**values, "agency": ""}))


def fit(lang: str, key: str, field: str, value: str, shorten, values: dict,
        least: int = 8) -> dict | None:
    """Give ``values`` plus ``field`` cut as little as needed for ``key`` to fit one SMS."""
    for width in range(len(value), min(least, len(value)) - 1, -1):
        trial = {**values, field: shorten(value, width) if width < len(value) else value}
        if septets(translate(lang, key, **trial)) <= SMS_LIMIT:
            return trial
    return None


def _quoted(value: str, width: int) -> str:
    return '"' + gsm_text(value.strip('"'), max(width - 2, 3)) + '"'
