"""SMS bodies for cases: fitted into one GSM-7 SMS whatever the reporter typed."""

from __future__ import annotations

import unicodedata
from typing import Any

from app.i18n import translate
from app.reference.countries import country_name
from app.sms.gsm import is_gsm7

SMS_LIMIT = 160
"""One GSM-7 SMS."""

CLOSE_LIMIT = 306
"""The reporter's "case closed" SMS may take two parts (2 x 153), so the note survives."""

CATEGORY_LABELS = {
    "unpaid_wages": "unpaid wages",
    "passport_held": "passport held",
    "abuse": "abuse/violence",
    "confinement": "confinement",
    "deception": "deception/contract",
    "forced_work": "forced/military work",
    "medical": "medical",
    "detention": "arrest/detention",
    "wants_return": "wants to return",
    "other": "other",
}
"""Short English labels officers read in alerts (staff texts are English)."""

_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
           "\u2014": "-", "\u2026": "..."}


def gsm_clean(text: str | None) -> str:
    """Make text GSM-7: curly quotes straightened, accents dropped, the rest as ``?``."""
    out: list[str] = []
    for ch in text or "":
        ch = _QUOTES.get(ch, ch)
        if is_gsm7(ch):
            out.append(ch)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", ch)
                        if not unicodedata.combining(c))
        out.append(plain if plain and is_gsm7(plain) else "?")
    return " ".join("".join(out).split())


def fitted(lang: str, key: str, *, fill: str, limit: int = SMS_LIMIT, **values: Any) -> str:
    """Render ``key`` with ``values``, cutting the free text ``fill`` so the whole fits."""
    fill = gsm_clean(fill)
    base = translate(lang, key, fill="", **values)
    room = limit - len(base)
    if len(fill) > room:
        fill = fill[: max(room - 3, 0)].rstrip() + "..." if room >= 3 else ""
    text = translate(lang, key, fill=fill, **values)
    return text[:limit]


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "", "not yet known")


def country_label(country: str | None, lang: str = "en") -> str:
    return country_name(country, lang) if country else "?"


def duration(seconds: int) -> str:
    """Say a clock briefly: ``45s``, ``15 min``, ``2 h``."""
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
