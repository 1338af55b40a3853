"""Destination countries: menu order, GSM-7-safe names, restricted list and time zones.

Names come from Babel's CLDR data (`babel.Locale(...).territories`). English and Swahili
names are shown on USSD screens and in SMS, which must stay GSM-7: one non-GSM-7 character
turns a whole SMS into UCS-2 and halves its length. Where CLDR's name is not GSM-7 or is
longer than `MAX_NAME_LEN`, `_OVERRIDES` gives a short one.
"""

from __future__ import annotations

import difflib
import unicodedata
import zoneinfo
from functools import cache

import babel
import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as pn_timezone

from app.reference.counties import normalize_text

# 3GPP TS 23.038 default alphabet and its extension table (extension chars cost 2 septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ!\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€")

# A country name must fit on one line of a 160-character USSD menu next to its number.
MAX_NAME_LEN = 20

# Where Kenyans go to work, most common first, so the USSD menu's first page holds the
# corridors that carry most people (Gulf first: 416,548 in the Gulf, 310,266 of them in
# Saudi Arabia, as reported to the Senate in July 2024). RU is listed although restricted:
# people must be able to say they are going there so that the system can warn them and flag
# the listing.
DESTINATIONS: tuple[str, ...] = (
    "SA", "AE", "QA", "KW", "OM", "BH", "JO", "LB",
    "GB", "US", "CA", "DE", "PL", "IL", "IE", "AU", "JP", "TR",
    "RU",
)

CONFLICT_OR_RESTRICTED: frozenset[str] = frozenset({
    # Over 200 Kenyans recruited, passports held, Russian-only contracts; Kenya MFA public
    # warnings on job offers in Russia.
    "RU",
    # Active war; US State Dept Level 4 "Do Not Travel" / UK FCDO advise against all travel.
    "UA",
    # Conflict; US State Dept Level 4; UK FCDO against all travel.
    "LY",
    # Conflict; US State Dept Level 4.
    "IQ",
    # Conflict; US State Dept Level 4; no functioning consular access.
    "AF",
    # Civil war; US State Dept Level 4; UK FCDO advise against all travel.
    "SY",
    # Civil war; US State Dept Level 4; UK FCDO advise against all travel.
    "YE",
    # War since April 2023; US State Dept Level 4; Kenya evacuated its nationals in 2023.
    "SD",
    # Armed conflict; US State Dept Level 4.
    "SS",
    # Al-Shabaab conflict; US State Dept Level 4; UK FCDO against all travel to most areas.
    "SO",
    # Scam-compound trafficking of Kenyans via Thailand (Kenya MFA warnings, 2022-2024);
    # US State Dept Level 4 (civil conflict).
    "MM",
})

# CLDR codes that are not countries anyone can travel to for work.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})

# Short GSM-7 names where CLDR's are too long, non-GSM-7, or not what people say.
_OVERRIDES: dict[str, dict[str, str]] = {
    "en": {
        "BQ": "Carib. Netherlands",
        "CC": "Cocos Islands",
        "CF": "Central African Rep.",
        "CI": "Cote d'Ivoire",
        "CW": "Curacao",
        "GS": "South Georgia",
        "HM": "Heard & McDonald Is.",
        "IO": "British Ind. Ocean",
        "MP": "N. Mariana Islands",
        "PM": "St Pierre & Miquelon",
        "PS": "Palestine",
        "ST": "Sao Tome & Principe",
        "TC": "Turks & Caicos",
        "TF": "French Southern Ter.",
        "UM": "US Outlying Islands",
        "VC": "St Vincent & Gren.",
        "VG": "Br. Virgin Islands",
    },
    "sw": {
        # "Ufalme wa Muungano" is CLDR's; people in Kenya say "Uingereza".
        "GB": "Uingereza",
        "BQ": "Uholanzi Karibiani",
        "CC": "Visiwa vya Cocos",
        "CD": "DR Kongo",
        "CF": "Afrika ya Kati",
        "CI": "Cote d'Ivoire",
        "CP": "Kisiwa Clipperton",
        "GS": "Georgia Kusini",
        "HM": "Visiwa vya Heard",
        "IO": "Visiwa vya Chagos",
        "MK": "Masedonia Kaskazini",
        "MM": "Myanmar",
        "MP": "Mariana Kaskazini",
        "PF": "Polynesia Ufaransa",
        "PM": "Santapierre Miquelon",
        "SJ": "Svalbard",
        "TC": "Turks na Caicos",
        "TF": "Himaya za Kifaransa",
        "UM": "Visiwa vya Marekani",
        "VC": "St Vincent na Gren.",
        "VG": "Virgin (Uingereza)",
        "VI": "Virgin (Marekani)",
    },
}

# What people type for a country that is not its CLDR name: cities, colloquial names,
# abbreviations. Keys are folded with normalize_text.
_ALIASES: dict[str, str] = {
    "saudi": "SA", "ksa": "SA", "uarabuni": "SA", "arabuni": "SA", "saudiarabia": "SA",
    "riyadh": "SA", "jeddah": "SA", "jedda": "SA", "makkah": "SA", "mecca": "SA",
    "dammam": "SA", "saudiya": "SA",
    "uae": "AE", "dubai": "AE", "dubae": "AE", "abudhabi": "AE", "sharjah": "AE",
    "ajman": "AE", "emirates": "AE", "emirati": "AE", "milkizakiarabu": "AE",
    "doha": "QA", "katar": "QA", "kuwaitcity": "KW", "kuweit": "KW", "muscat": "OM",
    "maskati": "OM", "omani": "OM", "manama": "BH", "bahareini": "BH", "amman": "JO",
    "yordani": "JO", "beirut": "LB", "lebanoni": "LB",
    "uk": "GB", "britain": "GB", "greatbritain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "london": "GB", "uingereza": "GB", "ingereza": "GB",
    "usa": "US", "america": "US", "amerika": "US", "unitedstatesofamerica": "US",
    "marekani": "US", "newyork": "US",
    "toronto": "CA", "deutschland": "DE", "berlin": "DE", "polska": "PL", "polandi": "PL",
    "warsaw": "PL", "telaviv": "IL", "dublin": "IE", "tokyo": "JP", "turkey": "TR",
    "istanbul": "TR",
    "russia": "RU", "russianfederation": "RU", "moscow": "RU", "moskva": "RU", "urusi": "RU",
    "ukraini": "UA", "kyiv": "UA", "libia": "LY", "tripoli": "LY", "baghdad": "IQ",
    "erbil": "IQ", "kurdistan": "IQ", "burma": "MM", "myanmar": "MM",
}

# Words that appear in many names and so identify nothing on their own.
_GENERIC_TOKENS = frozenset({
    "united", "south", "north", "east", "west", "central", "new", "saint", "islands",
    "island", "republic", "states", "kingdom", "and", "the", "of", "visiwa", "kisiwa",
    "jamhuri", "kusini", "kaskazini", "mashariki", "magharibi", "ya", "vya", "za", "wa",
    "na", "cha", "la", "guinea",
})

# IANA zone where most workers of each corridor live; for multi-zone countries this is the
# zone of the main receiving city, which is what the check-in clock must respect.
_TIMEZONES: dict[str, str] = {
    "SA": "Asia/Riyadh", "AE": "Asia/Dubai", "QA": "Asia/Qatar", "KW": "Asia/Kuwait",
    "OM": "Asia/Muscat", "BH": "Asia/Bahrain", "JO": "Asia/Amman", "LB": "Asia/Beirut",
    "GB": "Europe/London", "US": "America/New_York", "CA": "America/Toronto",
    "DE": "Europe/Berlin", "PL": "Europe/Warsaw", "IL": "Asia/Jerusalem",
    "IE": "Europe/Dublin", "AU": "Australia/Sydney", "JP": "Asia/Tokyo",
    "TR": "Europe/Istanbul", "RU": "Europe/Moscow", "UA": "Europe/Kyiv",
    "LY": "Africa/Tripoli", "IQ": "Asia/Baghdad", "AF": "Asia/Kabul", "SY": "Asia/Damascus",
    "YE": "Asia/Aden", "SD": "Africa/Khartoum", "SS": "Africa/Juba",
    "SO": "Africa/Mogadishu", "MM": "Asia/Yangon", "KE": "Africa/Nairobi",
}

_FALLBACK_TZ = "UTC"


def is_gsm7(text: str) -> bool:
    """Return True if every character of text is in the GSM-7 basic or extension set."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


@cache
def _territories(locale: str) -> dict[str, str]:
    try:
        data = babel.Locale.parse(locale).territories
    except (ValueError, babel.UnknownLocaleError):
        data = babel.Locale("en").territories
    return {
        code: name
        for code, name in data.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def _to_gsm7(name: str) -> str:
    # Keep GSM-7 letters (é, ü are GSM-7); strip accents from the rest; drop what remains.
    out = []
    for ch in name.replace("’", "'"):
        if is_gsm7(ch):
            out.append(ch)
            continue
        out.extend(c for c in unicodedata.normalize("NFKD", ch) if is_gsm7(c))
    return "".join(out)


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].lower()


def country_name(iso2: str, locale: str = "en") -> str:
    """Return the country's display name; en/sw names are GSM-7 and at most 20 characters."""
    code = (iso2 or "").strip().upper()
    lang = _language(locale or "en")
    override = _OVERRIDES.get(lang, {}).get(code)
    if override:
        return override
    name = _territories(locale or "en").get(code) or _territories("en").get(code)
    if name is None:
        return code
    if lang not in _OVERRIDES:
        return name
    # Safety net for CLDR updates that add a long or non-GSM-7 name we have no override for.
    name = _to_gsm7(name)
    if len(name) > MAX_NAME_LEN:
        name = name[: MAX_NAME_LEN - 1].rstrip() + "."
    return name


def is_known_country(iso2: str) -> bool:
    """Return True if iso2 is a country or territory code in Babel's data."""
    return (iso2 or "").strip().upper() in _territories("en")


@cache
def _index() -> tuple[dict[str, str], dict[str, list[str]]]:
    names: dict[str, str] = {}
    tokens: dict[str, list[str]] = {}
    for lang in ("en", "sw"):
        for code in _territories(lang):
            for label in {_territories(lang)[code], country_name(code, lang)}:
                names.setdefault(normalize_text(label), code)
                for word in label.replace("-", " ").replace("(", " ").split():
                    tok = normalize_text(word)
                    if len(tok) >= 4 and tok not in _GENERIC_TOKENS:
                        codes = tokens.setdefault(tok, [])
                        if code not in codes:
                            codes.append(code)
    for alias, code in _ALIASES.items():
        names[alias] = code
    return names, tokens


def _rank(code: str) -> int:
    # Destinations first, in menu order, so a short prefix surfaces the likely corridor.
    return DESTINATIONS.index(code) if code in DESTINATIONS else len(DESTINATIONS)


def match_country(text: str, limit: int = 5) -> list[str]:
    """Return ISO2 codes matching a typed name (English, Swahili, alias or ISO2), best first."""
    if limit <= 0 or not isinstance(text, str):
        return []
    raw = text.strip()
    query = normalize_text(raw)
    if not query:
        return []
    names, tokens = _index()
    if len(raw) == 2 and raw.isalpha() and raw.upper() in _territories("en"):
        return [raw.upper()]
    if query in names:
        return [names[query]]

    found: dict[str, tuple[int, int, float]] = {}

    def add(tier: int, code: str, key: str) -> None:
        score = difflib.SequenceMatcher(None, query, key).ratio()
        entry = (tier, _rank(code), -score)
        if code not in found or entry < found[code]:
            found[code] = entry

    for code in tokens.get(query, []):
        add(1, code, query)
    for key, code in names.items():
        if key.startswith(query):
            add(2, code, key)
    for key, codes in tokens.items():
        if key.startswith(query):
            for code in codes:
                add(2, code, key)
    # Typos only when nothing matched by word or prefix; 0.75 allows about one slip.
    if not found and len(query) >= 3:
        pool = {**{k: [c] for k, c in names.items()}, **tokens}
        for key in difflib.get_close_matches(query, pool, n=limit * 2, cutoff=0.75):
            for code in pool[key]:
                add(3, code, key)

    return sorted(found, key=lambda c: found[c])[:limit]


def timezone_for(iso2: str) -> str:
    """Return an IANA time zone for the country, or "UTC" if none is known."""
    code = (iso2 or "").strip().upper()
    if code in _TIMEZONES:
        return _TIMEZONES[code]
    # Fallback: phonenumbers maps an example fixed-line number to its zone(s); take the first.
    example = phonenumbers.example_number_for_type(code, PhoneNumberType.FIXED_LINE)
    if example is not None:
        for zone in pn_timezone.time_zones_for_geographical_number(example):
            if zone in zoneinfo.available_timezones():
                return zone
    return _FALLBACK_TZ
