"""A realistic demo register: about 300 agencies, statuses mixed as on the 2023 register.

In 2023, 531 of 932 registered agencies held valid licences (57%). The demo keeps that
share valid; the rest are expired (most), suspended or revoked. Some rows still say
``valid`` after their expiry date, as a lagging register does, and import as expired.
A few valid agencies share a director with a revoked one (a red flag), and a few
licences run out within the week, for the licence watch to catch.

Everything comes from one seeded random generator, so the same day gives the same
register; expiry dates are relative to today, so valid stays valid. The rows go
through the register import (source ``demo``), so history and search work as for a
real import. Four agencies are fixed, to try every answer:

- ``NEA/PEA/2024/0001`` Savanna Recruitment Agency Ltd: valid
- ``NEA/PEA/2024/0002`` Gulf Star Manpower Services Ltd: suspended
- ``NEA/PEA/2023/0003`` Crescent Overseas Placement Ltd: revoked
- ``NEA/PEA/2023/0004`` Nuru Employment Agency Ltd: expired

Other features add their demo data through ``EXTRA_SEEDS`` (job listings do).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import app.listings.demo
from app.agencies.names import LICENCE_FORMAT
from app.agencies.register import (
    Row,
    effective_status,
    import_rows,
    kenya_today,
    record_import,
)
from app.models import Agency, Licence
from app.phones import try_normalise

log = logging.getLogger(__name__)

SEED = 2023
"""The random seed: the same seed and day give the same register."""

VALID_SHARE = 531 / 932
"""Share of agencies with a valid licence (NEA register, 2023)."""

EXTRA_SEEDS = (app.listings.demo,)
"""Modules with ``seed(session) -> dict``, run after the register."""

FIXED = (
    ("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd", "valid", 400),
    ("NEA/PEA/2024/0002", "Gulf Star Manpower Services Ltd", "suspended", 200),
    ("NEA/PEA/2023/0003", "Crescent Overseas Placement Ltd", "revoked", 100),
    ("NEA/PEA/2023/0004", "Nuru Employment Agency Ltd", "expired", -30),
)
"""Licence, name, status and days to expiry of the agencies the docs and tests use."""

_FIRST = (
    "Savanna", "Imara", "Tumaini", "Baraka", "Neema", "Upendo", "Amani", "Jamii", "Safari",
    "Fanaka", "Zawadi", "Tujenge", "Mwangaza", "Heshima", "Ujuzi", "Bidii", "Faraja",
    "Kilele", "Pwani", "Jua Kali", "Mlima", "Ziwa", "Tana", "Athi", "Rift Valley", "Lake Basin",
    "Coastline", "Mount Kenya", "Nyota", "Uhuru", "Harambee", "Nairobi", "Mombasa", "Kisumu",
    "Nakuru", "Eldoret", "Thika", "Machakos", "Nyeri", "Meru", "Kericho", "Malindi", "Kilifi",
    "Lamu", "Garissa", "Kakamega", "Bungoma", "Embu", "Naivasha", "Nanyuki", "Gulf", "Crescent",
    "Horizon", "Summit", "Pinnacle", "Zenith", "Royal", "Global", "Premier", "Elite", "Golden",
    "Sky", "Sunrise", "Oasis", "Falcon", "Acacia", "Baobab", "Jacaranda", "Simba", "Twiga",
    "Ndovu", "Kifaru", "Chui", "Tai", "Al Amin", "Al Noor", "Al Baraka", "Dunia", "Tausi",
    "Kipepeo", "Riziki", "Neno", "Mwamba", "Kito", "Almasi", "Lulu", "Marhaba", "Zamzam",
    "Bahari", "Kaskazini", "Magharibi", "Mashariki", "Kusini", "Msingi", "Daraja", "Ngao",
)
_SECOND = ("", "", "", "", "Link", "Bridge", "Gate", "Path", "Way", "Star", "Hope", "Works",
           "Connect", "Pride", "Trust", "Vision", "Hands", "Career", "Jobs", "Careers", "Staff")
_TRADE = (
    "Recruitment Agency Ltd", "Manpower Services Ltd", "Employment Agency Ltd",
    "International Recruitment Ltd", "Overseas Placement Ltd", "Human Resource Consultants Ltd",
    "Recruiters Ltd", "Employment Bureau Ltd", "Staffing Solutions Ltd", "Agencies (K) Ltd",
    "Travel and Recruitment Ltd", "Labour Solutions Ltd", "Careers International Ltd",
    "Job Centre Ltd", "Placement Services Co. Ltd", "Manpower (K) Ltd",
)
_PEOPLE_FIRST = (
    "Jane", "John", "Mary", "Peter", "Grace", "James", "Faith", "Joseph", "Mercy", "David",
    "Esther", "Samuel", "Ann", "Daniel", "Lucy", "Paul", "Wanjiku", "Kamau", "Achieng",
    "Otieno", "Njeri", "Mwangi", "Chebet", "Kiprono", "Halima", "Hassan", "Fatuma", "Omar",
    "Mumbua", "Mutua", "Kerubo", "Nyaboke", "Wafula", "Nafula", "Atieno", "Ochieng",
)
_PEOPLE_LAST = (
    "Wambui", "Odhiambo", "Kariuki", "Njoroge", "Mutiso", "Kiptoo", "Onyango", "Wafula",
    "Nyambura", "Kilonzo", "Cherono", "Hassan", "Mohamed", "Kamau", "Maina", "Ouma", "Rotich",
    "Koech", "Mwangi", "Githinji", "Omondi", "Barasa", "Wekesa", "Musyoka", "Abdi", "Ali",
    "Kimani", "Ndungu", "Okoth", "Langat", "Jeptoo", "Nyaga", "Gitau", "Achieng", "Juma",
)
_STREETS = (
    ("Moi Avenue", "Nairobi"), ("Kenyatta Avenue", "Nairobi"), ("Tom Mboya Street", "Nairobi"),
    ("Kimathi Street", "Nairobi"), ("Ngong Road", "Nairobi"), ("Waiyaki Way", "Nairobi"),
    ("Mombasa Road", "Nairobi"), ("Haile Selassie Avenue", "Nairobi"),
    ("Luthuli Avenue", "Nairobi"), ("Biashara Street", "Nairobi"), ("Eastleigh 1st Avenue",
                                                                    "Nairobi"),
    ("Digo Road", "Mombasa"), ("Moi Avenue", "Mombasa"), ("Nyerere Avenue", "Mombasa"),
    ("Oginga Odinga Street", "Kisumu"), ("Kenyatta Avenue", "Nakuru"),
    ("Uganda Road", "Eldoret"), ("Kenyatta Highway", "Thika"), ("Kimathi Way", "Nyeri"),
    ("Lamu Road", "Malindi"), ("Kenyatta Avenue", "Garissa"), ("Mumias Road", "Kakamega"),
)
_BUILDINGS = ("House", "Plaza", "Towers", "Centre", "Building", "Arcade", "Court", "Chambers")
_MOBILE_PREFIXES = ("70", "71", "72", "74", "75", "79", "11", "10")


def seed(session: Session, count: int = 300, today: date | None = None) -> dict[str, Any]:
    """Import a demo register of ``count`` agencies (idempotent: a rerun changes nothing)."""
    today = today or kenya_today()
    rows = demo_rows(count, today)
    result = import_rows(session, rows, source="demo", today=today)
    record_import(session, result)
    if result.added:
        _risk_counters(session, rows, random.Random(SEED + 1))
    statuses = Counter(effective_status(r.register_status, r.expires_on, today) for r in rows)
    log.info("demo register: %s", result.summary())
    return {"agencies": len(rows), "added": result.added, "updated": result.updated,
            "unchanged": result.unchanged, **{f"status_{k}": v for k, v in statuses.items()}}


def seed_extras(session: Session) -> dict[str, dict]:
    """Run the other features' demo seeds (``EXTRA_SEEDS``); give their counts by module."""
    return {module.__name__: module.seed(session) or {} for module in EXTRA_SEEDS}


def demo_rows(count: int, today: date) -> list[Row]:
    """Make ``count`` register rows, the same ones for the same day."""
    rng = random.Random(SEED)
    statuses = _statuses(count, rng)
    rows: list[Row] = []
    names: set[str] = set()
    per_year: Counter = Counter()
    for licence_no, name, status, days in FIXED[:count]:
        _nea, _pea, year, number = licence_no.split("/")
        per_year[int(year)] = max(per_year[int(year)], int(number))
        names.add(name)
        rows.append(_row(len(rows) + 2, licence_no, name, status, today + timedelta(days=days),
                         rng))
    shared: list[str] = []
    for status in statuses[len(rows):]:
        name = _name(rng, names)
        year = rng.choice((2019, 2020, 2021, 2022, 2023, 2024, 2025))
        per_year[year] += 1
        licence_no = LICENCE_FORMAT.format(year=year, number=per_year[year])
        if status == "valid":
            expires = today + timedelta(days=rng.randint(1, 700) if rng.random() > 0.03
                                        else rng.randint(1, 6))
            written = "valid"
        elif status == "expired":
            expires = today - timedelta(days=rng.randint(1, 500))
            written = "valid" if rng.random() < 0.3 else "expired"  # a lagging register
        else:  # suspended or revoked: the date matters less (revoked stays revoked)
            expires = today + timedelta(days=rng.randint(-200 if status == "revoked" else 1,
                                                         400))
            written = status
        row = _row(len(rows) + 2, licence_no, name, written, expires, rng)
        if status == "revoked" and row.directors:
            shared.append(row.directors[0])
        elif status == "valid" and shared and rng.random() < 0.05:
            # A director of a revoked agency turns up at a licensed one: a red flag.
            row = replace(row, directors=(*row.directors, shared.pop()))
        rows.append(row)
    return rows


def _statuses(count: int, rng: random.Random) -> list[str]:
    valid = round(count * VALID_SHARE)
    rest = count - valid
    suspended = round(rest * 0.25)
    revoked = round(rest * 0.17)
    expired = rest - suspended - revoked
    fixed = [status for _l, _n, status, _d in FIXED][:count]
    pool = Counter(valid=valid, suspended=suspended, revoked=revoked, expired=expired)
    pool.subtract(Counter(fixed))
    others = [status for status, n in pool.items() for _ in range(max(n, 0))]
    rng.shuffle(others)
    return fixed + others[: count - len(fixed)]


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        first = rng.choice(_FIRST)
        second = rng.choice(_SECOND)
        name = " ".join(part for part in (first, second, rng.choice(_TRADE)) if part)
        if name not in taken:
            taken.add(name)
            return name


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_PEOPLE_FIRST)} {rng.choice(_PEOPLE_LAST)}"


def _phone(rng: random.Random) -> str:
    while True:
        phone = try_normalise(f"+254{rng.choice(_MOBILE_PREFIXES)}{rng.randint(0, 9999999):07d}")
        if phone:
            return phone


def _row(line: int, licence_no: str, name: str, status: str, expires: date,
         rng: random.Random) -> Row:
    slug = "".join(ch for ch in name.split(" ")[0].lower() if ch.isalnum())
    street, town = rng.choice(_STREETS)
    building = f"{rng.choice(_PEOPLE_LAST)} {rng.choice(_BUILDINGS)}"
    directors = tuple(dict.fromkeys(_person(rng) for _ in range(rng.randint(1, 3))))
    return Row(line=line, licence_no=licence_no, name=name, register_status=status,
               expires_on=expires, phone=_phone(rng),
               email=f"info@{slug}{rng.randint(1, 99)}.co.ke",
               physical_address=f"{building}, {street}, {town}", directors=directors)


def _risk_counters(session: Session, rows: list[Row], rng: random.Random) -> None:
    """Give new demo agencies (counters all zero) placements, complaints and listings."""
    ids = dict(session.execute(
        select(Licence.licence_no, Licence.agency_id).join(Agency)
        .where(Licence.licence_no.in_([r.licence_no for r in rows]),
               Agency.placements_count == 0, Agency.complaints_count == 0,
               Agency.listings_total == 0)
    ).all())
    for row in rows:
        agency_id = ids.get(row.licence_no)
        if agency_id is None:
            continue
        bad = row.register_status in ("suspended", "revoked")
        placements = rng.randint(0, 60) if bad else rng.randint(5, 800)
        listings = rng.randint(0, 40)
        session.execute(update(Agency).where(Agency.id == agency_id).values(
            placements_count=placements,
            complaints_count=(rng.randint(3, 40) if bad
                              else rng.randint(0, max(1, placements // 80))),
            listings_total=listings,
            listings_rejected=rng.randint(0, listings // 2 if bad else listings // 8),
            police_alerts=rng.randint(0, 3) if bad and rng.random() < 0.4 else 0,
        ))


def agency_count(session: Session) -> int:
    """Count the agencies on the register."""
    return session.scalar(select(func.count(Agency.id))) or 0
