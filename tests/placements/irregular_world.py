"""People abroad with their papers, for the irregular tests: placements, permits, days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.db import utcnow
from app.listings.service import today
from app.models import Permit, Placement
from tests.partners.helpers import declare

TODAY = today()
DEPARTED = TODAY - timedelta(days=60)


def place(svc, person_id: int | None, *, status: str = "employed", country: str = "SA",
          agency_id: int | None = None, listing_id: int | None = None,
          visa_type: str | None = "work", departed_on: date | None = DEPARTED,
          agent_phone: str | None = None) -> int:
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone="+254712345678", country=country,
                              status=status, agency_id=agency_id, listing_id=listing_id,
                              visa_type=visa_type, departed_on=departed_on)
        session.add(placement)
        session.flush()
        if agent_phone:
            declare(session, placement, agent_phone=agent_phone)
        return placement.id


def give_permit(svc, person_id: int, *, permit_no: str = "IQ-1", type_: str = "work",
                country: str = "SA", issued_on: date | None = DEPARTED + timedelta(days=5),
                expires_on: date | None = TODAY + timedelta(days=300),
                revoked: bool = False) -> None:
    with svc.db.session() as session:
        session.add(Permit(person_id=person_id, country=country, permit_no=permit_no, type=type_,
                           issued_on=issued_on, expires_on=expires_on,
                           revoked_at=utcnow() if revoked else None))


def at(day: date) -> datetime:
    """Give 09:00 UTC on ``day``: still that calendar day in Kenya."""
    return datetime.combine(day, time(9), UTC)
