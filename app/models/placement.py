"""Where a person is going or working abroad, and every step of getting there.

Check-ins read ``country`` and ``arrived_at``; the person, agencies, immigration and
destination countries drive the transitions.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

PLACEMENT_STATES = (
    "applied", "offered", "contracted", "visa_issued", "departed", "arrived", "employed",
    "ended", "returned",
)
"""The placement path, in order; ``employed`` repeats on each job change."""

ABROAD_STATES = ("departed", "arrived", "employed")
"""States in which the person is (or is about to be) outside Kenya."""

ANALYTICS_INCLUDE = ("status", "departed_on", "ended_at", "created_at", "occupation")
"""Columns the analytics indexes carry, so "abroad on a day" is decided from the index."""


class Placement(Base):
    """One person's journey to one job abroad."""

    __tablename__ = "placements"
    # Analytics: migrants by country, agency and employer are counted from these in
    # (key, person) order, without touching the table (bench/national_scale.py).
    __table_args__ = (
        *(Index(f"ix_placements_{key}_person", key, "person_id",
                postgresql_include=list(ANALYTICS_INCLUDE))
          for key in ("country", "agency_id", "employer_id")),
        Index("ix_placements_person_analytics", "person_id",
              postgresql_include=[*ANALYTICS_INCLUDE, "country", "agency_id"]),
        # The console's irregular worklists: a page is a range of this, in page order.
        Index("ix_placements_irregular_worklist", "country", "departed_on", "id",
              postgresql_where=text("irregular"), sqlite_where=text("irregular")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(index=True)
    listing_id: Mapped[int | None] = mapped_column(index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    occupation: Mapped[str | None] = mapped_column(String(40))
    visa_type: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="applied", index=True)
    departed_on: Mapped[date | None] = mapped_column(Date)
    arrived_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    next_of_kin_phone: Mapped[str | None] = mapped_column(String(20))
    irregular: Mapped[bool] = mapped_column(default=False, index=True)
    irregular_reasons: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlacementTransition(Base):
    """One step of a placement, with who said so and on what evidence."""

    __tablename__ = "placement_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(20))  # person|agency|immigration|destination|staff
    source_ref: Mapped[str | None] = mapped_column(String(100))
    evidence: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
