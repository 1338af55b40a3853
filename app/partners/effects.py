"""What a partner event changes: placements, movements, permits, police alerts.

``apply`` runs inside the request's transaction, right after the event's row was
inserted (so a replay can never reach here twice). It matches the person by
blind index, records the effect, recomputes that person's irregular flags and
says what happened as an ``Outcome``: ``applied``, ``matched`` (known person,
nothing new), ``unmatched`` (kept for review) or ``rejected`` (it contradicts our
records: kept for review, answered 409 with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.crypto import PiiCipher
from app.db import aware, defer
from app.listings.service import hold_open_listings
from app.models import Agency, Licence, Person, Placement, PlacementTransition
from app.models.departure import DepartureDeclaration
from app.models.partner import Movement, PartnerEvent, Permit, PoliceAlert
from app.models.placement import ABROAD_STATES
from app.partners.events import Event
from app.partners.police import warn_job
from app.placements import irregular
from app.placements.service import TransitionError, open_placement, transition

SOURCE = {"immigration": "immigration", "destination": "destination", "police": "staff"}
"""The placement transition source for each partner kind."""

PASSPORT_INDEX = "passport"
"""Blind-index kind for passport numbers (``cipher.blind_index("passport", …)``)."""


@dataclass(frozen=True)
class Outcome:
    """What an event did: its stored status, and a reason when it was rejected."""

    status: str
    code: str | None = None
    message: str | None = None
    field: str | None = None


APPLIED = Outcome("applied")
MATCHED = Outcome("matched")
UNMATCHED = Outcome("unmatched")


def identifiers(cipher: PiiCipher, event: Event) -> tuple[str | None, str | None]:
    """Give the blind indexes of the event's national ID and passport."""
    return (cipher.blind_index("national_id", event.national_id) if event.national_id else None,
            cipher.blind_index(PASSPORT_INDEX, event.passport) if event.passport else None)


def match_person(session: Session, national_id_bidx: str | None,
                 passport_bidx: str | None) -> Person | None:
    """Find the active person by national ID, else by passport (both by blind index).

    The passport index lives wherever the pre-departure declaration stores it: a
    ``passport_bidx`` column on ``Person`` when there is one.
    """
    if national_id_bidx:
        person = session.scalar(select(Person).where(Person.national_id_bidx == national_id_bidx,
                                                     Person.status == "active"))
        if person is not None:
            return person
    column = getattr(Person, "passport_bidx", None)
    if passport_bidx and column is not None:
        return session.scalar(select(Person).where(column == passport_bidx,
                                                   Person.status == "active").limit(1))
    return None


def apply(session: Session, row: PartnerEvent, event: Event, partner_kind: str) -> Outcome:
    """Record what ``event`` means; set the row's person, placement and status."""
    person = None
    if event.type == "police.alert":
        outcome = _police_alert(session, row, event)
    else:
        person = match_person(session, row.national_id_bidx, row.passport_bidx)
        outcome = (UNMATCHED if person is None else
                   _EFFECTS[event.type](session, row, event, person, SOURCE[partner_kind]))
    # The row's outcome is set last, so it is written in one UPDATE with the rest.
    row.person_id = person.id if person is not None else None
    row.status = outcome.status
    row.detail = (f"{outcome.code}: {outcome.message}"[:200] if outcome.code else None)
    if person is not None:
        irregular.recompute_person(session, person.id)
    return outcome


def _rejected(exc: TransitionError) -> Outcome:
    return Outcome("rejected", exc.code, str(exc), "occurred_at")


def _step(session: Session, row: PartnerEvent, placement: Placement, target: str, source: str,
          event: Event, evidence: str) -> Outcome | None:
    try:
        transition(session, placement, target, source=source, source_ref=f"event:{row.id}",
                   evidence=evidence[:500], occurred_at=event.occurred_at)
    except TransitionError as exc:
        return _rejected(exc)
    row.placement_id = placement.id
    return None


def _departure(session: Session, row: PartnerEvent, event: Event, person: Person,
               source: str) -> Outcome:
    data = event.data
    placement = open_placement(session, person_id=person.id)
    evidence = (f"{event.type} {event.id}: to {data['country']} via {data['port'] or '?'}, "
                f"visa {data['visa_type'] or '?'}")
    if placement is not None and placement.status in ABROAD_STATES:
        if _same_departure(session, placement, event.occurred_at):
            row.placement_id = placement.id  # the same departure, told again: nothing new
            return MATCHED
        return Outcome("rejected", "already_abroad",
                       f"placement {placement.id} is already {placement.status} since "
                       f"{placement.departed_on}; record the return first", "occurred_at")
    if placement is None:
        # Nobody declared this journey: a placement opened by the departure itself.
        placement = Placement(person_id=person.id, phone=person.phone, country=data["country"],
                              occupation=person.occupation, visa_type=data["visa_type"])
    else:
        placement.country = placement.country or data["country"]
        if data["visa_type"]:  # immigration saw the visa stamped: it wins over a declaration
            placement.visa_type = data["visa_type"]
    refused = _step(session, row, placement, "departed", source, event, evidence)
    if refused is not None:
        return refused
    _movement(session, row, event, person, placement)
    return APPLIED


SAME_DEPARTURE = timedelta(hours=24)
"""A departure told again (a new id, another checkpoint's time) within this of the one
recorded is the same journey: nobody leaves twice without a return in between."""


def _same_departure(session: Session, placement: Placement, occurred_at: datetime) -> bool:
    """Tell whether a departure at ``occurred_at`` is the placement's recorded one.

    Times are compared, not calendar dates: 23:50 and 00:20 are one departure.
    """
    departed = session.scalar(
        select(PlacementTransition.occurred_at)
        .where(PlacementTransition.placement_id == placement.id,
               PlacementTransition.to_status == "departed")
        .order_by(PlacementTransition.id.desc()).limit(1))
    if departed is not None:
        return abs(aware(departed) - occurred_at) <= SAME_DEPARTURE
    if placement.departed_on is None:
        return False
    return abs((placement.departed_on - occurred_at.date()).days) <= SAME_DEPARTURE.days


def _arrival(session: Session, row: PartnerEvent, event: Event, person: Person,
             source: str) -> Outcome:
    """A return to Kenya: the placement abroad (or whose job ended) becomes ``returned``."""
    placement = session.scalar(
        select(Placement).where(Placement.person_id == person.id,
                                Placement.status.in_((*ABROAD_STATES, "ended")))
        .order_by(Placement.id.desc()).limit(1))
    data = event.data
    if placement is None:
        _movement(session, row, event, person, None)
        return MATCHED
    evidence = f"{event.type} {event.id}: from {data['country'] or '?'} via {data['port'] or '?'}"
    refused = _step(session, row, placement, "returned", source, event, evidence)
    if refused is not None:
        return refused
    _movement(session, row, event, person, placement)
    return APPLIED


def _movement(session: Session, row: PartnerEvent, event: Event, person: Person,
              placement: Placement | None) -> None:
    kind = "departure" if event.type == "immigration.departure" else "arrival"
    session.add(Movement(person_id=person.id, placement_id=placement.id if placement else None,
                         kind=kind, port=event.data.get("port"), country=event.data.get("country"),
                         occurred_at=event.occurred_at, event_id=row.id))


def _placement_in(session: Session, person: Person, country: str | None) -> Placement | None:
    """The person's open placement, preferably the one in ``country``."""
    query = select(Placement).where(Placement.person_id == person.id,
                                    Placement.status.in_((*ABROAD_STATES, "ended")))
    if country:
        query = query.where(Placement.country == country)
    found = session.scalar(query.order_by(Placement.id.desc()).limit(1))
    return found or open_placement(session, person_id=person.id)


def _permit_issued(session: Session, row: PartnerEvent, event: Event, person: Person,
                   _source: str) -> Outcome:
    data = event.data
    permit = session.scalar(select(Permit).where(Permit.country == data["country"],
                                                 Permit.permit_no == data["permit_no"]))
    if permit is not None and permit.person_id != person.id:
        return Outcome("rejected", "permit_conflict",
                       f"permit {data['permit_no']} of {data['country']} belongs to someone "
                       "else", "data.permit_no")
    placement = _placement_in(session, person, data["country"])
    if permit is None:
        permit = Permit(person_id=person.id, country=data["country"],
                        permit_no=data["permit_no"])
        session.add(permit)
    elif permit.revoked_at is not None and aware(permit.revoked_at) <= event.occurred_at:
        permit.revoked_at = None  # issued (again) after the revocation: a renewal
    permit.type = data["permit_type"]
    permit.issued_on = data["issued_on"]
    permit.expires_on = data["expires_on"]
    permit.event_id = row.id
    if placement is not None:
        permit.placement_id = placement.id
        row.placement_id = placement.id
    return APPLIED


def _permit_revoked(session: Session, row: PartnerEvent, event: Event, person: Person,
                    _source: str) -> Outcome:
    data = event.data
    query = select(Permit).where(Permit.permit_no == data["permit_no"])
    query = query.where(Permit.country == data["country"]) if data["country"] else query.where(
        Permit.person_id == person.id)
    permit = session.scalar(query.order_by(Permit.id.desc()).limit(1))
    if permit is not None and permit.person_id != person.id:
        return Outcome("rejected", "permit_conflict",
                       f"permit {data['permit_no']} belongs to someone else", "data.permit_no")
    if permit is None:
        if not data["country"]:
            return Outcome("rejected", "unknown_permit",
                           f"no permit {data['permit_no']} is on record for this person; send "
                           "data.country to record the revocation", "data.permit_no")
        # Heard of the revocation first: keep it, so the permit stays revoked when it arrives.
        permit = Permit(person_id=person.id, country=data["country"],
                        permit_no=data["permit_no"])
        session.add(permit)
    if permit.revoked_at is not None:
        return MATCHED
    permit.revoked_at = event.occurred_at
    permit.event_id = row.id
    row.placement_id = permit.placement_id
    return APPLIED


def _police_alert(session: Session, row: PartnerEvent, event: Event) -> Outcome:
    """Hold the agency's listings, count the alert, flag its recruits, warn people (a job)."""
    data = event.data
    agency = None
    if data["licence_no"]:
        agency = session.scalar(select(Agency).join(Licence, Licence.agency_id == Agency.id)
                                .where(Licence.licence_no == data["licence_no"]))
    if agency is None and data["phone"]:
        agency = session.scalar(select(Agency).where(Agency.phone == data["phone"])
                                .order_by(Agency.id).limit(1))
    recruits_by_phone = data["phone"] is not None and session.scalar(
        select(func.count()).select_from(DepartureDeclaration)
        .where(DepartureDeclaration.agent_phone == data["phone"])) > 0
    if agency is None and not recruits_by_phone:
        return UNMATCHED
    licence_no = data["licence_no"]
    if agency is not None and licence_no is None:
        licence_no = session.scalar(select(Licence.licence_no)
                                    .where(Licence.agency_id == agency.id))
    alert = PoliceAlert(agency_id=agency.id if agency else None, licence_no=licence_no,
                        phone=data["phone"], reason=data["reason"], event_id=row.id,
                        raised_at=event.occurred_at)
    session.add(alert)
    session.flush()
    if agency is not None:
        session.execute(update(Agency).where(Agency.id == agency.id)
                        .values(police_alerts=Agency.police_alerts + 1))
        hold_open_listings(session, agency.id, f"police alert: {data['reason']}")
        irregular.recompute_agency(session, agency.id)
    if recruits_by_phone:
        irregular.recompute(session, where=[Placement.id.in_(
            select(DepartureDeclaration.placement_id)
            .where(DepartureDeclaration.agent_phone == data["phone"]))])
    defer(session, warn_job(alert.id))
    return APPLIED


_EFFECTS = {
    "immigration.departure": _departure,
    "immigration.arrival": _arrival,
    "permit.issued": _permit_issued,
    "permit.revoked": _permit_revoked,
}


def occurred(row: PartnerEvent) -> datetime | None:
    """Give when the event happened, timezone-aware."""
    return aware(row.occurred_at)
