"""Commit a pre-departure declaration: the placement, the passport, the rights SMS.

The journey is ``menus/departure.py``. Its port (``departure``) reads what the
screens show inline: an agency's licence in force today, a listing by code, and
whether a passport number is someone else's. ``DepartureDeclared`` stores the
declaration (once per session), the passport on the person (Fernet ciphertext
plus the ``passport`` blind index), creates or moves on the person's placement
(source ``person``), records an agency check (so a licence change warns them),
and queues the SMS of their rights, plus one of the warnings when there were
red flags. The red flags are worked out again here from the register and the
listing as they are at commit time, not from what the session remembered.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.agencies import checks
from app.events import Hop, handles
from app.extensions import Services
from app.i18n import translate
from app.keywords import active_person
from app.listings.service import employer_for, find_by_code
from app.models import Agency, Person, Placement
from app.models.departure import DepartureDeclaration
from app.models.placement import PLACEMENT_STATES
from app.placements.irregular import recompute_person
from app.placements.service import TransitionError, allowed, open_placement, transition
from app.ports import Known, port
from app.protection import safeguarding
from app.sms.outbox import queue_sms
from menus.departure import red_flags
from menus.engine import Event

log = logging.getLogger(__name__)

PRE_DEPARTURE = ("applied", "offered", "contracted", "visa_issued")
"""States of a placement a declaration may update rather than start anew."""

FLAG_WORDS = {
    "agency_not_valid": "sms.dep_flag.agency",
    "visa_not_for_work": "sms.dep_flag.visa",
    "conflict_destination": "sms.dep_flag.conflict",
    "listing_not_approved": "sms.dep_flag.listing",
}
"""How the warning SMS names each red flag, shortly."""


def passport_index(svc: Services, passport: str) -> str:
    """Give the blind index a passport number is found by."""
    return svc.cipher.blind_index("passport", passport)


def passport_holder(svc: Services, session: Session, passport: str) -> Person | None:
    """Give the person holding this passport number, if any."""
    return session.scalar(select(Person).where(Person.passport_bidx == passport_index(svc,
                                                                                       passport)))


def agency_facts(session: Session, agency_id: int | None) -> dict[str, Any] | None:
    """Give an agency's name, licence number and the status in force today."""
    if agency_id is None:
        return None
    found = checks.answer(session, int(agency_id))
    if found is None:
        return None
    return {"id": found.agency_id, "name": found.name, "licence_no": found.licence_no,
            "status": found.status,
            "expires_on": found.expires_on.isoformat() if found.expires_on else None}


def listing_facts(session: Session, code: str | None) -> dict[str, Any] | None:
    """Give a listing's id, status, destination and agency by its public code."""
    listing = find_by_code(session, code) if code else None
    if listing is None:
        return None
    return {"id": listing.id, "code": listing.code, "status": listing.status,
            "country": listing.destination, "agency_id": listing.agency_id}


@port("departure")
class DeparturePort:
    """Lookups the departure declaration shows inline."""

    def __init__(self, svc: Services, known: Known) -> None:
        self.svc = svc

    def agency(self, agency_id: int) -> dict[str, Any] | None:
        with self.svc.db.Session() as session:
            return agency_facts(session, agency_id)

    def listing(self, code: str) -> dict[str, Any] | None:
        with self.svc.db.Session() as session:
            return listing_facts(session, code)

    def passport_taken(self, passport: str, own_phone: str | None) -> bool:
        """Tell whether someone other than the caller holds this passport number."""
        with self.svc.db.Session() as session:
            holder = passport_holder(self.svc, session, passport)
            return holder is not None and (holder.phone is None or holder.phone != own_phone)


def declare(svc: Services, session: Session, phone: str, ref: str, data: dict[str, Any],
            lang: str, channel: str = "ussd") -> DepartureDeclaration | None:
    """Store the declaration and everything it means; once per session ``ref``."""
    source_ref = f"{channel}:{ref}"[:100]
    existing = session.scalar(select(DepartureDeclaration)
                              .where(DepartureDeclaration.source_ref == source_ref))
    if existing is not None:  # the same hop, replayed
        return existing
    person = active_person(session, phone)
    if person is None:  # withdrew in another session meanwhile: nothing to attach to
        return None
    country = str(data["dep_country"])
    agency = agency_facts(session, (data.get("dep_agency") or {}).get("id"))
    code = data.get("dep_job_code") or None
    listing = listing_facts(session, code)
    visa = str(data["dep_visa"])
    flags = red_flags({**data, "dep_agency": agency, "dep_job": listing})
    employer = employer_for(session, str(data["dep_employer"]), country)
    declaration = DepartureDeclaration(
        person_id=person.id, phone=phone, country=country,
        agency_id=agency["id"] if agency else None,
        agency_status=agency["status"] if agency else "none",
        agency_query=(str(data.get("dep_agency_query") or "")[:60] or None),
        agent_phone=data.get("dep_agent_phone") or None,
        listing_id=listing["id"] if listing else None, listing_code=code,
        listing_status=listing["status"] if listing else ("unknown" if code else None),
        employer_name=str(data["dep_employer"])[:60], employer_id=employer.id,
        departure_on=date.fromisoformat(str(data["dep_date"])), visa_type=visa,
        next_of_kin_phone=str(data["dep_kin"]), red_flags=flags, channel=channel[:10],
        source_ref=source_ref,
    )
    session.add(declaration)
    session.flush()
    if safeguarding.may_be_minor(person):
        # A child leaving to work abroad: the declaration is kept (it is what we know
        # of the journey) and NEA is told, as when an agency tries to place a minor.
        safeguarding.flag_minor_departure(session, person, declaration)
    _store_passport(svc, session, person, str(data["dep_passport"]), source_ref)
    placement = _place(session, person, declaration, agency, listing, source_ref)
    declaration.placement_id = placement.id
    if agency:
        checks.record_check(session, agency["id"], phone, channel)
    _queue_sms(svc, session, person, declaration, lang)
    recompute_irregular(session, person.id)
    log.info("departure declaration %d: placement %d, %d red flag(s)", declaration.id,
             placement.id, len(flags))
    return declaration


def _store_passport(svc: Services, session: Session, person: Person, passport: str,
                    source_ref: str) -> None:
    """Keep the passport on the person, unless someone else holds that number."""
    holder = passport_holder(svc, session, passport)
    if holder is not None and holder.id != person.id:
        # Checked on the screen a moment ago; a clash now is a race or a fraud to look at.
        safeguarding.flag_passport_clash(session, person, holder.id, source_ref)
        return
    person.passport_enc = svc.cipher.encrypt(passport)
    person.passport_bidx = passport_index(svc, passport)


def _place(session: Session, person: Person, declaration: DepartureDeclaration,
           agency: dict[str, Any] | None, listing: dict[str, Any] | None,
           source_ref: str) -> Placement:
    """Move the person's placement for this trip on, or start one; source ``person``."""
    target = "contracted" if declaration.visa_type == "none" else "visa_issued"
    agency_id = agency["id"] if agency else None
    placement = open_placement(session, person_id=person.id)
    if placement is not None and not (
        placement.status in PRE_DEPARTURE
        and placement.country in (None, declaration.country)
        and (placement.agency_id is None or agency_id is None
             or placement.agency_id == agency_id)
    ):
        placement = None  # another trip (or another agency's): this one is new
    new = placement is None
    if new:
        placement = Placement(person_id=person.id, phone=person.phone,
                              occupation=person.occupation)
    placement.country = declaration.country
    placement.agency_id = agency_id or placement.agency_id
    placement.listing_id = (listing["id"] if listing else None) or placement.listing_id
    placement.employer_id = placement.employer_id or declaration.employer_id
    placement.visa_type = None if declaration.visa_type == "none" else declaration.visa_type
    placement.next_of_kin_phone = declaration.next_of_kin_phone
    placement.phone = placement.phone or person.phone
    current = None if new else placement.status
    if current is None or (allowed(current, target)
                           and PLACEMENT_STATES.index(target) > PLACEMENT_STATES.index(current)):
        try:
            transition(session, placement, target, source="person", source_ref=source_ref,
                       evidence=f"pre-departure declaration {declaration.id}")
        except TransitionError as exc:  # e.g. an agency step dated ahead of the clock
            log.warning("declaration %d: placement not moved (%s)", declaration.id, exc.code)
    if placement.id is None:
        session.add(placement)
        session.flush()
    if new and placement.agency_id:
        session.execute(update(Agency).where(Agency.id == placement.agency_id)
                        .values(placements_count=Agency.placements_count + 1))
    return placement


def _queue_sms(svc: Services, session: Session, person: Person,
               declaration: DepartureDeclaration, lang: str) -> None:
    """Queue the rights SMS, and the warnings SMS when there were red flags."""
    values = {"first_name": person.first_name[:20],
              "service_code": svc.config["USSD_SERVICE_CODE"]}
    queue_sms(session, declaration.phone, translate(lang, "sms.dep_rights", **values),
              kind="departure_rights", dedupe_key=f"dep-rights:{declaration.id}",
              person_id=person.id)
    if declaration.red_flags:
        flags = "; ".join(translate(lang, FLAG_WORDS[flag]) for flag in declaration.red_flags)
        queue_sms(session, declaration.phone,
                  translate(lang, "sms.dep_warning", flags=flags, **values),
                  kind="departure_warning", dedupe_key=f"dep-warn:{declaration.id}",
                  person_id=person.id)


def recompute_irregular(session: Session, person_id: int | None) -> None:
    """Ask the irregular-migration detection to look at this person's placements again."""
    if person_id is None:
        return
    recompute_person(session, person_id)


@handles("DepartureStarted")
def _departure_started(hop: Hop, event: Event) -> None:
    """Remember the caller's number, so it can be refused as their relative's."""
    hop.state["data"]["dep_phone"] = hop.phone


@handles("DepartureDeclared")
def _departure_declared(hop: Hop, event: Event) -> None:
    """Store the declaration, the passport and the placement; queue the SMS."""
    declare(hop.svc, hop.session, hop.phone, hop.ref, dict(event.data), hop.lang,
            channel=hop.channel)
