"""Translations: gettext catalogs in ``locales/`` read through Babel, keyed by text id."""

from __future__ import annotations

import string
import sys
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

SHARED_LOCALES = Path(sys.prefix) / "share" / "kazi-salama" / "locales"
"""Where a regular (not editable) install puts ``locales/`` (pyproject's data-files)."""


def _locales_dir() -> Path:
    """Give the checkout's ``locales/`` when there is one, else the installed copy."""
    checkout = Path(__file__).resolve().parent.parent / "locales"
    return checkout if checkout.is_dir() else SHARED_LOCALES


LOCALES_DIR = _locales_dir()
"""Where the ``<lang>/LC_MESSAGES/messages.po`` catalogs live."""

LANGUAGES = ("en", "sw")
"""Languages every screen and SMS exists in; the first is the fallback."""

_FORMATTER = string.Formatter()


class _Blank(dict):
    """Render a missing placeholder as nothing rather than failing a live screen."""

    def __missing__(self, key: str) -> str:
        return ""


@cache
def catalog(lang: str) -> dict[str, str]:
    """Load one language's catalog as a dict of text id to text."""
    with open(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        po = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def keys(lang: str) -> set[str]:
    """List the text ids a language has a translation for."""
    return set(catalog(lang))


def translate(lang: str, key: str, /, **values: Any) -> str:
    """Give the text for ``key`` in ``lang`` with its placeholders filled."""
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(LANGUAGES[0]).get(key, key)
    if "{" not in text:
        return text
    return text.format_map(_Blank(values))  # str.format in C; _Blank blanks a missing key


def placeholders(text: str) -> set[str]:
    """List the named placeholders of a text."""
    return {name for _, name, _, _ in _FORMATTER.parse(text) if name}
