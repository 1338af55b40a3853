"""Phone numbers: everything is E.164, parsed and checked with ``phonenumbers``."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "KE"
"""Numbers written without a country code are Kenyan (``0712...``, ``254712...``)."""


class InvalidPhone(ValueError):
    """The text is not a valid phone number."""


def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """Turn ``0712…``, ``254712…`` or ``+254712…`` into E.164, or raise InvalidPhone."""
    text = (raw or "").strip()
    if text.isdigit() and text.startswith("254") and len(text) == 12:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def try_normalise(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """Give the E.164 form of ``raw``, or None when it is not a valid number."""
    try:
        return normalise(raw, region)
    except InvalidPhone:
        return None


def country_of(e164: str) -> str | None:
    """Give the ISO-3166 region a number belongs to, e.g. ``SA`` for +9665…"""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or None
    except phonenumbers.NumberParseException:
        return None


def masked(e164: str) -> str:
    """Hide all but the last three digits, for logs and staff lists."""
    return e164[:4] + "*" * max(len(e164) - 7, 0) + e164[-3:]
