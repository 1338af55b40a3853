"""People, agencies, listings and placements for the placement tests, stored for real."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

from sqlalchemy import func, select

from app.agencies.index import register_changed
from app.api.keys import issue_key
from app.db import utcnow
from app.listings.service import name_key
from app.models import Agency, Contact, JobListing, Licence, Message, Person, Placement
from app.models.person import reg_no_for
from app.placements.service import transition
from menus.travel import kenya_today

_codes = count(2)

PHONE = "+254712345678"
KIN = "+254722000111"


def register(svc, phone: str = PHONE, national_id: str = "12345678", lang: str = "en",
             name: str = "Jane Wanjiru", passport: str | None = None) -> int:
    """Store a registered person as registration does (consent, blind index); give the id."""
    with svc.db.session() as session:
        person = Person(phone=phone, full_name=name,
                        national_id_enc=svc.cipher.encrypt(national_id),
                        national_id_bidx=svc.cipher.blind_index("national_id", national_id),
                        birth_year=1995, lang=lang, consent_version="v1", consent_channel="ussd",
                        consent_at=utcnow(), status="active", occupation="domestic_worker")
        if passport:
            person.passport_enc = svc.cipher.encrypt(passport)
            person.passport_bidx = svc.cipher.blind_index("passport", passport)
        session.add(person)
        session.add(Contact(phone=phone, lang=lang))
        session.flush()
        person.reg_no = reg_no_for(person.id)
        return person.id


def agency(svc, name: str = "Savanna Recruitment Agency Ltd",
           licence_no: str = "NEA/PEA/2024/0001", status: str = "valid",
           expires_on: date | None = date(2099, 12, 31)) -> int:
    """Put an agency on the register (and tell the search index); give its id."""
    with svc.db.session() as session:
        row = Agency(name=name, name_key=name_key(name), complaints_count=0,
                     placements_count=0, listings_total=0, listings_rejected=0, police_alerts=0)
        session.add(row)
        session.flush()
        session.add(Licence(agency_id=row.id, licence_no=licence_no, register_status=status,
                            status=status, expires_on=expires_on))
        agency_id = row.id
    register_changed(svc.redis)
    return agency_id


def api_key(svc, licence_no: str = "NEA/PEA/2024/0001") -> str:
    with svc.db.session() as session:
        return issue_key(session, licence_no)


def listing(svc, agency_id: int, status: str = "approved", country: str = "QA",
            code: str | None = None) -> str:
    """Store a job listing with a public code; give the code."""
    code = code or f"K7MZQ{next(_codes)}"
    with svc.db.session() as session:
        session.add(JobListing(code=code, agency_id=agency_id, title="House help",
                               occupation="domestic_worker", destination=country, status=status,
                               flags=[], payload={}, visa_type="work"))
    return code


def abroad(svc, person_id: int, country: str = "SA", days: int = 30,
           phone: str = PHONE) -> int:
    """Give the person a placement that departed and arrived ``days`` ago; give its id."""
    start = utcnow() - timedelta(days=days)
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone=phone, country=country)
        transition(session, placement, "departed", source="immigration", occurred_at=start)
        transition(session, placement, "arrived", source="immigration",
                   occurred_at=start + timedelta(hours=8))
        return placement.id


def day(offset: int, style: str = "-") -> str:
    """Give the Kenyan date ``offset`` days from today as a person types it."""
    value = kenya_today() + timedelta(days=offset)
    if style == "":
        return value.strftime("%d%m%Y")
    return value.strftime(f"%d{style}%m{style}%Y")


def count_of(svc, model, *where) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def sms_to(svc, phone: str = PHONE) -> list[Message]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Message).where(Message.to_phone == phone)
                                    .order_by(Message.id)))


def at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
