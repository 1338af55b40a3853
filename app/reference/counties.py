"""Kenya's 47 counties, with a forgiving matcher for what people type on a feature phone.

Source: Constitution of Kenya 2010, First Schedule (county codes 1-47 follow its order).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import NamedTuple


class County(NamedTuple):
    """One county: its official code (1-47) and its name."""

    code: int
    name: str


# First Schedule order; the code is the position in this list.
_NAMES = (
    "Mombasa", "Kwale", "Kilifi", "Tana River", "Lamu", "Taita-Taveta", "Garissa", "Wajir",
    "Mandera", "Marsabit", "Isiolo", "Meru", "Tharaka-Nithi", "Embu", "Kitui", "Machakos",
    "Makueni", "Nyandarua", "Nyeri", "Kirinyaga", "Murang'a", "Kiambu", "Turkana", "West Pokot",
    "Samburu", "Trans-Nzoia", "Uasin Gishu", "Elgeyo-Marakwet", "Nandi", "Baringo", "Laikipia",
    "Nakuru", "Narok", "Kajiado", "Kericho", "Bomet", "Kakamega", "Vihiga", "Bungoma", "Busia",
    "Siaya", "Kisumu", "Homa Bay", "Migori", "Kisii", "Nyamira", "Nairobi",
)

COUNTIES: tuple[County, ...] = tuple(County(i, n) for i, n in enumerate(_NAMES, start=1))

_BY_CODE = {c.code: c for c in COUNTIES}

# Towns people give when asked for their county. Only towns that sit wholly in one county
# and whose name is not itself a county; a wrong guess here would misfile a registration.
_TOWNS = {
    "eldoret": 27, "thika": 22, "ruiru": 22, "kikuyu": 22, "limuru": 22, "kitale": 26,
    "malindi": 3, "watamu": 3, "naivasha": 32, "molo": 32, "nanyuki": 31, "lodwar": 23,
    "kakuma": 23, "kapenguria": 24, "iten": 28, "kapsabet": 29, "kabarnet": 30, "maralal": 25,
    "voi": 6, "hola": 4, "ukunda": 2, "diani": 2, "kerugoya": 20, "kutus": 20, "ol kalou": 18,
    "chuka": 13, "kathwana": 13, "wote": 17, "athi river": 16, "mavoko": 16, "kitengela": 34,
    "ngong": 34, "kisumu city": 42, "mumias": 37, "webuye": 39, "malaba": 40, "bondo": 41,
    "rongo": 44, "awendo": 44, "keroka": 46, "litein": 35, "kapsowar": 28, "moyale": 10,
    "mwingi": 15, "wundanyi": 6, "kilgoris": 33, "mbita": 43, "kendu bay": 43, "juja": 22,
}

# Tokens too generic to identify a county on their own ("west" would pull West Pokot).
_STOP_TOKENS = frozenset({"west", "river", "bay"})

# Typos closer than this count as a match; 0.75 accepts one slip in a 6-letter name
# ("kisumo") but rejects unrelated words.
_TYPO_CUTOFF = 0.75

# People often add the word "county" ("Nairobi county", "kaunti ya Nakuru"); it carries no
# information and would defeat exact matching.
_FILLER = re.compile(r"\b(county|kaunti\s+ya|kaunti)\b", re.IGNORECASE)


def normalize_text(text: str) -> str:
    """Fold text to lowercase ASCII letters and digits for forgiving comparison."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", ascii_only.lower())


def _tokens(name: str) -> list[str]:
    # Hyphens and spaces separate tokens; apostrophes join ("Murang'a" -> "muranga").
    return [normalize_text(t) for t in re.split(r"[\s\-]+", name) if t]


_FULL = {normalize_text(c.name): c for c in COUNTIES}
_ALIASES = {normalize_text(town): _BY_CODE[code] for town, code in _TOWNS.items()}
_TOKEN_INDEX: dict[str, list[County]] = {}
for _c in COUNTIES:
    for _t in _tokens(_c.name):
        if len(_t) >= 4 and _t not in _STOP_TOKENS and _t not in _FULL:
            _TOKEN_INDEX.setdefault(_t, []).append(_c)


def by_code(code: int | str) -> County | None:
    """Return the county with this official code, or None."""
    try:
        return _BY_CODE.get(int(code))
    except (TypeError, ValueError):
        return None


def _score(query: str, key: str) -> float:
    return difflib.SequenceMatcher(None, query, key).ratio()


def match_county(text: str, limit: int = 5) -> list[County]:
    """Return the counties that best match typed text, best first, at most `limit`."""
    if limit <= 0 or not isinstance(text, str):
        return []
    query = normalize_text(_FILLER.sub(" ", text)) or normalize_text(text)
    if not query:
        return []
    if query.isdigit():
        county = by_code(query)
        return [county] if county else []
    exact = _FULL.get(query) or _ALIASES.get(query)
    if exact:
        return [exact]

    ranked: list[tuple[int, float, int, County]] = []
    seen: set[int] = set()

    def add(tier: int, score: float, county: County) -> None:
        if county.code not in seen:
            seen.add(county.code)
            ranked.append((tier, -score, county.code, county))

    # Tier 1: a whole word of a multi-word name ("pokot", "gishu").
    for county in _TOKEN_INDEX.get(query, []):
        add(1, 1.0, county)
    # Tier 2: prefixes of the name or of one of its words ("nai", "ka", "marak").
    for county in COUNTIES:
        keys = [normalize_text(county.name), *_tokens(county.name)]
        if any(k.startswith(query) for k in keys):
            add(2, _score(query, normalize_text(county.name)), county)
    # Tier 3: typos; only when nothing better matched, so "ka" stays a clean prefix list.
    if not ranked and len(query) >= 3:
        candidates = {**{k: [c] for k, c in _FULL.items()}, **{k: [c] for k, c in _ALIASES.items()},
                      **_TOKEN_INDEX}
        for key in difflib.get_close_matches(query, candidates, n=limit * 2, cutoff=_TYPO_CUTOFF):
            for county in candidates[key]:
                add(3, _score(query, key), county)

    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked[:limit]]
