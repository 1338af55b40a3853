"""``kazi report clusters``: many people naming one recruiter, the Athi River pattern.

In September 2025 the Athi River syndicate was found because its recruits shared
one recruiter's phone number and one "accommodation" address. This report looks
for the same shape in what people tell us, and for agencies tied to a deregistered
one.

**People-level signals**, counted over a window (default the 90 days up to today;
``--from``/``--to`` change it), each person counted once per value:

``recruiter_phone`` — at least ``PHONE_PEOPLE`` (5) people gave the same agent's
    number: in their pre-departure declaration (``DepartureDeclaration.agent_phone``),
    or inside the text of a complaint against an agency or of a distress case
    (numbers found with ``phonenumbers``; the reporter's own number is not counted).
    Why 5: a licensed agency is reached on its registered number, which the
    ``agency_*`` signals treat; an individual's mobile number named by five
    unrelated recruits in three months is a recruiter working outside the register,
    and five is still small enough to catch a syndicate in its first intake (the
    Athi River group moved people in batches of tens). Two or three would flag
    families and friends who travel together.
``recruiter_name`` — at least ``NAME_PEOPLE`` (5) people typed the same agency or
    agent name that is not on the register when declaring their departure
    (``DepartureDeclaration.agency_query`` with no agency found; compared by
    lower-case letters and digits only). Same reasoning as for the phone: five
    people naming one unlicensed "agency" is a recruiting operation.

No address is captured from people yet (neither registration nor the declaration
asks for an accommodation address), so shared addresses are found on the register
only (``agency_address`` below). When one is captured, it is a third signal here,
with a higher threshold (10 people: hostels, estates and office buildings are
legitimately shared).

**Agency-level signals** — the red flag "shares directors or phone numbers with a
deregistered agency": a phone number, physical address or director on the
register for two or more agencies, at least one of whose licence is not valid
now. Any number of people; the count shown is of people who applied through
(placements) or checked (``AgencyCheck``) those agencies in the window.

Each row: the signal, the value (phone numbers masked to their last 3 digits), the
number of people, the agencies involved (licence numbers; an agency met through a
placement or a complaint, or whose register phone is the recruiter's number), when
it was first and last seen in the window, and where it was seen.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.agencies.register import effective_status
from app.db import aware
from app.listings.service import today
from app.models import (
    Agency,
    AgencyCheck,
    AgencyComplaint,
    Case,
    Director,
    Licence,
    Person,
    Placement,
)
from app.models.departure import DepartureDeclaration
from app.phones import masked
from app.reports import Params, Row, report

WINDOW = timedelta(days=90)
"""The default look-back."""

PHONE_PEOPLE = 5
"""People naming one recruiter phone number before it is flagged."""

NAME_PEOPLE = 5
"""People naming one agent before the name is flagged."""

AGENCIES_SHARING = 2
"""Agencies sharing a phone, address or director (one of them not valid) to be flagged."""

COLUMNS = ("signal", "value", "people", "agencies", "first_seen", "last_seen", "sources")

_FOLD = re.compile(r"[^a-z0-9]+")


@dataclass
class _Cluster:
    shown: str
    people: set[str] = field(default_factory=set)
    agencies: set[int] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, person: str, agency_id: int | None, source: str, seen: datetime | None) -> None:
        self.people.add(person)
        if agency_id is not None:
            self.agencies.add(agency_id)
        self.sources.add(source)
        seen = aware(seen)
        if seen is not None:
            self.first = seen if self.first is None else min(self.first, seen)
            self.last = seen if self.last is None else max(self.last, seen)


def fold(text: str | None) -> str:
    """Compare names and addresses by lower-case letters and digits only."""
    return _FOLD.sub("", (text or "").lower())


def phones_in(text: str | None) -> list[str]:
    """Give every valid phone number written in ``text``, in E.164."""
    if not text:
        return []
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "KE"):
        if phonenumbers.is_valid_number(match.number):
            found.append(phonenumbers.format_number(match.number,
                                                    phonenumbers.PhoneNumberFormat.E164))
    return found


def window(params: Params) -> tuple[datetime, datetime]:
    """Give the window as UTC datetimes [start, end)."""
    last_day = params.date_to or params.as_of or today()
    first_day = params.date_from or (last_day - WINDOW + timedelta(days=1))
    start = datetime.combine(first_day, time.min, UTC)
    return start, datetime.combine(last_day + timedelta(days=1), time.min, UTC)


def people_signals(session: Session, start: datetime, end: datetime
                   ) -> dict[str, dict[str, _Cluster]]:
    """Gather every recruiter phone, name and address people gave in the window."""
    found: dict[str, dict[str, _Cluster]] = {"recruiter_phone": {}, "recruiter_name": {}}

    def note(signal: str, key: str, shown: str, person: str, agency_id: int | None,
             source: str, seen: datetime | None) -> None:
        if not key:
            return
        cluster = found[signal].setdefault(key, _Cluster(shown))
        cluster.add(person, agency_id, source, seen)

    declared = session.execute(
        select(DepartureDeclaration.id, DepartureDeclaration.phone,
               DepartureDeclaration.agency_id, DepartureDeclaration.agent_phone,
               DepartureDeclaration.agency_query, DepartureDeclaration.created_at)
        .where(DepartureDeclaration.created_at >= start, DepartureDeclaration.created_at < end,
               DepartureDeclaration.agent_phone.is_not(None)
               | (DepartureDeclaration.agency_id.is_(None)
                  & DepartureDeclaration.agency_query.is_not(None))))
    for row in declared:
        if row.agent_phone and row.agent_phone != row.phone:
            note("recruiter_phone", row.agent_phone, row.agent_phone, row.phone, row.agency_id,
                 "declaration", row.created_at)
        if row.agency_id is None:  # a name typed that is not on the register
            note("recruiter_name", fold(row.agency_query), (row.agency_query or "").strip(),
                 row.phone, None, "declaration", row.created_at)
    complaints = session.execute(
        select(AgencyComplaint.id, AgencyComplaint.phone, AgencyComplaint.agency_id,
               AgencyComplaint.text, AgencyComplaint.created_at)
        .where(AgencyComplaint.created_at >= start, AgencyComplaint.created_at < end,
               AgencyComplaint.text.is_not(None)))
    for row in complaints:
        person = row.phone or f"complaint:{row.id}"
        for phone in phones_in(row.text):
            if phone != row.phone:
                note("recruiter_phone", phone, phone, person, row.agency_id, "complaint",
                     row.created_at)
    cases = session.execute(
        select(Case.id, Case.reporter_phone, Case.subject_phone, Case.agency_id, Case.first_text,
               Case.opened_at)
        .where(Case.opened_at >= start, Case.opened_at < end, Case.first_text.is_not(None)))
    for row in cases:
        person = row.subject_phone or row.reporter_phone
        for phone in phones_in(row.first_text):
            if phone not in (row.reporter_phone, row.subject_phone):
                note("recruiter_phone", phone, phone, person, row.agency_id, "case",
                     row.opened_at)
    return found


def agency_signals(session: Session, on) -> list[tuple[str, str, str, set[int]]]:
    """Give (signal, key, shown, agency ids) for register data shared with an invalid agency."""
    licences = {row.agency_id: effective_status(row.status, row.expires_on, on)
                for row in session.execute(select(Licence.agency_id, Licence.status,
                                                  Licence.expires_on))}
    groups: dict[tuple[str, str], tuple[str, set[int]]] = {}

    def add(signal: str, key: str, shown: str, agency_id: int) -> None:
        if key:
            groups.setdefault((signal, key), (shown, set()))[1].add(agency_id)

    for row in session.execute(select(Agency.id, Agency.phone, Agency.physical_address)):
        if row.phone:
            add("agency_phone", row.phone, row.phone, row.id)
        add("agency_address", fold(row.physical_address), (row.physical_address or "").strip(),
            row.id)
    for row in session.execute(select(Director.agency_id, Director.name_key, Director.name)):
        add("agency_director", row.name_key, row.name, row.agency_id)
    flagged = []
    for (signal, key), (shown, agencies) in groups.items():
        if len(agencies) >= AGENCIES_SHARING and any(
                licences.get(a, "none") != "valid" for a in agencies):
            flagged.append((signal, key, shown, agencies))
    return flagged


def _people_of(session: Session, agencies: set[int], start: datetime, end: datetime) -> int:
    recruits = {row.who or f"placement:{row.id}" for row in session.execute(
        select(Placement.id, func.coalesce(Placement.phone, Person.phone).label("who"))
        .outerjoin(Person, Person.id == Placement.person_id)
        .where(Placement.agency_id.in_(agencies), Placement.created_at >= start,
               Placement.created_at < end))}
    checkers = set(session.scalars(
        select(AgencyCheck.phone).where(AgencyCheck.agency_id.in_(agencies),
                                        AgencyCheck.checked_at >= start,
                                        AgencyCheck.checked_at < end)))
    return len(recruits | checkers)


def clusters(session: Session, params: Params) -> Iterator[Row]:
    """Give the flagged clusters, biggest first."""
    start, end = window(params)
    by_phone: dict[str, set[int]] = defaultdict(set)
    for row in session.execute(select(Agency.id, Agency.phone).where(Agency.phone.is_not(None))):
        by_phone[row.phone].add(row.id)
    licence_no = dict(session.execute(select(Licence.agency_id, Licence.licence_no)).all())
    thresholds = {"recruiter_phone": PHONE_PEOPLE, "recruiter_name": NAME_PEOPLE}
    found: list[Row] = []
    for signal, groups in people_signals(session, start, end).items():
        for key, cluster in groups.items():
            if len(cluster.people) < thresholds[signal]:
                continue
            agencies = set(cluster.agencies)
            if signal == "recruiter_phone":
                agencies |= by_phone.get(key, set())
            found.append(_row(signal, masked(key) if signal == "recruiter_phone"
                              else cluster.shown, len(cluster.people), agencies, licence_no,
                              cluster.first, cluster.last, cluster.sources))
    on = params.as_of or today()
    for signal, key, shown, agencies in agency_signals(session, on):
        value = masked(key) if signal == "agency_phone" else shown
        found.append(_row(signal, value, _people_of(session, agencies, start, end), agencies,
                          licence_no, None, None, {"register"}))
    found.sort(key=lambda r: (-r["people"], r["signal"], r["value"]))
    return iter(found)


def _row(signal: str, value: str, people: int, agencies: set[int], licence_no: dict,
         first: datetime | None, last: datetime | None, sources: set[str]) -> Row:
    return {
        "signal": signal,
        "value": value,
        "people": people,
        "agencies": sorted(licence_no.get(a, f"agency:{a}") for a in agencies),
        "first_seen": first.date().isoformat() if first else None,
        "last_seen": last.date().isoformat() if last else None,
        "sources": sorted(sources),
    }


@report("clusters", columns=COLUMNS)
def clusters_report(session: Session, params: Params) -> Iterator[Row]:
    """Many people naming one recruiter phone, agent or address; agencies tied to bad ones."""
    return clusters(session, params)
