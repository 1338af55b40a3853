"""The partner events bench's world: who is registered, and the events partners send.

``seed`` registers people, agencies, listings and partners straight into the
database; ``build`` makes every event before the clock starts, split into the
lanes the sending threads follow in order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from dataclasses import dataclass
from typing import Any

from bench.harness import SetupError

AGENCIES = 50
LICENCE = "NEA/PEA/2024/{:04d}"


# --------------------------------------------------------------------------- seed


def seed(database_url: str, pii_key: str, people: int) -> dict[str, Any]:
    """Register people, agencies, listings and partners; give the partners' credentials."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from app.crypto import PiiCipher
    from app.db import make_engine, utcnow
    from app.listings.service import name_key
    from app.models import Agency, JobListing, Licence, LicenceChange, Person, Placement
    from app.models.person import reg_no_for
    from app.partners.registry import add_partner

    cipher = PiiCipher([pii_key])
    engine = make_engine(database_url)
    now = utcnow()
    with Session(engine) as session, session.begin():
        agencies = [{"id": n, "name": f"Bench Agency {n}", "name_key": name_key(
                     f"Bench Agency {n}"), "phone": f"+2547110{n:05d}", "complaints_count": 0,
                     "placements_count": 0, "listings_total": 1, "listings_rejected": 0,
                     "police_alerts": 0} for n in range(1, AGENCIES + 1)]
        session.execute(insert(Agency), agencies)
        session.execute(insert(Licence), [
            {"id": n, "agency_id": n, "licence_no": LICENCE.format(n), "register_status": "valid",
             "status": "valid", "expires_on": dt.date(2099, 12, 31), "last_seen_at": now}
            for n in range(1, AGENCIES + 1)])
        session.execute(insert(LicenceChange), [
            {"licence_id": n, "old_status": None, "new_status": "valid",
             "new_expires_on": dt.date(2099, 12, 31), "source": "bench",
             "learned_at": now - dt.timedelta(days=800)} for n in range(1, AGENCIES + 1)])
        session.execute(insert(JobListing), [
            {"id": n, "code": f"B{n:05d}", "agency_id": n, "title": "House help",
             "occupation": "domestic_worker", "destination": "SA", "status": "approved",
             "flags": [], "payload": {}, "visa_type": "work", "source": "bench",
             "submitted_at": now} for n in range(1, AGENCIES + 1)])
        batch = []
        for i in range(people):
            national_id = f"{30_000_000 + i}"
            batch.append({"id": i + 1, "reg_no": reg_no_for(i + 1),
                          "phone": f"+2547{20_000_000 + i:08d}", "full_name": "Bench Person",
                          "national_id_enc": cipher.encrypt(national_id),
                          "national_id_bidx": cipher.blind_index("national_id", national_id),
                          "lang": "sw" if i % 3 else "en", "minor_abroad": False,
                          "consent_version": "v1", "consent_channel": "ussd",
                          "consent_at": now, "status": "active", "created_at": now})
            if len(batch) == 5000:
                session.execute(insert(Person), batch)
                batch = []
        if batch:
            session.execute(insert(Person), batch)
        session.execute(insert(Placement), [
            {"person_id": i + 1, "agency_id": i % AGENCIES + 1, "listing_id": i % AGENCIES + 1,
             "phone": f"+2547{20_000_000 + i:08d}", "country": "SA", "visa_type": "work",
             "status": "visa_issued", "irregular": False, "created_at": now,
             "updated_at": now} for i in range(people) if i % 10 < 3])
        credentials = {}
        for kind in ("immigration", "destination", "police"):
            partner, secret = add_partner(session, cipher, f"Bench {kind}", kind)
            credentials[kind] = (partner.id, secret)
        from sqlalchemy import text

        for table in ("agencies", "licences", "job_listings", "people"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
    engine.dispose()
    return credentials


# ------------------------------------------------------------------------- events


@dataclass
class Job:
    kind: str  # partner kind that sends it
    body: bytes
    expect: tuple[int, ...]
    label: str


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(total: int, people: int, threads: int, rng: random.Random) -> list[list[Job]]:
    """Give each thread its list of events, in the order it must send them."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = itertools.count(1)
    per_thread: list[list[Job]] = [[] for _ in range(threads)]

    def body(kind: str, occurred: dt.datetime, person: dict | None, data: dict) -> bytes:
        event = {"id": f"bench-{next(ids):07d}", "type": kind, "occurred_at": _iso(occurred),
                 "data": data}
        if person is not None:
            event["person"] = person
        return json.dumps(event, separators=(",", ":")).encode()

    unmatched = total // 10
    alerts = total // 100
    replays = total // 10
    person_events = total - unmatched - alerts - replays
    made = 0
    i = 0
    while made < person_events:
        if i >= people:
            raise SetupError(f"--people {people} is too few for {total} events")
        who = {"national_id": f"{30_000_000 + i}"}
        jobs = [
            Job("immigration", body("immigration.departure", now - dt.timedelta(days=200), who,
                                    {"country": "SA", "port": "JKIA", "visa_type": "work"}),
                (200,), "departure"),
            Job("destination", body("permit.issued", now - dt.timedelta(days=190), who,
                                    {"country": "SA", "permit_no": f"IQ{i:08d}",
                                     "permit_type": "work", "expires_on": "2028-01-31"}),
                (200,), "permit.issued"),
        ]
        if i % 6 == 0:
            jobs.append(Job("destination", body("permit.revoked", now - dt.timedelta(days=100),
                                                who, {"country": "SA",
                                                      "permit_no": f"IQ{i:08d}"}),
                            (200,), "permit.revoked"))
        jobs.append(Job("immigration", body("immigration.arrival", now - dt.timedelta(days=5),
                                            who, {"country": "SA", "port": "JKIA"}),
                        (200,), "arrival"))
        jobs = jobs[:person_events - made]
        per_thread[i % threads].extend(jobs)
        made += len(jobs)
        i += 1
    for n in range(unmatched):
        who = {"national_id": f"{90_000_000 + n}", "passport": f"AK{n:07d}"}
        job = Job("immigration", body("immigration.departure", now - dt.timedelta(days=3), who,
                                      {"country": "QA", "port": "JKIA"}), (202,), "unmatched")
        lane = per_thread[n % threads]
        lane.insert(rng.randrange(len(lane) + 1), job)
    for n in range(alerts):
        job = Job("police", body("police.alert", now - dt.timedelta(days=1), None,
                                 {"licence_no": LICENCE.format(n % AGENCIES + 1),
                                  "reason": "bench"}), (200,), "police.alert")
        lane = per_thread[n % threads]
        lane.insert(rng.randrange(len(lane) + 1), job)
    for n in range(replays):
        lane = per_thread[n % threads]
        at = rng.randrange(1, len(lane) + 1)
        original = lane[rng.randrange(at)]
        lane.insert(at, Job(original.kind, original.body, (200,), "replay"))
    return per_thread
