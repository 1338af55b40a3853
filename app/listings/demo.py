"""Demo job listings on the busy corridors, plus the red-flag offers people must be warned of.

Most listings are ordinary and pass: domestic workers to Saudi Arabia, drivers,
security guards and hotel staff to Qatar and the UAE, carers to the UK and Germany,
warehouse work in Poland. Some carry the red flags of REFERENCE.md: "general
worker" and "security" jobs in Russia on tourist visas with Russian-only contracts,
fees charged to the worker, pay far from the corridor norm. Every listing is decided
by the same rules as an API submission. Listings of agencies whose licence is no
longer valid are validated as submitted (while licensed) and then held, as the
licence watch does.

Three listings have fixed codes, to try each answer by USSD or ``JOB <code>``:

- ``HSE2SA``: approved, a house help job in Riyadh (NEA/PEA/2024/0001);
- ``RUS8GW``: rejected, "general worker" in Russia on a tourist visa (NEA/PEA/2024/0001);
- ``GLF4DR``: held, a driver in Doha from a suspended agency (NEA/PEA/2024/0002).
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.listings import rules, service
from app.listings.submission import Submission
from app.models import Agency, Licence
from app.models.listing import JobListing

log = logging.getLogger(__name__)

SEED = 2026
"""The random seed: the same agencies give the same listings (codes aside)."""

COUNT = 60
"""Demo listings besides the fixed ones."""


@dataclass(frozen=True)
class Corridor:
    """A kind of job offer: where, what, for whom, and on what terms."""

    title: str
    occupation: str
    country: str
    cities: tuple[str, ...]
    employers: tuple[str, ...]
    pay: tuple[int, int]
    currency: str
    languages: tuple[str, ...]
    hours: int = 48
    period: str = "month"
    visa: str = "work"
    fee: tuple[int, str] = (0, "KES")
    vacancies: tuple[int, int] = (2, 40)
    weight: int = 1


CORRIDORS: tuple[Corridor, ...] = (
    Corridor("House help", "domestic_worker", "SA", ("Riyadh", "Jeddah", "Dammam"),
             ("Al Noor Household Services", "Riyadh Home Care Est.",
              "Al Faisal Domestic Manpower Co."), (1500, 1800), "SAR", ("en", "ar"),
             weight=6),
    Corridor("House driver", "driver", "SA", ("Riyadh", "Jeddah"),
             ("Al Rashid Family Services", "Najd Private Drivers Est."), (1800, 2500), "SAR",
             ("en", "ar"), weight=2),
    Corridor("Heavy truck driver", "driver", "QA", ("Doha", "Al Wakrah"),
             ("Gulf Haulage WLL", "Doha Logistics Co."), (2200, 3000), "QAR", ("en", "ar"),
             hours=54, weight=3),
    Corridor("Security guard, shopping mall", "security_guard", "QA", ("Doha", "Lusail"),
             ("Al Sraiya Security Services", "Qatar Guarding Co. WLL"), (1800, 2600), "QAR",
             ("en", "ar"), weight=3),
    Corridor("Hotel room attendant", "hospitality", "AE", ("Dubai", "Abu Dhabi"),
             ("Marina Hospitality LLC", "Palm Resorts Management"), (2000, 3000), "AED",
             ("en", "ar"), weight=3),
    Corridor("Waiter, 4-star hotel", "waiter", "AE", ("Dubai",),
             ("Creek Hotels LLC", "Jumeirah Dining Group"), (1800, 2500), "AED",
             ("en", "ar"), weight=2),
    Corridor("Security guard", "security_guard", "AE", ("Dubai", "Sharjah"),
             ("Emirates Guarding Services LLC", "Transguard Staffing"), (2000, 2800), "AED",
             ("en", "ar"), weight=2),
    Corridor("Cleaner, office towers", "cleaner", "KW", ("Kuwait City",),
             ("Al Mulla Facility Services",), (90, 130), "KWD", ("en", "ar")),
    Corridor("Domestic worker", "domestic_worker", "OM", ("Muscat",),
             ("Muscat Household Services LLC",), (100, 140), "OMR", ("en", "ar")),
    Corridor("Care assistant", "caregiver", "GB", ("Leeds", "Bristol", "Coventry"),
             ("Evergreen Care Homes Ltd", "Meadow View Care Ltd"), (2100, 2500), "GBP",
             ("en",), hours=40, vacancies=(5, 30), weight=2),
    Corridor("Pflegehelfer / nursing aide", "caregiver", "DE", ("Hamburg", "Cologne"),
             ("Pflegedienst Nord GmbH",), (2400, 3000), "EUR", ("en", "de"), hours=40),
    Corridor("Warehouse operative", "warehouse_worker", "PL", ("Poznan", "Wroclaw"),
             ("Logistyka Zachod Sp. z o.o.",), (5000, 6200), "PLN", ("en", "pl"), hours=40),
    Corridor("Farm worker, seasonal", "farm_worker", "CA", ("Leamington", "Kelowna"),
             ("Okanagan Orchards Inc.",), (17, 19), "CAD", ("en",), hours=45,
             period="hour"),
)
"""Ordinary offers on the corridors that carry most people (REFERENCE.md, "Scale")."""

RED_FLAGS: tuple[Corridor, ...] = (
    Corridor("General worker", "general_labourer", "RU", ("Moscow", "Yelabuga"),
             ("Alabuga Start LLC", "Volga Industrial Staffing"), (1500, 2500), "USD", ("ru",),
             visa="tourist", fee=(1500, "USD"), vacancies=(50, 200)),
    Corridor("Security", "security_guard", "RU", ("Moscow", "St Petersburg"),
             ("Northern Guard Services LLC",), (2000, 3000), "USD", ("ru",), visa="tourist",
             vacancies=(100, 600)),
    Corridor("Helper", "other", "IQ", ("Erbil", "Baghdad"), ("Tigris General Trading",),
             (400, 600), "USD", ("ar",), visa="visit"),
    Corridor("House help", "domestic_worker", "SA", ("Riyadh",),
             ("Al Noor Household Services",), (1500, 1600), "SAR", ("en", "ar"),
             fee=(60000, "KES")),
    Corridor("Heavy truck driver", "driver", "AE", ("Dubai",), ("Desert Line Transport LLC",),
             (700, 900), "AED", ("en", "ar"), hours=72),
    Corridor("Hotel cook", "cook", "RU", ("Kazan",), ("Volga Hotels Group",), (50000, 70000),
             "RUB", ("en", "ru")),
)
"""Offers with the red flags people must be warned about."""

FIXED: tuple[tuple[str, str, Corridor], ...] = (
    ("HSE2SA", "NEA/PEA/2024/0001", CORRIDORS[0]),
    ("RUS8GW", "NEA/PEA/2024/0001", RED_FLAGS[0]),
    ("GLF4DR", "NEA/PEA/2024/0002", CORRIDORS[2]),
)
"""Code, licence number and corridor of the listings the docs use."""


def seed(session: Session) -> dict[str, Any]:
    """Add demo listings to the register's agencies, once (``kazi seed-demo`` calls this)."""
    agencies = session.scalars(select(Agency).join(Licence).order_by(Agency.id)).all()
    return seed_listings(session, agencies)


def seed_listings(session: Session, agencies: Sequence[Agency], count: int = COUNT,
                  today: date | None = None) -> dict[str, Any]:
    """Add ``count`` listings (and the fixed ones) to ``agencies``; skip if demo ones exist.

    Each is validated by the listing rules at once; a listing of an agency whose licence
    is no longer valid is validated as if submitted while licensed, then held.
    """
    demo = session.scalar(select(func.count()).select_from(JobListing)
                          .where(JobListing.source == "demo"))
    if demo or not agencies:
        return {"listings": 0, "skipped": bool(demo)}
    today = today or service.today()
    rng = random.Random(SEED)
    by_licence = {}
    for agency in agencies:
        licence = service.agency_licence(session, agency.id)
        if licence is not None:
            by_licence[licence.licence_no] = (agency, licence)
    valid = [a for a, lic in by_licence.values() if service.licence_status(lic, today) == "valid"]
    others = [a for a, lic in by_licence.values() if service.licence_status(lic, today) != "valid"]
    plan: list[tuple[str | None, Agency, Corridor]] = []
    for code, licence_no, corridor in FIXED:
        if licence_no in by_licence:
            plan.append((code, by_licence[licence_no][0], corridor))
    ordinary = [c for c in CORRIDORS for _ in range(c.weight)]
    for n in range(count):
        corridor = RED_FLAGS[(n // 4) % len(RED_FLAGS)] if n % 4 == 3 else rng.choice(ordinary)
        pool = others if others and n % 10 == 9 else valid or others
        plan.append((None, rng.choice(pool), corridor))
    outcomes: dict[str, int] = {}
    for code, agency, corridor in plan:
        listing = _add(session, agency, corridor, rng, today, code)
        outcomes[listing.status] = outcomes.get(listing.status, 0) + 1
    log.info("demo listings: %s", outcomes)
    return {"listings": len(plan), **outcomes}


def _add(session: Session, agency: Agency, corridor: Corridor, rng: random.Random,
         today: date, code: str | None) -> JobListing:
    sub = _submission(corridor, rng, today)
    payload = _payload(sub)
    if code is not None and service.find_by_code(session, code) is not None:
        code = None  # a real listing took it first: draw one
    listing = service.create_listing(session, agency.id, sub, payload, source="demo")
    if code is not None:
        listing.code = code
    facts = service.facts_for(session, listing, today)
    if facts.licence_status == "valid":
        service.validate(session, listing, today)
        return listing
    # Submitted while the licence was valid; held when it stopped being so.
    outcome, flags = rules.evaluate(dataclasses.replace(facts, licence_status="valid"))
    listing.status, listing.flags = outcome, [f.as_dict() for f in flags]
    listing.validated_at = listing.submitted_at
    if outcome == "rejected":
        session.execute(update(Agency).where(Agency.id == agency.id)
                        .values(listings_rejected=Agency.listings_rejected + 1))
    service.hold_open_listings(session, agency.id,
                               f"agency licence {facts.licence_status} (demo)")
    session.flush()
    return listing


def _submission(c: Corridor, rng: random.Random, today: date) -> Submission:
    return Submission(
        title=c.title, occupation=c.occupation, employer_name=rng.choice(c.employers),
        employer_country=c.country, employer_city=rng.choice(c.cities), employer_address=None,
        salary_amount=Decimal(rng.randrange(c.pay[0], c.pay[1] + 1, 1 if c.pay[1] < 100 else 50)),
        salary_currency=c.currency, salary_period=c.period, hours_per_week=c.hours,
        vacancies=rng.randint(*c.vacancies), contract_languages=list(c.languages),
        worker_fee_amount=Decimal(c.fee[0]), worker_fee_currency=c.fee[1], visa_type=c.visa,
        closing_date=today + timedelta(days=rng.randint(14, 120)),
    )


def _payload(sub: Submission) -> dict[str, Any]:
    """Write a submission as the API's JSON, as an agency would have sent it."""
    return {
        "title": sub.title, "occupation": sub.occupation,
        "employer": {"name": sub.employer_name, "country": sub.employer_country,
                     "city": sub.employer_city},
        "salary": {"amount": int(sub.salary_amount or 0), "currency": sub.salary_currency,
                   "period": sub.salary_period},
        "hours_per_week": sub.hours_per_week, "vacancies": sub.vacancies,
        "contract_languages": sub.contract_languages,
        "worker_fees": {"amount": int(sub.worker_fee_amount or 0),
                        "currency": sub.worker_fee_currency},
        "visa_type": sub.visa_type,
        "closing_date": sub.closing_date.isoformat() if sub.closing_date else None,
    }

