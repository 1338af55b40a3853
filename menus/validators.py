"""Validators for input screens: each returns the cleaned value or ``Invalid``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.sms.gsm import is_gsm7
from menus.journey import Context, Invalid

_NAME = re.compile(r"^[A-Za-z][A-Za-z' .-]*[A-Za-z.]$")
_SPACES = re.compile(r"\s+")


def full_name(value: str, ctx: Context) -> Any:
    """Accept 2 to 40 letters with spaces, apostrophes and hyphens; need two names."""
    text = _SPACES.sub(" ", value).strip()
    if not text:
        return Invalid("err.empty")
    if not is_gsm7(text):
        return Invalid("err.gsm")
    if len(text) > 40:
        return Invalid("err.too_long", {"max": 40})
    if not _NAME.match(text) or len(text.split(" ")) < 2:
        return Invalid("err.name")
    return " ".join(part[:1].upper() + part[1:] for part in text.split(" "))


def national_id_format(value: str, ctx: Context) -> Any:
    """Accept a 7-8 digit national ID or a 14-digit Maisha Namba, spaces ignored."""
    digits = value.replace(" ", "")
    if not digits:
        return Invalid("err.empty")
    if not digits.isdigit() or len(digits) not in (7, 8, 14):
        return Invalid("err.id_format")
    return digits


def national_id_free(value: str, ctx: Context) -> Any:
    """Refuse an ID that is already registered (looked up through the port)."""
    if ctx.port is not None and ctx.port.people.national_id_registered(value):
        return Invalid("err.id_taken")
    return value


def birth_year(value: str, ctx: Context) -> Any:
    """Accept a four-digit year between 100 years ago and 10 years ago."""
    text = value.strip()
    this_year = date.today().year
    if not text:
        return Invalid("err.empty")
    if not (text.isdigit() and len(text) == 4) or not this_year - 100 <= int(text) <= this_year:
        return Invalid("err.year")
    if int(text) > this_year - 10:
        return Invalid("err.year")
    return int(text)


ADULT = 18
"""Nobody younger is registered for work abroad or placed there (contract §6)."""


def youngest_age(birth_year: int, today: date | None = None) -> int:
    """Give the youngest age a person born in ``birth_year`` can be this year."""
    return (today or date.today()).year - birth_year - 1


def age(ctx: Context) -> int:
    """Give the youngest age the person can be in the current year."""
    return youngest_age(int(ctx.data.get("birth_year") or 0))
