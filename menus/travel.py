"""Answers about travel abroad, shared by the departure, job-change, return and no-news
journeys: countries, dates, passport numbers, phone numbers and short free text.

Each validator returns the cleaned value or ``Invalid`` with a key that says why,
in words a person can act on. Dates are Kenyan calendar days.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.phones import country_of, try_normalise
from app.reference.countries import (
    CONFLICT_OR_RESTRICTED,
    DESTINATIONS,
    country_name,
    match_country,
)
from app.sms.gsm import is_gsm7
from menus.journey import Context, Invalid

KENYA = ZoneInfo("Africa/Nairobi")
"""The calendar dates are typed in."""

PAST_DEPARTURE_DAYS = 30
"""A departure date may be this many days ago (declared late, just before leaving)."""

FUTURE_DEPARTURE_DAYS = 366
"""A departure date further ahead than this is a typo, not a plan."""

SKIP = "1"
"""What a person sends to skip an optional question (no code or phone is ``1``)."""

_DATE_SPLIT = re.compile(r"[\s./\-]+")
_PASSPORT = re.compile(r"^[A-Z]{1,2}[0-9]{6,8}$")
_TODAY_WORDS = frozenset({"TODAY", "LEO"})
_YESTERDAY_WORDS = frozenset({"YESTERDAY", "JANA"})


def kenya_today() -> date:
    """Give today's date in Kenya."""
    return datetime.now(KENYA).date()


# Countries ---------------------------------------------------------------------------


def country_items(lang: str) -> list[tuple[int, str, str]]:
    """The countries offered by number: where Kenyans work, most common first."""
    return [(n, code, country_name(code, lang)) for n, code in enumerate(DESTINATIONS, 1)]


def country_match(text: str) -> list[str]:
    """Match a typed country; several only when all of them are on the numbered list."""
    found = match_country(text)
    if len(found) > 1 and not set(found) <= set(DESTINATIONS):
        return found[:1]  # the best guess beats an empty list
    return found


def abroad(value: str, ctx: Context) -> Any:
    """Refuse Kenya where the country abroad is asked: home is not abroad."""
    return Invalid("err.country_home") if value == "KE" else value


def abroad_of(subject: str) -> str | None:
    """Give the country abroad a foreign phone number is from; None for a name or Kenya."""
    country = country_of(subject) if subject.startswith("+") else None
    return country if country != "KE" else None


def is_conflict(code: str | None) -> bool:
    """Tell whether a country is at war or restricted for recruitment."""
    return bool(code) and code in CONFLICT_OR_RESTRICTED


# Dates -------------------------------------------------------------------------------


def parse_date(text: str, today: date | None = None) -> date | Invalid:
    """Read DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY, DD MM YYYY or DDMMYYYY (and today/leo)."""
    raw = " ".join(text.split()).upper()
    today = today or kenya_today()
    if not raw:
        return Invalid("err.empty")
    if raw in _TODAY_WORDS:
        return today
    if raw in _YESTERDAY_WORDS:
        return today - timedelta(days=1)
    parts = [p for p in _DATE_SPLIT.split(raw) if p]
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) == 8:
        parts = [parts[0][:2], parts[0][2:4], parts[0][4:]]
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return Invalid("err.date_format")
    day, month, year = (int(p) for p in parts)
    try:
        return date(year, month, day)
    except ValueError:
        return Invalid("err.date_impossible")


def show_date(value: date | str | None) -> str:
    """Write a date as people in Kenya do: 05/01/2027."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def departure_date(value: str, ctx: Context) -> Any:
    """Accept a departure from 30 days ago to a year ahead; give it as ISO text."""
    found = parse_date(value)
    if isinstance(found, Invalid):
        return found
    today = kenya_today()
    if found < today - timedelta(days=PAST_DEPARTURE_DAYS):
        return Invalid("err.date_long_ago", {"days": PAST_DEPARTURE_DAYS})
    if found > today + timedelta(days=FUTURE_DEPARTURE_DAYS):
        return Invalid("err.date_far")
    return found.isoformat()


def past_date(since_key: str):
    """Make a validator for a date that has happened, not before ``data[since_key]``.

    ``since_key`` names the date of the placement's last recorded step (ISO), which
    the SMS dialogue is opened with: a job cannot start before the person left.
    """

    def check(value: str, ctx: Context) -> Any:
        found = parse_date(value)
        if isinstance(found, Invalid):
            return found
        if found > kenya_today():
            return Invalid("err.date_future")
        since = ctx.data.get(since_key)
        if since and found < date.fromisoformat(str(since)[:10]):
            return Invalid("err.date_before", {"since": show_date(since)})
        return found.isoformat()

    check.__doc__ = "Accept a date not in the future and not before the last recorded step."
    return check


# Identity documents and phones -------------------------------------------------------


def passport(value: str, ctx: Context) -> Any:
    """Accept a Kenyan passport number: 1-2 letters then 6-8 digits, e.g. AK1234567."""
    text = re.sub(r"[\s\-]+", "", value).upper()
    if not text:
        return Invalid("err.empty")
    if not _PASSPORT.match(text):
        return Invalid("err.passport")
    return text


def passport_free(value: str, ctx: Context) -> Any:
    """Refuse a passport number another registered person holds (looked up by port)."""
    if ctx.port is not None and ctx.port.departure.passport_taken(value):
        return Invalid("err.passport_taken")
    return value


def phone(value: str, ctx: Context) -> Any:
    """Accept a phone number in Kenya (0712…) or abroad (+9665…); give it as E.164."""
    digits = re.sub(r"[\s\-()]+", "", value)
    if not digits:
        return Invalid("err.empty")
    found = try_normalise(digits) if digits.lstrip("+").isdigit() else None
    if found is None and digits.isdigit() and not digits.startswith("0"):
        found = try_normalise("+" + digits)
    return found if found else Invalid("err.phone")


def not_own(own_key: str):
    """Make a validator that refuses the person's own number (``data[own_key]``)."""

    def check(value: str, ctx: Context) -> Any:
        if value and value == ctx.data.get(own_key):
            return Invalid("err.phone_own")
        return value

    check.__doc__ = "Refuse the person's own phone number."
    return check


def optional(validator):
    """Let ``1`` skip an optional answer (stored as an empty string)."""

    def check(value: str, ctx: Context) -> Any:
        if value.strip() == SKIP:
            return ""
        return validator(value, ctx)

    check.__doc__ = f"{SKIP} to skip, else: {validator.__doc__}"
    return check


def short_text(limit: int):
    """Make a validator for a name or place: 2 to ``limit`` GSM-7 characters, some letters."""

    def check(value: str, ctx: Context) -> Any:
        text = " ".join(value.split())
        if not text:
            return Invalid("err.empty")
        if not is_gsm7(text):
            return Invalid("err.gsm")
        if len(text) > limit:
            return Invalid("err.too_long", {"max": limit})
        if sum(ch.isalpha() for ch in text) < 2:
            return Invalid("err.text_short")
        return text

    check.__doc__ = f"Accept 2 to {limit} GSM-7 characters with letters."
    return check


def local_phone(e164: str | None) -> str:
    """Show a Kenyan number as people write it (0712345678); others stay E.164."""
    if not e164:
        return ""
    if e164.startswith("+254") and len(e164) == 13:
        return "0" + e164[4:]
    return e164


def short_label(text: str | None, width: int) -> str:
    """Give typed text on one line, cut to ``width`` with ``..`` when longer."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= width else line[: width - 2].rstrip() + ".."
