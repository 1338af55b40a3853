"""A person's own word before leaving Kenya: where, with whom, on what visa.

One row per confirmed USSD declaration ("I'm going abroad"). The placement it
created or updated carries the current state; this row keeps what the person
said and what was wrong with it at the time (the red flags they were warned
about), and the recruiter details cluster detection reads: the agency, the name
typed when it was not on the register, and the agent's phone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

RED_FLAGS = ("agency_not_valid", "visa_not_for_work", "conflict_destination",
             "listing_not_approved")
"""What a declaration warns about on the spot."""


class DepartureDeclaration(Base):
    """One confirmed pre-departure declaration, as the person made it."""

    __tablename__ = "departure_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The licence status in force on the day (valid|suspended|revoked|expired|none).
    agency_status: Mapped[str] = mapped_column(String(12))
    # What the person typed for the agency: an agent's or a fake agency's name when
    # nothing on the register matched (a cluster signal).
    agency_query: Mapped[str | None] = mapped_column(String(60), index=True)
    agent_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    listing_id: Mapped[int | None] = mapped_column(index=True)
    listing_code: Mapped[str | None] = mapped_column(String(6))
    listing_status: Mapped[str | None] = mapped_column(String(12))  # or "unknown"
    employer_name: Mapped[str] = mapped_column(String(60))
    employer_id: Mapped[int | None] = mapped_column(index=True)
    departure_on: Mapped[date] = mapped_column(Date)
    visa_type: Mapped[str] = mapped_column(String(10))  # work|visit|tourist|student|none
    next_of_kin_phone: Mapped[str] = mapped_column(String(20))
    red_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(10), default="ussd")
    source_ref: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
