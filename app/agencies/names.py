"""Agency names and licence numbers: search keys for matching, GSM-7 text for display.

A name's search key keeps what tells one agency from another. People write "Savanna
Ltd", "SAVANNA RECRUITMENT AGENCY LIMITED" or "Savanna (K) Ltd" for the same agency,
so the key drops two kinds of words:

- legal forms and filler (``ltd``, ``limited``, ``co``, ``company``, ``plc``, ``the``,
  ``and``, the ``(K)`` of "Kenya"): never part of how people name an agency;
- the trade's generic words (``agency``, ``recruitment``, ``recruiters``,
  ``international``, ``services``, ``employment``, ``consultants``, ``manpower``…):
  nearly every register entry has one or two, so they only add noise to a typo match,
  and people drop or swap them when they speak of an agency.

Dropping generic words makes "Savanna Recruitment Ltd" and "Savanna International
Agency" share the key ``savanna``: a search then lists both, with licence numbers, and
the person picks. That is the right answer to an ambiguous name; a name typed in full,
generic words and all, is not ambiguous and finds its own agency (``same_name``). A
name made only of generic words ("International Recruitment Agency Ltd") keeps them,
or nothing would be left to match. Distinctive place words (``gulf``, ``africa``,
``kenya``, ``overseas``) stay: they often *are* the name.

Licence numbers are written ``NEA/PEA/2024/0001``. The register import accepts any
case and spacing and ``/``, ``-`` or ``.`` between the parts, and stores the canonical
form. A search is more forgiving still, because a feature phone makes ``/`` hard to
type: ``2024 1``, ``20240001`` and ``pea-2024-0001`` all find that licence.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from app.sms.gsm import BASIC_CHARS

LEGAL_WORDS = frozenset({
    "ltd", "limited", "co", "company", "plc", "inc", "llc", "llp", "the", "and", "of", "k",
})
"""Legal forms and filler: never part of how people name an agency."""

GENERIC_WORDS = frozenset({
    "agency", "agencies", "recruitment", "recruiting", "recruiter", "recruiters",
    "international", "intl", "services", "service", "employment", "consultants",
    "consultancy", "consulting", "manpower", "placement", "placements", "bureau", "staffing",
    "solutions", "labour", "human", "resource", "resources", "hr",
})
"""The trade's generic words: in most register names, so dropped unless nothing is left."""

_TOKEN = re.compile(r"[a-z0-9]+")
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_SPACES = re.compile(r"\s+")
_TRAILING_LEGAL = re.compile(
    r"(?:[\s,.]+(?:ltd|limited|co|company|plc|inc|llc|llp)\.?|\s*\(k\))+\s*$", re.I
)
_PUNCT_MAP = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2019": "'", "\u2018": "'",
                            "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def fold(text: str) -> str:
    """Give ``text`` without accents, as plain ASCII letters where it can."""
    if text.isascii():  # nearly every name on the register: nothing to do
        return text
    text = unicodedata.normalize("NFKD", text.translate(_PUNCT_MAP))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def name_tokens(name: str) -> list[str]:
    """Split a name into the lower-case words its search key is made of."""
    text = _APOSTROPHES.sub("", fold(name).lower().replace("&", " and "))
    words = _TOKEN.findall(text)
    kept = [w for w in words if w not in LEGAL_WORDS]
    distinctive = [w for w in kept if w not in GENERIC_WORDS]
    return distinctive or kept or words


@functools.lru_cache(maxsize=65536)  # a hop's query and the register's names recur
def name_words(name: str) -> tuple[str, ...]:
    """Give the words of a name in order, legal forms and filler dropped, generic words kept."""
    text = _APOSTROPHES.sub("", fold(name).lower().replace("&", " and "))
    return tuple(w for w in _TOKEN.findall(text) if w not in LEGAL_WORDS)


@functools.lru_cache(maxsize=65536)
def _word_runs(name: str) -> frozenset[str]:
    """Give every run of two or more consecutive words of a name, written together."""
    known = name_words(name)
    return frozenset("".join(known[i:j])
                     for i in range(len(known)) for j in range(i + 2, len(known) + 1))


def names_agree(typed: str, registered: str) -> bool:
    """Tell whether every word typed is a word of the registered name, in any order.

    "gulf star" and "Gulf Star Manpower Ltd" agree: people drop words; so do "alnoor"
    and "Al-Noor Travel Ltd", words run together. "Savanna International Agency" and
    "Savanna Recruitment Ltd" share a search key but do not agree, and neither do a
    misspelt word or part of a word: a rogue recruiter borrows a licensed agency's
    name with a word changed, so such a match is offered as the nearest name on the
    register, never answered as if it were the one typed.
    """
    words = name_words(typed)
    if not words:
        return False
    return set(words) <= set(name_words(registered)) or "".join(words) in _word_runs(registered)


def same_name(typed: str, registered: str) -> bool:
    """Tell whether a name typed in full is the registered name: the same words, any order.

    Only a name typed with at least one of the trade's generic words counts as typed
    in full: "Kisumu Trust Staffing Solutions" is one agency among those keyed
    "kisumutrust", while "Kisumu Trust" alone could be any of them.
    """
    words = set(name_words(typed))
    return bool(words & GENERIC_WORDS) and words == set(name_words(registered))


def name_key(name: str) -> str:
    """Give the search key of an agency name: letters and digits, noise words dropped."""
    return "".join(name_tokens(name))


def person_key(name: str) -> str:
    """Give the search key of a director's name: lower-case letters and digits only."""
    return "".join(_TOKEN.findall(_APOSTROPHES.sub("", fold(name).lower())))


@functools.lru_cache(maxsize=65536)  # the register's names, on screen after screen
def display_name(name: str, width: int = 24) -> str:
    """Give a name fit for a feature phone: GSM-7 only, no legal suffix, at most ``width``."""
    text = _gsm(_SPACES.sub(" ", fold(name)).strip()).strip()
    short = _TRAILING_LEGAL.sub("", text).strip(" ,.") or text
    if len(short) <= width:
        return short
    return short[: width - 2].rstrip(" ,.-&") + ".."


def gsm_text(text: str, width: int) -> str:
    """Give free text (e.g. what someone typed) as GSM-7, cut to ``width``."""
    text = _gsm(_SPACES.sub(" ", fold(text)).strip())
    return text if len(text) <= width else text[: width - 2] + ".."


def _gsm(text: str) -> str:
    """Keep the characters of the basic GSM-7 table (each costs one septet)."""
    if BASIC_CHARS.issuperset(text):  # nearly always: no character to drop
        return text
    return "".join(ch for ch in text if ch in BASIC_CHARS)


# ------------------------------------------------------------------ licence numbers

LICENCE_FORMAT = "NEA/PEA/{year}/{number:04d}"
"""The canonical licence number, e.g. ``NEA/PEA/2024/0001``."""

_LICENCE = re.compile(r"^NEA[\s/.\-_]*PEA[\s/.\-_]*(\d{4})[\s/.\-_]*(\d{1,5})$")
_QUERY_WORDS = frozenset({"NEA", "PEA", "NEAPEA", "LICENCE", "LICENSE", "LIC", "NO"})
_QUERY_TOKEN = re.compile(r"[A-Z]+|\d+")
FIRST_YEAR = 1990
"""The earliest licence year the register import accepts."""


def parse_licence(text: str, today: date | None = None) -> str | None:
    """Give the canonical form of a licence number from the register, or None if garbage."""
    match = _LICENCE.match(_SPACES.sub(" ", (text or "").strip().upper()))
    if match is None:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    last_year = (today or date.today()).year + 1
    if not FIRST_YEAR <= year <= last_year or number < 1:
        return None
    return LICENCE_FORMAT.format(year=year, number=number)


def licence_key(canonical: str) -> tuple[int, int]:
    """Give the (year, number) a canonical licence number is found by."""
    _nea, _pea, year, number = canonical.split("/")
    return int(year), int(number)


@functools.lru_cache(maxsize=16384)  # read by the search and again by ``nearest_only``
def licence_query(text: str) -> tuple[int, int] | None:
    """Read what someone typed as a licence number, forgivingly; None if it is a name.

    ``NEA/PEA/2024/0001``, ``nea pea 2024 1``, ``2024/0001``, ``20240001`` and
    ``licence no 2024-1`` all give ``(2024, 1)``.
    """
    tokens = _QUERY_TOKEN.findall(fold(text or "").upper())
    words = [t for t in tokens if not t.isdigit()]
    digits = [t for t in tokens if t.isdigit()]
    if any(w not in _QUERY_WORDS for w in words) or not digits:
        return None
    if len(digits) == 1 and 5 <= len(digits[0]) <= 9:
        digits = [digits[0][:4], digits[0][4:]]
    if len(digits) != 2 or len(digits[0]) != 4 or not 1 <= len(digits[1]) <= 5:
        return None
    year, number = int(digits[0]), int(digits[1])
    if not FIRST_YEAR <= year <= 2100 or number < 1:
        return None
    return year, number
