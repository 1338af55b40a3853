"""Find agencies by licence number or by a forgiving name, fast enough for a USSD hop.

A search reads only this process's index of the register (``app.agencies.index``):
a dict lookup (a licence number, an exact name), a substring scan and one
``rapidfuzz`` pass (typos) over a few thousand short keys, with no SQL at all.

Ranking, in tiers: agencies whose name key is exactly what was typed (only those;
and of those, the one whose name is the same words when the name was typed in full,
generic words and all, ``names.same_name``, or else the only one that has every word
typed, ``names.names_agree``);
else names that start with it, then names that contain it, word for word (so
"savannah" is not found inside "savanna hands"). When nothing does, each
word not found in any name is replaced by the nearest word of the register (a typo
in one word: "savana link") and the tiers are tried again; then names holding the
words run together ("alnoor"); then the whole name is
matched by similarity (``rapidfuzz`` ratio, typos spread over the name). Ties go by
name. WRatio would catch a little more but costs many times as much, too much for
every not-found hop.
"""

from __future__ import annotations

import contextlib
import functools

from rapidfuzz import fuzz, process

from app.agencies.index import Index, Match
from app.agencies.names import (
    GENERIC_WORDS,
    LEGAL_WORDS,
    licence_query,
    name_tokens,
    names_agree,
    same_name,
)

LIMIT = 12
"""Most matches a search gives (the USSD list pages through them)."""

FUZZY_CUTOFF = 84
"""Lowest rapidfuzz ratio (0-100) that counts as a typo of a name (80 for one word)."""

MIN_KEY = 2
"""Shortest name key searched; one letter would match half the register."""

EXACT = 300.0
"""The rank of a name whose search key is exactly what was typed."""

RECENT = 4096
"""Searches each index remembers. People check the same agencies over and over (the
one in the news, the one on the poster, the one a relative named), and a repeated
search then costs a dict lookup instead of scans of the register."""

_NOISE = tuple(sorted(GENERIC_WORDS | LEGAL_WORDS))


def search(index: Index, query: str, limit: int = LIMIT) -> list[Match]:
    """Find agencies by licence number (exact, any spelling) or name (forgiving), best first.

    A query this index has answered before is answered from ``Index.recent``.
    """
    key = (query, limit)
    found = index.recent.get(key)
    if found is None:
        found = tuple(_search(index, query, limit))
        _remember(index.recent, key, found)
    return list(found)


def nearest_only(query: str, matches: list[Match]) -> bool:
    """Tell whether the matches found are only the nearest names to what was typed.

    A licence number is exact. A name is found when a match has every word typed
    (``names_agree``). When none has, the person is shown the register's names as the
    nearest ones and picks, even when there is one: answering, or saying "N agencies
    match", would speak of other agencies than the one typed as if it were one of them.
    """
    return (bool(matches) and licence_query(query) is None
            and not any(names_agree(query, m.name) for m in matches))


def _remember(recent: dict, key: tuple[str, int], found: tuple[Match, ...]) -> None:
    if len(recent) >= RECENT:
        # Drop the oldest; another thread may just have dropped it.
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del recent[next(iter(recent))]
    recent[key] = found


def _search(index: Index, query: str, limit: int) -> list[Match]:
    wanted = licence_query(query)
    if wanted is not None:
        return [index.match(i, 100.0) for i in index.by_licence.get(wanted, ())][:limit]
    tokens = _without_misspelt_noise(name_tokens(query))
    key = "".join(tokens)
    if len(key) < MIN_KEY:
        return []
    spaced = " ".join(tokens)
    ranks = _containing(index, key, spaced)
    if len(ranks) > 1:
        ranks = _the_one_named(index, query, ranks)
    if not ranks:  # a misspelt word? put the register's nearest word in its place
        corrected = _corrected(index, tokens)
        if corrected != tokens:
            ranks = {i: rank - 50.0 for i, rank in
                     _containing(index, "".join(corrected), " ".join(corrected)).items()}
    if not ranks:  # words run together ("alnoor", "savannalink")
        ranks = {i: 100.0 for i in index.holding(key)}
    if not ranks and len(key) >= 4:  # the whole name, misspelt
        found = process.extract(spaced, index.spaced, scorer=fuzz.ratio,
                                score_cutoff=FUZZY_CUTOFF, limit=limit)
        ranks = {i: float(score) for _choice, score, i in found}
    best = sorted(ranks.items(), key=lambda item: (-item[1], index.names[item[0]].lower()))
    return [index.match(i, rank) for i, rank in best[:limit]]


def _containing(index: Index, key: str, spaced: str) -> dict[int, float]:
    """Rank names equal to ``key`` (only those), else names starting with or holding it."""
    ranks = {i: EXACT for i in index.by_key.get(key, ())}
    if not ranks:
        for i in index.holding(spaced, spaced=True):
            ranks[i] = 200.0 if index.spaced[i].startswith(spaced) else 150.0
    return ranks


def _the_one_named(index: Index, query: str, ranks: dict[int, float]) -> dict[int, float]:
    """Keep the one agency the name typed picks out of several found, if it picks one.

    A name typed in full (``same_name``) picks its agency out of those sharing its key;
    else a name whose every word only one of them has ("Tai Star Placement" among "Tai
    Star Placement Services" and "Tai Star Human Resource") picks that one. A bare
    distinctive word ("tai star") names them all, and they are all kept.
    """
    for named in (lambda i: ranks[i] == EXACT and same_name(query, index.names[i]),
                  lambda i: names_agree(query, index.names[i])):
        picked = [i for i in ranks if named(i)]
        if len(picked) == 1:
            return {picked[0]: ranks[picked[0]]}
    return ranks


def _corrected(index: Index, tokens: list[str]) -> list[str]:
    """Replace each word not in the register by its nearest register word, if near enough."""
    known = index.vocabulary
    out = []
    for token in tokens:
        if len(token) < 4 or token.isdigit() or index.knows(token):
            out.append(token)
            continue
        best = process.extractOne(token, known, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF - 4)
        out.append(best[0] if best else token)
    return out


def _without_misspelt_noise(tokens: list[str]) -> list[str]:
    """Drop words that are typos of the trade's noise words ("recruters", "limted")."""
    kept = [t for t in tokens if len(t) < 5 or not _noise_typo(t)]
    return kept or tokens


@functools.lru_cache(maxsize=65536)  # the same words come back in query after query
def _noise_typo(token: str) -> bool:
    return process.extractOne(token, _NOISE, scorer=fuzz.ratio, score_cutoff=80) is not None
