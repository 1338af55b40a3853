"""The NEA register of private employment agencies, their licences and what people say."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

LICENCE_STATUSES = ("valid", "suspended", "revoked", "expired")
"""What a licence can be, as the register CSV spells it."""


class Agency(Base):
    """A recruitment agency on the register, with its risk signals."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-case letters and digits only, "ltd"/"limited" dropped: for forgiving search.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    physical_address: Mapped[str | None] = mapped_column(String(300))
    complaints_count: Mapped[int] = mapped_column(Integer, default=0)
    placements_count: Mapped[int] = mapped_column(Integer, default=0)
    listings_total: Mapped[int] = mapped_column(Integer, default=0)
    listings_rejected: Mapped[int] = mapped_column(Integer, default=0)
    police_alerts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    licence: Mapped[Licence] = relationship(back_populates="agency", uselist=False)
    directors: Mapped[list[Director]] = relationship(back_populates="agency",
                                                     cascade="all, delete-orphan")


class Licence(Base):
    """An agency's licence as the register last said; its history is in LicenceChange."""

    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    licence_no: Mapped[str] = mapped_column(String(40), unique=True)
    # What the register row said, and what is in force once expiry is applied.
    register_status: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), index=True)
    expires_on: Mapped[date | None] = mapped_column(Date)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="licence")


class LicenceChange(Base):
    """One change of a licence's status or expiry: when, and how we learned it."""

    __tablename__ = "licence_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    old_status: Mapped[str | None] = mapped_column(String(12))
    new_status: Mapped[str] = mapped_column(String(12))
    old_expires_on: Mapped[date | None] = mapped_column(Date)
    new_expires_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(80))  # e.g. "import:register.csv", "licence-watch"
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)
    warned_at: Mapped[datetime | None]  # when people who relied on the agency were warned


class Director(Base):
    __tablename__ = "directors"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), index=True)

    agency: Mapped[Agency] = relationship(back_populates="directors")


class AgencyCheck(Base):
    """Someone checked an agency: kept 90 days so they can be warned if it changes."""

    __tablename__ = "agency_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AgencyComplaint(Base):
    """A report against an agency: fee demanded, passport kept, fake job, other."""

    __tablename__ = "agency_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    text: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyApiKey(Base):
    """An agency's API key; only its SHA-256 hash is stored."""

    __tablename__ = "agency_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RegisterImport(Base):
    """One import of the licence register: its date is 'the register's last update'."""

    __tablename__ = "register_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
