"""A registered job seeker: keyed by phone plus national ID, consent recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Person(Base):
    __tablename__ = "people"
    # Analytics: placements are broken down by county and gender by merging this with
    # ``ix_placements_person_analytics``, both read in id order from the index.
    __table_args__ = (Index("ix_people_id_profile", "id",
                            postgresql_include=["county_code", "gender", "occupation"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reg_no: Mapped[str | None] = mapped_column(String(16), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    full_name: Mapped[str | None] = mapped_column(String(80))
    # National ID: Fernet ciphertext plus an HMAC blind index for exact lookups.
    national_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_bidx: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Passport: declared before departure; the same scheme, so partner events match it.
    # Unique like the national ID: one passport, one person, so a match is never ambiguous.
    passport_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    passport_bidx: Mapped[str | None] = mapped_column(String(64), unique=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(10))
    county_code: Mapped[int | None] = mapped_column(Integer, index=True)
    education: Mapped[str | None] = mapped_column(String(20))
    occupation: Mapped[str | None] = mapped_column(String(40), index=True)
    work_where: Mapped[str | None] = mapped_column(String(10))
    destinations: Mapped[str | None] = mapped_column(String(60))
    lang: Mapped[str] = mapped_column(String(5), default="en")
    minor_abroad: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_version: Mapped[str] = mapped_column(String(20))
    consent_channel: Mapped[str] = mapped_column(String(10))
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    source_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    @property
    def first_name(self) -> str:
        return (self.full_name or "").split(" ")[0]

    def __repr__(self) -> str:  # never show personal data in logs
        return f"<Person {self.id} {self.reg_no}>"


def reg_no_for(person_id: int) -> str:
    """Give a registration number with a Luhn check digit, e.g. ``KS00001238``."""
    digits = f"{person_id:07d}"
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return f"KS{digits}{(10 - total % 10) % 10}"
