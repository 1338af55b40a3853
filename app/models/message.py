"""SMS in and out, and the USSD end-of-session reports AT sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
"""An outbound message moves pending -> sending -> sent | failed (retries go back to pending)."""


class Message(Base):
    """One outbound SMS to one number; the row exists before any job sends it."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_phone: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30))
    queue: Mapped[str] = mapped_column(String(10), default="default")
    # Never send one twice: the same dedupe key can only be queued once.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    at_message_id: Mapped[str | None] = mapped_column(String(80), index=True)
    status_code: Mapped[int | None]
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_reason: Mapped[str | None] = mapped_column(String(40))
    cost: Mapped[str | None] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(index=True)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.kind} {self.status}>"


class InboundSms(Base):
    """An SMS a person sent us; AT's ``id`` makes a retried callback a no-op."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    at_id: Mapped[str] = mapped_column(String(80), unique=True)
    from_phone: Mapped[str] = mapped_column(String(20), index=True)
    to_code: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    link_id: Mapped[str | None] = mapped_column(String(80))
    network_code: Mapped[str | None] = mapped_column(String(10))
    sent_at: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="received")
    route: Mapped[str | None] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class UssdEvent(Base):
    """AT's end-of-session report for one USSD session."""

    __tablename__ = "ussd_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(100), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    hops: Mapped[int | None]
    duration_ms: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(200))
    cost: Mapped[str | None] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
