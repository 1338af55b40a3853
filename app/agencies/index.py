"""The register in memory: one index per process, rebuilt when the register changes.

Each process keeps an index of the register: per agency its id, name, name key,
licence number and status, plus dicts by name key and by licence (year, number).
A search (``app.agencies.search``) then needs no SQL at all: dict lookups, a
substring scan and one fuzzy pass over a few thousand short keys.

The index is rebuilt when the register changes. Whatever changes it (an import, the
licence watch, the demo seed) calls ``register_changed`` after committing, which
sets a new token in Redis (``VERSION_KEY``); every search compares that token with
the one its index was built at. If Redis lost the key, the token is derived from SQL
instead (the newest import and licence change) and put back.

The index also holds each agency's complaints on record, so a check is answered
from memory. A filed report calls ``complaints_changed`` after its commit; the next
search sees the new ``COMPLAINTS_KEY`` token and reloads only the counts (one small
query), not the index. Both tokens are read with one ``MGET`` per search.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.agencies.names import licence_key, name_tokens
from app.agencies.register import KENYA, last_update
from app.db import Database, aware
from app.models import Agency, AgencyComplaint, Licence, LicenceChange, RegisterImport

log = logging.getLogger(__name__)

VERSION_KEY = "kazi:agencies:version"
"""Redis key holding a token that changes whenever the register does."""

COMPLAINTS_KEY = "kazi:agencies:complaints:version"
"""Redis key holding a token that changes whenever a report against an agency is filed."""

TOKEN_KEYS = (VERSION_KEY, COMPLAINTS_KEY)
"""Both tokens, as the USSD gateway reads them along with each session."""


@dataclass(frozen=True)
class Match:
    """An agency a search found, with what a list of matches shows."""

    agency_id: int
    name: str
    licence_no: str
    status: str
    expires_on: date | None
    rank: float


@dataclass(frozen=True)
class Index:
    """The register in memory, as it was at ``token``."""

    token: str
    ids: tuple[int, ...]
    names: tuple[str, ...]
    keys: tuple[str, ...]
    spaced: tuple[str, ...]
    licences: tuple[str, ...]
    statuses: tuple[str, ...]
    expiries: tuple[date | None, ...]
    by_key: dict[str, tuple[int, ...]]
    by_licence: dict[tuple[int, int], tuple[int, ...]]
    updated_at: datetime | None
    vocabulary: tuple[str, ...] = ()
    """Every word of every name key, once: what a misspelt word is corrected to."""
    backwards: tuple[str, ...] = ()
    """Every vocabulary word spelt backwards, sorted: what tells a word's ending."""
    words_joined: str = ""
    """The vocabulary, each word followed by a newline: what tells part of a word."""
    joined: str = ""
    """Every key, each followed by a newline: one string to find substrings in at C speed."""
    starts: tuple[int, ...] = ()
    """Where each key starts in ``joined``."""
    joined_spaced: str = ""
    """The same for the keys with spaces between words."""
    starts_spaced: tuple[int, ...] = ()
    register_statuses: tuple[str, ...] = ()
    """The status each licence's register row says (``statuses`` is the one learned)."""
    positions: dict[int, int] = field(default_factory=dict)
    """Agency id -> its position in the tuples above."""
    complaints: dict[int, int] = field(default_factory=dict)
    """Agency id -> complaints on record, for agencies that have any."""
    complaints_token: str = ""
    """The ``COMPLAINTS_KEY`` token the counts were loaded at."""
    updated_on: date | None = None
    """``updated_at`` as a date in Kenya: the register date every answer shows."""
    recent: dict[tuple[str, int], tuple[Match, ...]] = field(
        default_factory=dict, compare=False, repr=False)
    """Searches already answered from this index (``search.RECENT`` at most, oldest dropped
    first). Shared by the copy ``replace`` makes for new complaint counts, which a
    search's result does not depend on."""

    def holding(self, key: str, spaced: bool = False) -> list[int]:
        """Give the positions of the keys that contain ``key`` (with spaces, or without)."""
        if spaced and not self._words_could_hold(key):
            return []  # a word no name has: no need to read every name
        joined, starts, keys = ((self.joined_spaced, self.starts_spaced, self.spaced) if spaced
                                else (self.joined, self.starts, self.keys))
        found: list[int] = []
        at = joined.find(key)
        while at >= 0:
            i = bisect.bisect_right(starts, at) - 1
            found.append(i)
            at = joined.find(key, starts[i] + len(keys[i]) + 1)
        return found

    def _words_could_hold(self, spaced: str) -> bool:
        """Tell, from the vocabulary alone, whether some spaced key may hold ``spaced``.

        Keys are vocabulary words with one space between them, so a key holding
        "w1 w2 .. wn" has a word ending in w1, then the words w2 .. wn-1, then a word
        starting with wn; a single word must be part of one word. A misspelt word
        fails this in a few lookups instead of a scan of the whole register.
        """
        words = spaced.split(" ")
        if len(words) == 1:
            return words[0] in self.words_joined
        return (_starts_one(self.backwards, words[0][::-1])
                and all(_has(self.vocabulary, word) for word in words[1:-1])
                and _starts_one(self.vocabulary, words[-1]))

    def knows(self, word: str) -> bool:
        """Tell whether ``word`` is a word of some name key."""
        return _has(self.vocabulary, word)

    def match(self, i: int, rank: float) -> Match:
        return Match(self.ids[i], self.names[i], self.licences[i], self.statuses[i],
                     self.expiries[i], rank)


_indexes: weakref.WeakKeyDictionary[Database, Index] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def register_changed(redis: Redis) -> None:
    """Tell every process the register changed (call after the change is committed)."""
    _bump(redis, VERSION_KEY)


def complaints_changed(redis: Redis) -> None:
    """Tell every process an agency's complaints changed (call after the commit)."""
    _bump(redis, COMPLAINTS_KEY)


def _bump(redis: Redis, key: str) -> None:
    try:
        redis.set(key, uuid.uuid4().hex)
    except RedisError as exc:  # searches fall back to the SQL token
        log.warning("could not bump %s (%s)", key, type(exc).__name__)


def current_index(db: Database, redis: Redis | None,
                  known: Mapping[str, bytes | None] | None = None) -> Index:
    """Give this process's index of the register, rebuilt if the register changed.

    ``known`` may hold both tokens as just read from Redis (with a USSD session);
    otherwise they are read here.
    """
    version, complaints = (known or {}).get(VERSION_KEY), (known or {}).get(COMPLAINTS_KEY)
    if version is not None and complaints is not None:
        token, complaints_token = version.decode(), complaints.decode()
    else:
        token, complaints_token = _tokens(db, redis)
    index = _indexes.get(db)
    if index is not None and index.token == token \
            and index.complaints_token == complaints_token:
        return index
    with _lock:
        index = _indexes.get(db)
        if index is None or index.token != token:
            with db.Session() as session:
                index = build(session, token, complaints_token)
        elif index.complaints_token != complaints_token:
            with db.Session() as session:
                index = replace(index, complaints=_complaints(session),
                                complaints_token=complaints_token)
        _indexes[db] = index
    return index


def warm(db: Database, redis: Redis | None) -> None:
    """Build this process's index now, so the first check is not the one that waits.

    The gateway (``wsgi.py``) calls it as each worker starts. A database or Redis
    that is not there yet is no reason not to start: the first check builds it.
    """
    try:
        current_index(db, redis)
    except (SQLAlchemyError, RedisError) as exc:
        log.warning("register index not built at start (%s); the first check will build it",
                    type(exc).__name__)


def _tokens(db: Database, redis: Redis | None) -> tuple[str, str]:
    """Give the register's and the complaints' tokens: Redis, else derived from SQL."""
    values: list[bytes | None] = [None, None]
    if redis is not None:
        try:
            values = redis.mget(VERSION_KEY, COMPLAINTS_KEY)
        except RedisError as exc:
            log.warning("register version unreadable (%s); using SQL", type(exc).__name__)
            redis = None
    if values[0] is not None and values[1] is not None:
        return values[0].decode(), values[1].decode()
    with db.Session() as session:
        newest_import, newest_change, count, newest_complaint = session.execute(
            select(select(func.max(RegisterImport.id)).scalar_subquery(),
                   select(func.max(LicenceChange.id)).scalar_subquery(),
                   select(func.count(Licence.id)).scalar_subquery(),
                   select(func.max(AgencyComplaint.id)).scalar_subquery())
        ).one()
    derived = (f"sql:{newest_import}:{newest_change}:{count}", f"sql:{newest_complaint}")
    tokens = []
    for key, value, fallback in zip((VERSION_KEY, COMPLAINTS_KEY), values, derived,
                                    strict=True):
        if value is not None:
            tokens.append(value.decode())
            continue
        tokens.append(fallback)
        if redis is not None:
            try:
                redis.set(key, fallback, nx=True)
            except RedisError:
                pass
    return tokens[0], tokens[1]


def _complaints(session: Session) -> dict[int, int]:
    """Give complaints on record per agency, for the agencies that have any."""
    return dict(session.execute(select(Agency.id, Agency.complaints_count)
                                .where(Agency.complaints_count > 0)).all())


def build(session: Session, token: str = "", complaints_token: str = "") -> Index:
    """Load the register into an index (one query, plus the import's time and complaints)."""
    rows = session.execute(
        select(Agency.id, Agency.name, Licence.licence_no, Licence.status, Licence.expires_on,
               Licence.register_status)
        .join(Licence, Licence.agency_id == Agency.id)
        .order_by(Agency.id)
    ).all()
    spaced = [" ".join(name_tokens(row.name)) for row in rows]
    vocabulary = {word for name in spaced for word in name.split()}
    keys = [s.replace(" ", "") for s in spaced]
    by_key: dict[str, list[int]] = {}
    by_licence: dict[tuple[int, int], list[int]] = {}
    for i, row in enumerate(rows):
        by_key.setdefault(keys[i], []).append(i)
        by_licence.setdefault(licence_key(row.licence_no), []).append(i)
    updated = session.scalar(last_update())
    return Index(
        token=token,
        ids=tuple(r.id for r in rows),
        names=tuple(r.name for r in rows),
        keys=tuple(keys),
        spaced=tuple(spaced),
        licences=tuple(r.licence_no for r in rows),
        statuses=tuple(r.status for r in rows),
        expiries=tuple(r.expires_on for r in rows),
        by_key={k: tuple(v) for k, v in by_key.items()},
        by_licence={k: tuple(v) for k, v in by_licence.items()},
        updated_at=aware(updated),
        updated_on=aware(updated).astimezone(KENYA).date() if updated else None,
        vocabulary=tuple(sorted(vocabulary)),
        backwards=tuple(sorted(word[::-1] for word in vocabulary)),
        words_joined="".join(word + "\n" for word in vocabulary),
        joined="".join(k + "\n" for k in keys),
        starts=_starts(keys),
        joined_spaced="".join(k + "\n" for k in spaced),
        starts_spaced=_starts(spaced),
        register_statuses=tuple(r.register_status for r in rows),
        positions={r.id: i for i, r in enumerate(rows)},
        complaints=_complaints(session),
        complaints_token=complaints_token,
    )


def _starts(keys: list[str]) -> tuple[int, ...]:
    return tuple(itertools.accumulate((len(k) + 1 for k in keys[:-1]), initial=0)) if keys \
        else ()


def _has(words: tuple[str, ...], word: str) -> bool:
    i = bisect.bisect_left(words, word)
    return i < len(words) and words[i] == word


def _starts_one(words: tuple[str, ...], start: str) -> bool:
    """Tell whether a word of the sorted ``words`` starts with ``start``."""
    i = bisect.bisect_left(words, start)
    return i < len(words) and words[i].startswith(start)
