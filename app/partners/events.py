"""Read a partner event body into an ``Event``, or say which field is wrong.

Every problem is a ``FieldError`` (answered 422 with ``error.field``): an unknown
``type`` is ``unknown_type``, a time in the future ``future_date``, anything else
``invalid``. Unknown keys are ignored, so a partner may send more than we read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.agencies.names import parse_licence
from app.listings.submission import VISA_TYPES, FieldError
from app.models.partner import PERMIT_TYPES
from app.phones import try_normalise
from app.reference.countries import is_known_country

TYPES: dict[str, str] = {
    "immigration.departure": "immigration",
    "immigration.arrival": "immigration",
    "permit.issued": "destination",
    "permit.revoked": "destination",
    "police.alert": "police",
}
"""Every event type, and the kind of partner allowed to send it."""

FUTURE_SKEW = timedelta(minutes=5)
"""How far past our clock ``occurred_at`` may be (clocks differ) before it is refused."""

OLDEST = datetime(2000, 1, 1, tzinfo=UTC)
"""Nothing we track happened before this; an earlier date is a typing error."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_NATIONAL_ID = re.compile(r"^(?:[0-9]{7,8}|[0-9]{14})$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERMIT_NO = re.compile(r"^[A-Z0-9][A-Z0-9/._-]{0,39}$")


@dataclass(frozen=True)
class Event:
    """A partner event that passed every check."""

    id: str
    type: str
    occurred_at: datetime
    national_id: str | None = None
    passport: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The partner kind allowed to send this type."""
        return TYPES[self.type]


def parse(body: Any, now: datetime) -> Event:
    """Check a decoded JSON body and give the event; raise FieldError on the first fault."""
    if not isinstance(body, dict):
        raise FieldError("body", "The body must be a JSON object.")
    event_id = body.get("id")
    if event_id is None:
        raise FieldError("id", "id is required.")
    if not isinstance(event_id, str) or not _ID.match(event_id):
        raise FieldError("id", "id must be 1 to 100 letters, digits or . _ : - characters.")
    kind = body.get("type")
    if kind is None:
        raise FieldError("type", "type is required.")
    if not isinstance(kind, str) or kind not in TYPES:
        raise FieldError("type", f"type must be one of: {', '.join(TYPES)}.", "unknown_type")
    occurred_at = _moment(body.get("occurred_at"), now)
    data = body.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FieldError("data", "data must be a JSON object.")
    national_id = passport = None
    if kind != "police.alert":
        national_id, passport = person_identifiers(body.get("person"))
    return Event(id=event_id, type=kind, occurred_at=occurred_at, national_id=national_id,
                 passport=passport, data=_DATA[kind](data, occurred_at))


def _moment(value: Any, now: datetime) -> datetime:
    if value is None:
        raise FieldError("occurred_at", "occurred_at is required.")
    text = value.strip() if isinstance(value, str) else ""
    try:
        moment = datetime.fromisoformat(text) if "T" in text else None
    except ValueError:
        moment = None
    if moment is None:
        raise FieldError("occurred_at", "occurred_at must be an ISO 8601 date-time such as "
                                        "2026-11-20T08:15:00Z.")
    if moment.tzinfo is None:
        raise FieldError("occurred_at", "occurred_at must carry a time zone (Z or +03:00).")
    moment = moment.astimezone(UTC)
    if moment > now + FUTURE_SKEW:
        raise FieldError("occurred_at", "occurred_at is in the future.", "future_date")
    if moment < OLDEST:
        raise FieldError("occurred_at", "occurred_at is before the year 2000.")
    return moment


def person_identifiers(person: Any) -> tuple[str | None, str | None]:
    """Check the event's person object; give its national ID and passport, normalised."""
    if person is None:
        raise FieldError("person", "person is required: national_id and/or passport.")
    if not isinstance(person, dict):
        raise FieldError("person", "person must be a JSON object.")
    national_id = _optional_text(person, "national_id", "person.national_id")
    passport = _optional_text(person, "passport", "person.passport")
    if national_id is not None:
        national_id = "".join(national_id.split())
        if not _NATIONAL_ID.match(national_id):
            raise FieldError("person.national_id", "person.national_id must be 7 or 8 digits, "
                                                   "or a 14-digit Maisha Namba.")
    if passport is not None:
        passport = "".join(passport.split()).upper()
        if not _PASSPORT.match(passport):
            raise FieldError("person.passport", "person.passport must be 5 to 20 letters or "
                                                "digits.")
    if national_id is None and passport is None:
        raise FieldError("person", "person needs a national_id or a passport.")
    return national_id, passport


def _optional_text(obj: dict, key: str, path: str, longest: int = 200) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise FieldError(path, f"{path} must be a text of 1 to {longest} characters.")
    return value.strip()


def _country(data: dict, required: bool, abroad: bool = False) -> str | None:
    value = data.get("country")
    if value is None:
        if required:
            raise FieldError("data.country", "data.country is required.")
        return None
    if not isinstance(value, str) or not _COUNTRY.match(value) or not is_known_country(value):
        raise FieldError("data.country", "data.country must be an ISO 3166-1 alpha-2 code "
                                         "such as SA.")
    if abroad and value == "KE":
        raise FieldError("data.country", "data.country is where the person went: not KE.")
    return value


def _date(data: dict, key: str, required: bool) -> date | None:
    value = data.get(key)
    path = f"data.{key}"
    if value is None:
        if required:
            raise FieldError(path, f"{path} is required.")
        return None
    try:
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(path, f"{path} must be a date such as 2027-06-30.") from None


def _choice(data: dict, key: str, allowed: tuple[str, ...], required: bool) -> str | None:
    value = data.get(key)
    path = f"data.{key}"
    if value is None:
        if required:
            raise FieldError(path, f"{path} is required.")
        return None
    if not isinstance(value, str) or value not in allowed:
        raise FieldError(path, f"{path} must be one of: {', '.join(allowed)}.")
    return value


def _permit_no(data: dict) -> str:
    value = _optional_text(data, "permit_no", "data.permit_no", 40)
    if value is None:
        raise FieldError("data.permit_no", "data.permit_no is required.")
    value = "".join(value.split()).upper()
    if not _PERMIT_NO.match(value):
        raise FieldError("data.permit_no", "data.permit_no must be letters, digits and / . _ -.")
    return value


def _departure(data: dict, _when: datetime) -> dict[str, Any]:
    return {"country": _country(data, required=True, abroad=True),
            "port": _optional_text(data, "port", "data.port", 40),
            "visa_type": _choice(data, "visa_type", VISA_TYPES, required=False)}


def _arrival(data: dict, _when: datetime) -> dict[str, Any]:
    return {"country": _country(data, required=False),
            "port": _optional_text(data, "port", "data.port", 40)}


def _issued(data: dict, when: datetime) -> dict[str, Any]:
    issued_on = _date(data, "issued_on", required=False) or when.date()
    expires_on = _date(data, "expires_on", required=True)
    if expires_on < issued_on:
        raise FieldError("data.expires_on", "data.expires_on is before the permit was issued.")
    return {"country": _country(data, required=True, abroad=True), "permit_no": _permit_no(data),
            "permit_type": _choice(data, "permit_type", PERMIT_TYPES, required=True),
            "issued_on": issued_on, "expires_on": expires_on}


def _revoked(data: dict, _when: datetime) -> dict[str, Any]:
    return {"country": _country(data, required=False, abroad=True),
            "permit_no": _permit_no(data),
            "reason": _optional_text(data, "reason", "data.reason", 200)}


def _alert(data: dict, _when: datetime) -> dict[str, Any]:
    licence_no = phone = None
    raw_licence = _optional_text(data, "licence_no", "data.licence_no", 40)
    if raw_licence is not None:
        licence_no = parse_licence(raw_licence)
        if licence_no is None:
            raise FieldError("data.licence_no", "data.licence_no must be an NEA licence "
                                                "number such as NEA/PEA/2024/0001.")
    raw_phone = _optional_text(data, "phone", "data.phone", 20)
    if raw_phone is not None:
        phone = try_normalise(raw_phone)
        if phone is None:
            raise FieldError("data.phone", "data.phone must be a phone number such as "
                                           "+254712345678.")
    if licence_no is None and phone is None:
        raise FieldError("data", "data needs a licence_no or a phone.")
    reason = _optional_text(data, "reason", "data.reason", 500)
    if reason is None:
        raise FieldError("data.reason", "data.reason is required.")
    return {"licence_no": licence_no, "phone": phone, "reason": reason}


_DATA = {
    "immigration.departure": _departure,
    "immigration.arrival": _arrival,
    "permit.issued": _issued,
    "permit.revoked": _revoked,
    "police.alert": _alert,
}
