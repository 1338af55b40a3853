"""Send the check-ins due at a moment: streamed from SQL, sent in batches on ``bulk``.

One run walks the placements abroad (``app.checkins.eligible``) by keyset pages,
never holding more than one page. For each page it writes, in one transaction, the
CheckIn rows and their Messages, and defers send jobs of ``SMS_BATCH_SIZE``
recipients with one body each (``app.checkins.pages``, ``app.checkins.batches``). On
PostgreSQL a page is one statement that reads the placements and writes both tables
on the server; SQLite reads the rows into Python and writes them with the same
arithmetic (``due.py``). Only one run goes at a time (``LOCK_KEY``).

A run is idempotent: a check-in is unique per placement and sequence, and each
message's dedupe key names both, so a second run for the same moment sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.checkins.due import parse_as_of
from app.checkins.eligible import (
    abroad,
    count_of,
    eligible,
    page_query,
    plan_small,
    split_countries,
)
from app.checkins.pages import write_page, write_page_pg
from app.extensions import Services
from app.models import Contact

log = logging.getLogger(__name__)

DEFAULT_PAGE = 5000
"""Placements read and written per transaction unless ``CHECKIN_PAGE_SIZE`` says otherwise.

Each page's SMS are then cut into send jobs of ``SMS_BATCH_SIZE`` recipients with one
body (one language), so every job is exactly one AT request. A batch never spans two
pages, so each page ends with one short batch per language: pages of 5,000 send
100,000 people in 220 requests instead of 250 with pages of 2,000 (a job costs a
worker much the same whatever its size), and a page is still one short PostgreSQL
statement."""

LOCK_KEY = "kazi:checkins:send-due"
"""Redis key held while a run is in progress, so cron and an operator never overlap."""

LOCK_TTL = 3600
"""Seconds before a dead run's lock lapses."""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def send_due(svc: Services, as_of: str | datetime | None = None) -> dict[str, Any]:
    """Create and queue every check-in due at ``as_of`` (default now); give counts."""
    moment = parse_as_of(as_of)
    counts: dict[str, Any] = {"as_of": moment.isoformat(timespec="seconds"), "checked": 0,
                              "created": 0, "not_due": 0, "already_sent": 0, "busy_number": 0,
                              "batches": 0, "outside_hours": 0, "paused": 0}
    token = uuid.uuid4().hex
    if not svc.redis.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL):
        log.warning("check-ins: another send_due run holds %s; not starting", LOCK_KEY)
        return {**counts, "locked": 1}
    try:
        _run(svc, moment, counts)
    finally:
        svc.redis.eval(_RELEASE, 1, LOCK_KEY, token)
    log.info("check-ins: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _run(svc: Services, moment: datetime, counts: dict[str, Any]) -> None:
    with svc.db.Session() as session:
        plan_small(session)
        awake, asleep = split_countries(session, moment)
        counts["outside_hours"] = count_of(session, eligible(moment, asleep))
        counts["paused"] = count_of(session, abroad(moment).where(Contact.checkins_paused))
    if not awake:
        return
    page_size = int(svc.config.get("CHECKIN_PAGE_SIZE") or DEFAULT_PAGE)
    openings: dict[str, str] = {}
    on_postgres = svc.db.engine.dialect.name == "postgresql"
    last_id = 0
    while True:
        for attempt in range(3):
            try:
                with svc.db.session() as session:
                    plan_small(session)
                    if on_postgres:
                        page = write_page_pg(svc, session, moment, awake, last_id, page_size,
                                             openings)
                    else:
                        page = write_page(svc, session, moment,
                                          session.execute(page_query(moment, awake, last_id,
                                                                     page_size)).all(),
                                          openings)
                break
            except IntegrityError:
                # A run that outlived its lock wrote some of this page; re-read it.
                log.warning("check-ins: page after %d collided (attempt %d)", last_id, attempt)
        else:
            raise RuntimeError(f"check-ins: page after placement {last_id} keeps colliding")
        if page.last_id is None:
            return
        for key in ("checked", "created", "not_due", "already_sent", "busy_number", "batches"):
            counts[key] += getattr(page, key)
        last_id = page.last_id
