"""Integration partners and what they tell us: movements, permits and police alerts.

Immigration, police and destination-country systems post signed events to
``POST /api/v1/events``. Each event is kept once per partner and event id, matched
to a person by blind index, and its effect recorded here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

PARTNER_KINDS = ("immigration", "police", "destination")
"""Who a partner is; each kind may send only its own event types."""

EVENT_STATUSES = ("matched", "unmatched", "applied", "rejected")
"""What became of an event: ``applied`` (it changed our records), ``matched`` (the
person is known but there was nothing new to record), ``unmatched`` (nobody we know:
kept for review) or ``rejected`` (it contradicts our records: kept for review)."""

PERMIT_TYPES = ("work", "visit", "tourist", "student")
"""Kinds of permit or visa a destination country issues."""

MOVEMENT_KINDS = ("departure", "arrival")
"""Crossings of Kenya's border: leaving, or coming home."""


class Partner(Base):
    """An immigration, police or destination-country system allowed to post events."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    # The HMAC secret, Fernet-encrypted: verifying a signature needs it in clear.
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerEvent(Base):
    """One event a partner posted, kept once per (partner, event id) whatever came of it."""

    __tablename__ = "partner_events"
    __table_args__ = (
        # A replay, even a concurrent one, cannot insert a second row: no second effect.
        UniqueConstraint("partner_id", "event_id", name="uq_partner_events_partner_event"),
        Index("ix_partner_events_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime]
    # The body exactly as signed, encrypted: it carries national ID and passport numbers.
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # Blind indexes of the identifiers it named, so an unmatched event can be matched later.
    national_id_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    passport_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Permit(Base):
    """A work permit or visa a destination country issued to a person, and its revocation."""

    __tablename__ = "permits"
    __table_args__ = (
        UniqueConstraint("country", "permit_no", name="uq_permits_country_permit_no"),
        Index("ix_permits_person_country", "person_id", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    permit_no: Mapped[str] = mapped_column(String(40))
    # None only for a revocation heard of before the permit itself.
    type: Mapped[str | None] = mapped_column(String(10))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    revoked_at: Mapped[datetime | None]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("partner_events.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Movement(Base):
    """A person leaving or coming back to Kenya, as immigration recorded it."""

    __tablename__ = "movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    port: Mapped[str | None] = mapped_column(String(40))
    # Where the person went (departure) or came from (arrival), if immigration said.
    country: Mapped[str | None] = mapped_column(String(2))
    occurred_at: Mapped[datetime]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("partner_events.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PoliceAlert(Base):
    """Police warned about an agency or a recruiter's phone number."""

    __tablename__ = "police_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    licence_no: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("partner_events.id"), unique=True)
    raised_at: Mapped[datetime]
    warned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
