"""What we know about a phone number before, or without, a registration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Contact(Base):
    """A phone number's preferences: its language and whether check-ins are paused."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    lang: Mapped[str | None] = mapped_column(String(5))
    checkins_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RegistrationDraft(Base):
    """A registration cut off mid-way, kept encrypted so the person can resume."""

    __tablename__ = "registration_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    session_id: Mapped[str] = mapped_column(String(100))
    state_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class SafeguardingFlag(Base):
    """A concern raised by the system itself, e.g. a minor asking to work abroad."""

    __tablename__ = "safeguarding_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    person_id: Mapped[int | None]
    details: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
