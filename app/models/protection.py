"""Protection abroad: consular officers, distress cases, escalations and check-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

CATEGORIES = (
    "unpaid_wages", "passport_held", "abuse", "confinement", "deception", "forced_work",
    "medical", "detention", "wants_return", "other",
)
"""Case categories (abuse covers abuse and violence; forced_work covers forced or military
work; deception covers contract substitution)."""

SEVERITIES = ("critical", "high", "normal")
"""Severity sets the escalation clock (ESCALATION_SLA_SECONDS)."""


class Officer(Base):
    """A consular officer with a phone, on a mission's duty roster."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    mission_code: Mapped[str] = mapped_column(String(10), index=True)
    role: Mapped[str] = mapped_column(String(12), default="duty")  # duty | supervisor
    on_duty: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A distress report and everything done about it."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_next", "status", "next_escalation_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(12), unique=True)
    reporter_phone: Mapped[str] = mapped_column(String(20), index=True)
    reporter_is_subject: Mapped[bool] = mapped_column(default=True)
    subject_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    subject_name: Mapped[str | None] = mapped_column(String(120))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    mission_code: Mapped[str] = mapped_column(String(10), index=True)
    category: Mapped[str | None] = mapped_column(String(20), index=True)
    severity: Mapped[str] = mapped_column(String(10), index=True)
    indicators: Mapped[str | None] = mapped_column(String(300))  # comma-separated ILO ids
    channel: Mapped[str] = mapped_column(String(10))  # sms | ussd | checkin | staff
    first_text: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default="en")
    status: Mapped[str] = mapped_column(String(14), default="open", index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    closed_at: Mapped[datetime | None]
    close_note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseEvent(Base):
    """One line of a case's timeline: opened, message, escalated, ack, note, closed…"""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(60))  # "reporter", "officer:12", "system"
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The report this event records (``sms:<inbound id>``, ``ussd:<session>``…): a replayed
    # report finds its event and changes nothing.
    source_ref: Mapped[str | None] = mapped_column(String(100), unique=True)


class Escalation(Base):
    """One escalation level of a case: who was told, when it is due, when answered."""

    __tablename__ = "escalations"
    # One row per level per mission: two workers escalating at once cannot both win.
    __table_args__ = (UniqueConstraint("case_id", "level", "mission_code",
                                       name="uq_escalations_case_level_mission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 0 duty officers, 1 supervisor, 2 headquarters
    mission_code: Mapped[str] = mapped_column(String(10), index=True)
    # notified (SMS queued) | acked | expired (clock ran out) | skipped (nobody on duty)
    # | unrouted (nobody at all, retried every clock)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]


class CheckIn(Base):
    """One check-in SMS to a person abroad and what came of it."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_status_due", "status", "due_at"),
        # One check-in per placement and sequence: a second send_due run cannot send twice.
        UniqueConstraint("placement_id", "sequence", name="uq_checkins_placement_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by uq_checkins_placement_sequence, which starts with it.
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="due")  # due|sent|answered|missed
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    batch: Mapped[int | None]
    """The send job this check-in's SMS went out in (its first message id), for the reconciler."""
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(10))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
