"""Distress cases: the one way in (``open_case``) and what officers do with them.

``open_case`` is called by every intake (SMS keywords, the USSD "Get help" menu,
check-in replies) inside the caller's transaction, so the case, its timeline,
the officers' alerts and the reporter's receipt commit together, before the
callback that brought the report is answered; their jobs are enqueued after
that commit. It is safe to call twice with the same ``source_ref`` (a replayed
report changes nothing), and a second report from the same reporter within
``MERGE_WINDOW`` is added to the open case instead of opening another.

Signature (stable; part B's check-ins call it)::

    open_case(session, svc, *, reporter_phone, channel, text=None, category=None,
              severity=None, country=None, subject_phone=None, subject_name=None,
              person_id=None, placement_id=None, lang="en", source_ref) -> Case
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case as when
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from app.db import utcnow
from app.extensions import Services
from app.i18n import translate
from app.models import Case, Contact, Officer, Person, Placement
from app.models.placement import ABROAD_STATES
from app.models.protection import CATEGORIES, SEVERITIES
from app.phones import country_of
from app.protection import escalation, indicators, texts, timeline
from app.reference.countries import is_known_country
from app.reference.missions import HQ, mission_for
from app.sms.outbox import queue_sms

log = logging.getLogger(__name__)

MERGE_WINDOW = timedelta(minutes=30)
"""A second report from the same reporter (about the same person) this soon adds to
the open case instead of opening a new one."""

REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Case references have no 0/O and no 1/I, so one read out over a phone is typed right."""

REF_LENGTH = 6
"""Characters in a case reference (32**6, about a billion)."""

TEXT_MAX = 1000
"""Longest report text kept on the case; the timeline keeps each message too."""

RECEIPT_CHANNELS = frozenset({"sms", "ussd"})
"""Channels whose reporter gets our receipt; check-ins answer in their own words."""

OPEN_STATES = ("open", "acknowledged")


@dataclass(frozen=True)
class Report:
    """What a report did: opened a case, added to one, or was a replay."""

    case: Case
    outcome: str  # opened | merged | replayed


def open_case(session: Session, svc: Services, *, reporter_phone: str, channel: str,
              text: str | None = None, category: str | None = None,
              severity: str | None = None, country: str | None = None,
              subject_phone: str | None = None, subject_name: str | None = None,
              person_id: int | None = None, placement_id: int | None = None,
              lang: str = "en", source_ref: str) -> Case:
    """Open a case (or add this report to the reporter's open one) and escalate at once."""
    return report(session, svc, reporter_phone=reporter_phone, channel=channel, text=text,
                  category=category, severity=severity, country=country,
                  subject_phone=subject_phone, subject_name=subject_name,
                  person_id=person_id, placement_id=placement_id, lang=lang,
                  source_ref=source_ref).case


def report(session: Session, svc: Services, *, reporter_phone: str, channel: str,
           text: str | None = None, category: str | None = None, severity: str | None = None,
           country: str | None = None, subject_phone: str | None = None,
           subject_name: str | None = None, person_id: int | None = None,
           placement_id: int | None = None, lang: str = "en", source_ref: str) -> Report:
    """Do what ``open_case`` does and say whether the case is new, merged or replayed."""
    source_ref = fit_ref(source_ref)
    replayed = timeline.case_of(session, source_ref)
    if replayed is not None:
        return Report(replayed, "replayed")
    now = utcnow()
    _lock_reporter(session, reporter_phone)
    text = (text or "").strip()[:TEXT_MAX] or None
    category = category if category in CATEGORIES else None
    finding = indicators.detect(text)
    category = category or finding.category
    cat_indicators, cat_severity = indicators.for_category(category)
    severity = indicators.higher(indicators.higher(
        severity if severity in SEVERITIES else None, finding.severity), cat_severity)
    found = indicators.merge(finding.indicators, cat_indicators)
    is_subject = not (subject_phone or subject_name)
    about = reporter_phone if is_subject else subject_phone
    person = _person(session, person_id, about)
    placement = _placement(session, placement_id, person, about)
    country = destination(country, about, placement)

    existing = _open_case_of(session, reporter_phone, is_subject, subject_phone, now)
    if existing is not None:
        _merge(session, svc, existing, text=text, channel=channel, category=category,
               severity=severity, found=found, country=country, source_ref=source_ref, now=now)
        return Report(existing, "merged")

    mission = mission_for(country) if country else HQ
    case = Case(
        ref=new_ref(session), reporter_phone=reporter_phone, reporter_is_subject=is_subject,
        subject_phone=subject_phone, subject_name=subject_name,
        person_id=person.id if person else None,
        placement_id=placement.id if placement else None,
        agency_id=placement.agency_id if placement else None,
        employer_id=placement.employer_id if placement else None,
        country=country, mission_code=mission.code, category=category, severity=severity,
        indicators=indicators.store(found), channel=channel, first_text=text,
        lang=lang or "en", status="open", escalation_level=0, opened_at=now, updated_at=now,
    )
    session.add(case)
    session.flush()
    timeline.add(session, case, "opened", text or f"{channel} report", now=now,
                 actor="reporter", source_ref=source_ref)
    # Officers first: their send jobs are enqueued (and run) before the receipt's.
    escalation.start(session, svc, case, now)
    if channel in RECEIPT_CHANNELS:
        tell_reporter(session, svc, case, "sms.case_received", f"case:{case.id}:received",
                      help_desk=desk(case))
    log.info("case %d opened (%s, %s, mission %s)", case.id, channel, severity, mission.code)
    return Report(case, "opened")


def _merge(session: Session, svc: Services, case: Case, *, text: str | None, channel: str,
           category: str | None, severity: str, found: tuple[str, ...], country: str | None,
           source_ref: str, now: datetime) -> None:
    added = timeline.add(session, case, "message", text or f"{channel} report again",
                         now=now, actor="reporter", source_ref=source_ref)
    session.flush()
    case.indicators = indicators.store(indicators.merge(indicators.parse(case.indicators), found))
    if case.category is None and category:
        case.category = category
    if text and not case.first_text:
        case.first_text = text
    raise_severity(session, svc, case, severity, now, marker=f"e{added.id}", words=text)
    if country and not case.country:
        set_country(session, svc, case, country, now=now)
    if channel in RECEIPT_CHANNELS:
        tell_reporter(session, svc, case, "sms.case_updated", f"case:{case.id}:upd:{source_ref}")
    log.info("case %d: report added (%s)", case.id, channel)


def raise_severity(session: Session, svc: Services, case: Case, severity: str | None,
                   now: datetime, *, marker: str, words: str | None = None) -> bool:
    """Raise the case's severity (never lower it); the clock shortens to match."""
    new = indicators.higher(case.severity, severity)
    if new == case.severity:
        return False
    old, case.severity = case.severity, new
    timeline.add(session, case, "severity", f"{old} -> {new}", now=now)
    escalation.severity_raised(session, svc, case, now, marker, words)
    log.info("case %d severity %s -> %s", case.id, old, new)
    return True


def add_words(session: Session, svc: Services, case: Case, text: str, *,
              now: datetime | None = None, source_ref: str | None = None) -> None:
    """Add the reporter's words to the case: its indicators, category and severity follow."""
    now = now or utcnow()
    text = text.strip()[:TEXT_MAX]
    finding = indicators.detect(text)
    added = timeline.add(session, case, "message", text, now=now, actor="reporter",
                         source_ref=source_ref)
    session.flush()
    case.indicators = indicators.store(
        indicators.merge(indicators.parse(case.indicators), finding.indicators))
    severity = finding.severity
    if case.category is None and finding.category:
        severity = indicators.higher(severity, _categorise(session, case, finding.category, now))
    raise_severity(session, svc, case, severity, now, marker=f"e{added.id}", words=text)


def set_category(session: Session, svc: Services, case: Case, category: str, *,
                 now: datetime | None = None) -> None:
    """Record the category the reporter answered; its indicators and severity follow."""
    now = now or utcnow()
    if category not in CATEGORIES or category == case.category:
        return
    severity = _categorise(session, case, category, now)
    raise_severity(session, svc, case, severity, now, marker=f"category:{category}")


def _categorise(session: Session, case: Case, category: str, now: datetime) -> str:
    """Set the category and its indicators; give the severity it calls for."""
    case.category = category
    cat_indicators, cat_severity = indicators.for_category(category)
    case.indicators = indicators.store(
        indicators.merge(indicators.parse(case.indicators), cat_indicators))
    timeline.add(session, case, "category", category, now=now, actor="reporter")
    return cat_severity


def set_country(session: Session, svc: Services, case: Case, country: str, *,
                now: datetime | None = None) -> None:
    """Record where the case is; an unacknowledged case goes to that country's mission."""
    now = now or utcnow()
    country = (country or "").strip().upper()
    if not is_known_country(country) or country == case.country:
        return
    case.country = country
    timeline.add(session, case, "country", country, now=now, actor="reporter")
    mission = mission_for(country)
    if mission.code == case.mission_code:
        return
    old, case.mission_code = case.mission_code, mission.code
    if case.status == "open":
        timeline.add(session, case, "rerouted", f"{old} -> {mission.code}", now=now)
        escalation.reroute(session, svc, case, now)


# officers ----------------------------------------------------------------------------


def actor_of(officer: Officer) -> str:
    """Name who acted, for the timeline: ``officer:<id>``, or a console user's own tag
    (``app.protection.actions.Staff``, who has ``actor`` and no officer id)."""
    return getattr(officer, "actor", None) or f"officer:{officer.id}"


def acknowledge(session: Session, svc: Services, case: Case, officer: Officer, *,
                now: datetime | None = None, tell: bool = True) -> bool:
    """Take the case up: the clock stops and the reporter hears; False if already taken."""
    now = now or utcnow()
    if case.status != "open":
        return False
    case.status = "acknowledged"
    case.acknowledged_at = now
    case.acknowledged_by = officer.id
    escalation.acknowledged(session, case, now)
    timeline.add(session, case, "ack", f"by {officer.name}", now=now,
                 actor=actor_of(officer))
    if tell:
        tell_reporter(session, svc, case, "sms.case_acked", f"case:{case.id}:ack")
    log.info("case %d acknowledged by %s", case.id, actor_of(officer))
    return True


def add_note(session: Session, svc: Services, case: Case, officer: Officer, note: str, *,
             now: datetime | None = None) -> None:
    """Log an officer's note; a note on an unanswered case counts as taking it up."""
    now = now or utcnow()
    acknowledge(session, svc, case, officer, now=now)
    timeline.add(session, case, "note", note[:TEXT_MAX], now=now,
                 actor=actor_of(officer))


def close(session: Session, svc: Services, case: Case, officer: Officer, note: str, *,
          now: datetime | None = None) -> bool:
    """Close the case with the officer's note and tell the reporter; False if closed already."""
    now = now or utcnow()
    if case.status == "closed":
        return False
    acknowledge(session, svc, case, officer, now=now, tell=False)
    case.status = "closed"
    case.closed_at = now
    case.close_note = note[:TEXT_MAX]
    case.next_escalation_at = None
    timeline.add(session, case, "closed", note[:TEXT_MAX], now=now,
                 actor=actor_of(officer))
    said = note.strip()
    if said and said[-1] not in ".!?":
        said += "."
    body = texts.fitted(case.lang, "sms.case_closed", fill=said, limit=texts.CLOSE_LIMIT,
                        case_ref=case.ref)
    queue_sms(session, case.reporter_phone, body, kind="case_closed", queue="critical",
              dedupe_key=f"case:{case.id}:closed", person_id=_reporter_person(case))
    log.info("case %d closed by %s", case.id, actor_of(officer))
    return True


# lookups ----------------------------------------------------------------------------


def by_ref(session: Session, ref: str, *, lock: bool = False) -> Case | None:
    """Find a case by its reference as typed (any case, spaces and dashes ignored)."""
    cleaned = "".join(ch for ch in (ref or "") if ch.isalnum()).upper()
    if len(cleaned) != REF_LENGTH:
        return None
    query = select(Case).where(Case.ref == cleaned)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def new_ref(session: Session) -> str:
    """Draw an unused case reference."""
    while True:
        ref = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))
        if session.scalar(select(Case.id).where(Case.ref == ref)) is None:
            return ref


def fit_ref(ref: str) -> str:
    """Fit a source reference into its 100-character column, keeping it unique."""
    if len(ref) <= 100:
        return ref
    prefix = ref.split(":", 1)[0][:20]
    return f"{prefix}:sha1:{hashlib.sha1(ref.encode()).hexdigest()}"


def destination(explicit: str | None, number: str | None,
                placement: Placement | None) -> str | None:
    """Where the case is: as given, else the number's country if not Kenya, else the placement's."""
    code = (explicit or "").strip().upper()
    if code and is_known_country(code):
        return code
    by_number = country_of(number) if number else None
    if by_number and by_number != "KE":
        return by_number
    if placement is not None and placement.country:
        return placement.country
    return None


def desk(case: Case) -> str:
    """Name where the officers sit, for the reporter: a city."""
    from app.reference.missions import by_code

    mission = by_code(case.mission_code) or HQ
    return mission.city


def known_language(session: Session, phone: str) -> str | None:
    """Give the language a number chose (Contact) or registered with (Person), if any."""
    lang = session.scalar(select(Contact.lang).where(Contact.phone == phone))
    if lang:
        return lang
    return session.scalar(select(Person.lang).where(Person.phone == phone,
                                                    Person.status == "active").limit(1))


def tell_reporter(session: Session, svc: Services, case: Case, key: str, dedupe_key: str,
                  **values: object) -> None:
    """Queue one SMS to the reporter in their language, on the critical queue."""
    body = translate(case.lang, key, case_ref=case.ref,
                     service_code=svc.config["USSD_SERVICE_CODE"], **values)
    queue_sms(session, case.reporter_phone, body, kind=key.removeprefix("sms."),
              queue="critical", dedupe_key=dedupe_key, person_id=_reporter_person(case))


def _reporter_person(case: Case) -> int | None:
    return case.person_id if case.reporter_is_subject else None


def _lock_reporter(session: Session, phone: str) -> None:
    """Serialise reports from one number (PostgreSQL), so two at once make one case."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite lets one writer at a time in anyway
    key = int.from_bytes(hashlib.sha1(f"case-reporter:{phone}".encode()).digest()[:8], "big",
                         signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _open_case_of(session: Session, reporter: str, is_subject: bool,
                  subject_phone: str | None, now: datetime) -> Case | None:
    recent = session.scalars(
        select(Case).where(Case.reporter_phone == reporter, Case.status.in_(OPEN_STATES),
                           Case.opened_at >= now - MERGE_WINDOW)
        .order_by(Case.opened_at.desc(), Case.id.desc())
    )
    for case in recent:
        if case.reporter_is_subject != is_subject:
            continue
        if is_subject or not subject_phone or not case.subject_phone \
                or case.subject_phone == subject_phone:
            return case
    return None


def _person(session: Session, person_id: int | None, phone: str | None) -> Person | None:
    if person_id:
        return session.get(Person, person_id)
    if not phone:
        return None
    return session.scalar(select(Person).where(Person.phone == phone,
                                               Person.status == "active").limit(1))


def _placement(session: Session, placement_id: int | None, person: Person | None,
               phone: str | None) -> Placement | None:
    """Give the given placement, else the person's latest, preferring one abroad."""
    if placement_id:
        return session.get(Placement, placement_id)
    owners = []
    if person is not None:
        owners.append(Placement.person_id == person.id)
    if phone:
        owners.append(Placement.phone == phone)
    if not owners:
        return None
    abroad_first = when((Placement.status.in_(ABROAD_STATES), 0), else_=1)
    return session.scalar(
        select(Placement).where(or_(*owners))
        .order_by(abroad_first, Placement.created_at.desc(), Placement.id.desc()).limit(1)
    )
