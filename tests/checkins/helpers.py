"""People abroad and AT's incoming-SMS callback, for the check-in tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.models import CheckIn, Contact, Message, Person, Placement

_ids = itertools.count(1)


def abroad(svc, phone: str, *, arrived_at: datetime, country: str = "SA",
           status: str = "arrived", lang: str | None = None, paused: bool = False,
           person_lang: str | None = None) -> int:
    """Store a placement abroad (and its Contact or Person when asked); give its id."""
    with svc.db.session() as session:
        person_id = None
        if person_lang is not None:
            person = Person(phone=phone, lang=person_lang, consent_version="v1",
                            consent_channel="ussd", consent_at=arrived_at, status="active")
            session.add(person)
            session.flush()
            person_id = person.id
        if lang is not None or paused:
            session.add(Contact(phone=phone, lang=lang, checkins_paused=paused))
        placement = Placement(phone=None if person_id else phone, person_id=person_id,
                              country=country, status=status, arrived_at=arrived_at)
        session.add(placement)
        session.flush()
        return placement.id


def local_time(zone: str, hour: int, days_ago: int = 0, now: datetime | None = None) -> datetime:
    """Give (in UTC) the latest ``hour``:00 in ``zone`` at least ``days_ago`` days before now."""
    now = (now or datetime.now(UTC)) - timedelta(days=days_ago)
    local = now.astimezone(ZoneInfo(zone)).replace(hour=hour, minute=0, second=0, microsecond=0)
    if local > now:
        local -= timedelta(days=1)
    return local.astimezone(UTC)


def sms(client, sender: str, text: str) -> str:
    """Post one incoming SMS exactly as AT does; give its AT id."""
    at_id = f"ATXid_ci{next(_ids)}_{int(datetime.now(UTC).timestamp() * 1000)}"
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": at_id, "linkId": f"SampleLinkId{next(_ids)}", "networkCode": "42001",
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    return at_id


def checkins(svc, placement_id: int | None = None) -> list[CheckIn]:
    with svc.db.Session() as session:
        query = select(CheckIn).order_by(CheckIn.id)
        if placement_id is not None:
            query = query.where(CheckIn.placement_id == placement_id)
        return list(session.scalars(query))


def messages(svc, phone: str | None = None) -> list[Message]:
    with svc.db.Session() as session:
        query = select(Message).order_by(Message.id)
        if phone is not None:
            query = query.where(Message.to_phone == phone)
        return list(session.scalars(query))


def count(svc, model) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
