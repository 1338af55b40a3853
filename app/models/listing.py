"""Job listings agencies submit for validation, and the employers they name."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models.agency import Agency

PENDING, APPROVED, REJECTED, NEEDS_REVIEW, HELD = (
    "pending", "approved", "rejected", "needs_review", "held",
)
LISTING_STATUSES = (PENDING, APPROVED, REJECTED, NEEDS_REVIEW, HELD)
"""Every status a listing can have: pending until the validation job decides; held when
its agency's licence stops being valid."""

OPEN_STATUSES = (PENDING, APPROVED, NEEDS_REVIEW)
"""Statuses of a listing that can still lead someone to a job, so a licence change holds it."""


class Employer(Base):
    """An employer abroad named by job listings; one row per name and country."""

    __tablename__ = "employers"
    __table_args__ = (UniqueConstraint("name_key", "country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-case letters and digits only: "Al-Noor Ltd." and "al noor ltd" are one employer.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobListing(Base):
    """A job an agency wants to advertise, known to the public by its 6-character code."""

    __tablename__ = "job_listings"
    __table_args__ = (Index("ix_job_listings_agency_status", "agency_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    occupation: Mapped[str] = mapped_column(String(40))
    # The destination is where the employer is; kept here too so checks need no join.
    destination: Mapped[str | None] = mapped_column(String(2), index=True)
    salary_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    salary_currency: Mapped[str | None] = mapped_column(String(3))
    salary_period: Mapped[str | None] = mapped_column(String(5))
    hours_per_week: Mapped[int | None] = mapped_column(Integer)
    vacancies: Mapped[int | None] = mapped_column(Integer)
    contract_languages: Mapped[list[str] | None] = mapped_column(JSON)
    worker_fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    worker_fee_currency: Mapped[str | None] = mapped_column(String(3))
    visa_type: Mapped[str | None] = mapped_column(String(10))
    closing_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=PENDING, index=True)
    # [{"rule": "worker_fee", "severity": "reject", "message": "..."}], set by validation.
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    validated_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    held_reason: Mapped[str | None] = mapped_column(String(200))
    # What the listing was before a hold, so lifting the hold can put it back.
    status_before_hold: Mapped[str | None] = mapped_column(String(12))
    # The JSON body exactly as the agency sent it (after it passed the API's checks).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(20), default="api")

    agency: Mapped[Agency] = relationship()
    employer: Mapped[Employer | None] = relationship()
