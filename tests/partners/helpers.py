"""Partners, people, agencies and signed events for the partner-event tests."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.db import utcnow
from app.listings.service import name_key
from app.models import (
    Agency,
    AgencyCheck,
    JobListing,
    Licence,
    LicenceChange,
    PartnerEvent,
    Person,
    Placement,
)
from app.models.departure import DepartureDeclaration
from app.models.person import reg_no_for
from app.partners.registry import add_partner
from app.partners.signing import signed_headers

_ids = itertools.count(1)


def new_partner(svc, kind: str = "immigration", name: str | None = None) -> tuple[int, str]:
    """Register a partner; give its id and secret."""
    with svc.db.session() as session:
        partner, secret = add_partner(session, svc.cipher, name or f"{kind} test", kind)
        return partner.id, secret


def add_person(svc, national_id: str = "12345678", phone: str = "+254712345678",
               lang: str = "en") -> int:
    """Register a person the way registration stores one; give the person id."""
    with svc.db.session() as session:
        person = Person(phone=phone, full_name="Amina Wanjiku",
                        national_id_enc=svc.cipher.encrypt(national_id),
                        national_id_bidx=svc.cipher.blind_index("national_id", national_id),
                        lang=lang, consent_version="v1", consent_channel="ussd",
                        consent_at=utcnow(), status="active", occupation="domestic_worker")
        session.add(person)
        session.flush()
        person.reg_no = reg_no_for(person.id)
        return person.id


def add_agency(svc, licence_no: str = "NEA/PEA/2024/0001", status: str = "valid",
               name: str = "Example Recruitment Ltd", phone: str | None = "+254711000001",
               expires_on: date | None = date(2099, 12, 31),
               history: list[tuple[datetime, str | None, str]] | None = None,
               address: str | None = None) -> int:
    """Put an agency on the register, optionally with its licence history; give its id.

    ``history`` is ``[(learned_at, old_status, new_status), ...]``.
    """
    with svc.db.session() as session:
        agency = Agency(name=name, name_key=name_key(name), phone=phone,
                        physical_address=address, complaints_count=0, placements_count=0,
                        listings_total=0, listings_rejected=0, police_alerts=0)
        session.add(agency)
        session.flush()
        licence = Licence(agency_id=agency.id, licence_no=licence_no, register_status=status,
                          status=status, expires_on=expires_on)
        session.add(licence)
        session.flush()
        for learned_at, old, new in history or []:
            session.add(LicenceChange(licence_id=licence.id, old_status=old, new_status=new,
                                      new_expires_on=expires_on, source="test",
                                      learned_at=learned_at))
        return agency.id


def add_listing(svc, agency_id: int, status: str = "approved", country: str = "SA") -> int:
    with svc.db.session() as session:
        listing = JobListing(code=f"T{next(_ids):05d}"[:6], agency_id=agency_id,
                             title="House help", occupation="domestic_worker",
                             destination=country, status=status, flags=[], payload={},
                             visa_type="work")
        session.add(listing)
        session.flush()
        return listing.id


def add_check(svc, agency_id: int, phone: str, days_ago: int = 5) -> None:
    with svc.db.session() as session:
        session.add(AgencyCheck(agency_id=agency_id, phone=phone, channel="ussd",
                                checked_at=utcnow() - timedelta(days=days_ago)))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def event(type_: str, *, event_id: str | None = None, occurred_at: datetime | None = None,
          national_id: str | None = "12345678", passport: str | None = None,
          data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build an event body as docs/interface.md describes it."""
    body: dict[str, Any] = {"id": event_id or f"evt-{next(_ids):06d}", "type": type_,
                            "occurred_at": iso(occurred_at or days_ago(1)), "data": data or {}}
    person = {}
    if national_id:
        person["national_id"] = national_id
    if passport:
        person["passport"] = passport
    if type_ != "police.alert":
        body["person"] = person
    return body


def departure(country: str = "SA", **kwargs: Any) -> dict[str, Any]:
    data = {"country": country, "port": "JKIA", "visa_type": kwargs.pop("visa_type", "work")}
    return event("immigration.departure", data=data, **kwargs)


def permit(permit_no: str = "IQ-1001", permit_type: str = "work", expires_on: str = "2099-01-01",
           country: str = "SA", **kwargs: Any) -> dict[str, Any]:
    data = {"country": country, "permit_no": permit_no, "permit_type": permit_type,
            "expires_on": expires_on}
    data.update(kwargs.pop("extra", {}))
    return event("permit.issued", data=data, **kwargs)


class PartnerClient:
    """A partner posting signed events through the test client."""

    def __init__(self, client, partner_id: int, secret: str) -> None:
        self.client = client
        self.partner_id = partner_id
        self.secret = secret

    def post(self, body: dict[str, Any] | bytes, *, timestamp: int | None = None,
             secret: str | None = None, partner_id: int | str | None = None,
             headers: dict[str, str | None] | None = None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        sent = signed_headers(self.partner_id if partner_id is None else partner_id,
                              secret or self.secret, raw, stamp)
        for name, value in (headers or {}).items():
            if value is None:
                sent.pop(name, None)
            else:
                sent[name] = value
        return self.client.post("/api/v1/events", data=raw, headers=sent)


def count(svc, model, *where) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def placements(svc, person_id: int) -> list[Placement]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Placement).where(Placement.person_id == person_id)
                                    .order_by(Placement.id)))


def stored_event(svc, event_id: str) -> PartnerEvent:
    with svc.db.Session() as session:
        return session.scalars(select(PartnerEvent).where(PartnerEvent.event_id == event_id)).one()


def error(response) -> dict[str, Any]:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


def declare(session, placement, *, agent_phone: str | None = None,
            agency_query: str | None = None, phone: str | None = None,
            created_at: datetime | None = None) -> DepartureDeclaration:
    """Store a pre-departure declaration naming an agent (as the USSD journey does)."""
    declaration = DepartureDeclaration(
        person_id=placement.person_id if placement else None,
        placement_id=placement.id if placement else None,
        phone=phone or (placement.phone if placement else "+254700000000"),
        country=(placement.country if placement else None) or "SA",
        agency_id=placement.agency_id if placement else None,
        agency_status="none", agency_query=agency_query, agent_phone=agent_phone,
        employer_name="Al Noor", departure_on=date.today(), visa_type="work",
        next_of_kin_phone="+254700000001", red_flags=[],
        source_ref=f"test:{next(_ids)}", created_at=created_at or utcnow())
    session.add(declaration)
    session.flush()
    return declaration
