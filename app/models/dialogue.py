"""An SMS dialogue in progress: the same journeys as USSD, one reply at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class SmsDialogue(Base):
    """The engine state of one number's open SMS dialogue (encrypted: it holds answers)."""

    __tablename__ = "sms_dialogues"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    ref: Mapped[str] = mapped_column(String(100))
    state_enc: Mapped[bytes] = mapped_column(LargeBinary)
    step: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime]
