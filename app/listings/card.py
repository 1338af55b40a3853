"""The answer to "check a job offer", for a USSD screen or one SMS: labels that fit.

Pure (no Flask, Redis or SQL), so the menu journey can use it. A checked listing is
a plain dict (``summary`` in ``app.listings.check``); ``labels`` turns it into the
placeholders of the ``job.*`` and ``sms.job_*`` texts, shortening the free-text names
(title, employer, agency) until every text that may show them fits ``limit``
characters. Names are folded to the basic GSM-7 alphabet, so one odd character in
an agency's name cannot turn an SMS into UCS-2 (70 characters).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from app.reference.countries import country_name
from app.sms.gsm import BASIC

SHORT_COUNTRY_NAMES = {"AE": "UAE"}
"""Names people use that also leave room on the screen."""

LABELS = ("job_title", "job_country", "job_salary", "job_employer", "job_agency",
          "job_status", "job_licence")
"""Placeholders ``labels`` gives besides ``job_code``."""

SHRINKABLE = ("job_title", "job_employer", "job_agency", "job_country")
"""Placeholders that may be shortened to fit, the longest first each time."""

SHORTEST = 8
"""A shortened name keeps at least this many characters."""

_PLAIN = frozenset(BASIC) - {"\x1b", "\n", "\r"}

Translate = Callable[..., str]


def is_ok(job: Mapping[str, Any]) -> bool:
    """Tell whether a checked listing needs no warning: approved, agency licence valid."""
    return job.get("status") == "approved" and job.get("licence") == "valid"


def pick(job: Mapping[str, Any], ok_key: str, warn_key: str) -> str:
    """Give the text to show a checked listing with: ``ok_key`` only when ``is_ok``."""
    return ok_key if is_ok(job) else warn_key


def plain(text: str | None) -> str:
    """Fold ``text`` to basic GSM-7 on one line: accents dropped, anything else removed."""
    out = []
    for ch in " ".join(str(text or "").split()):
        if ch in _PLAIN:
            out.append(ch)
        else:
            out.extend(c for c in unicodedata.normalize("NFKD", ch) if c in _PLAIN)
    return " ".join("".join(out).split())


def amount_text(amount: Any) -> str:
    """Write an amount short: 1,500 or 7.50; 250k from 100,000; 1.2M from a million."""
    try:
        number = Decimal(str(amount))
    except ArithmeticError:
        return ""
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}".removesuffix(".0") + "M"
    if number >= 100_000:
        return f"{int(number / 1000)}k"
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.2f}"


def salary_text(job: Mapping[str, Any], lang: str, t: Translate) -> str:
    """Write the pay, e.g. ``SAR 1,500/month``; empty when the listing gives none."""
    if not job.get("salary_amount"):
        return t(lang, "job.no_salary")
    period = t(lang, f"job.per.{job.get('salary_period') or 'month'}")
    return f"{job.get('salary_currency') or ''} {amount_text(job['salary_amount'])}{period}"


def country_text(code: str | None, lang: str) -> str:
    if not code:
        return "?"
    return SHORT_COUNTRY_NAMES.get(code) or country_name(code, lang)


def labels(job: Mapping[str, Any], lang: str, t: Translate, keys: Iterable[str],
           limit: int = 160) -> dict[str, str]:
    """Give the placeholders for ``job``, names shortened until every text in ``keys`` fits."""
    values = {
        "job_code": job.get("code") or "",
        "job_title": plain(job.get("title")) or "?",
        "job_country": country_text(job.get("country"), lang),
        "job_salary": salary_text(job, lang, t),
        "job_employer": plain(job.get("employer")) or t(lang, "job.no_employer"),
        "job_agency": plain(job.get("agency")) or "?",
        "job_status": t(lang, f"job.status.{job.get('status') or 'pending'}"),
        "job_licence": t(lang, f"job.licence.{job.get('licence') or 'none'}"),
    }
    return fit(values, list(keys), lang, t, limit)


def fit(values: dict[str, str], keys: list[str], lang: str, t: Translate,
        limit: int) -> dict[str, str]:
    """Shorten the longest shrinkable value one character at a time until all texts fit."""
    values = dict(values)
    for _ in range(600):
        longest = max((len(t(lang, key, **values)) for key in keys), default=0)
        if longest <= limit:
            break
        name = max(SHRINKABLE, key=lambda n: len(values[n]))
        if len(values[name]) <= SHORTEST:
            break
        values[name] = _shorten(values[name], len(values[name]) - 1)
    return values


def _shorten(text: str, size: int) -> str:
    """Cut ``text`` to ``size`` characters, the last one a dot to show it was cut."""
    if len(text) <= size:
        return text
    return text[: size - 1].rstrip() + "."
