"""Commit what the registration journey's events mean: people, consent, flags, SMS.

A minor asking to work abroad is flagged through ``app.protection.safeguarding``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import dialect_insert, utcnow
from app.events import Hop, handles
from app.extensions import Services
from app.i18n import translate
from app.models import Contact, Person, RegistrationDraft
from app.models.person import reg_no_for
from app.ports import Known, port
from app.protection import safeguarding
from app.sms.outbox import queue_sms
from menus.engine import Event
from menus.registration import CONSENT_VERSION

log = logging.getLogger(__name__)


def national_id_registered(services: Services, session: Session, national_id: str) -> bool:
    """Tell whether an active person already holds this national ID."""
    bidx = services.cipher.blind_index("national_id", national_id)
    return session.scalar(select(Person.id).where(Person.national_id_bidx == bidx)) is not None


def set_language(session: Session, phone: str, lang: str, registered: bool = True) -> None:
    """Remember a number's language (one upsert), and the person's if registered."""
    now = utcnow()
    insert = dialect_insert(session, Contact).values(phone=phone, lang=lang, created_at=now,
                                                      updated_at=now)
    session.execute(insert.on_conflict_do_update(index_elements=["phone"],
                                                 set_={"lang": lang, "updated_at": now}))
    if registered:
        session.execute(
            update(Person).where(Person.phone == phone, Person.status == "active")
            .values(lang=lang)
        )


def register(services: Services, session: Session, phone: str, session_ref: str,
             data: dict[str, Any], lang: str, channel: str = "ussd") -> Person:
    """Store a person with consent and queue the confirmation SMS (sent after commit).

    A national ID or session already registered raises IntegrityError (unique blind
    index, unique ``source_ref``); the caller tells a replay from a taken ID.
    """
    national_id = str(data["national_id"])
    bidx = services.cipher.blind_index("national_id", national_id)
    person = Person(
        phone=phone,
        full_name=data["full_name"],
        national_id_enc=services.cipher.encrypt(national_id),
        national_id_bidx=bidx,
        birth_year=int(data["birth_year"]),
        gender=data.get("gender"),
        county_code=data.get("county"),
        education=data.get("education"),
        occupation=data.get("occupation"),
        work_where=data.get("work_where"),
        destinations=",".join(data.get("destinations") or []) or None,
        lang=lang,
        minor_abroad=bool(data.get("minor_abroad")),
        consent_version=CONSENT_VERSION,
        consent_channel=channel,
        consent_at=utcnow(),
        source_ref=session_ref,
    )
    session.add(person)
    session.flush()
    person.reg_no = reg_no_for(person.id)
    if person.minor_abroad:
        safeguarding.flag_minor_abroad(session, phone, data, session_ref, person.id)
    if data.get("had_draft"):
        session.execute(
            update(RegistrationDraft)
            .where(RegistrationDraft.phone == phone, RegistrationDraft.completed_at.is_(None))
            .values(completed_at=utcnow())
        )
    body = translate(lang, "sms.reg_confirm", first_name=person.first_name, reg_no=person.reg_no,
                     service_code=services.config["USSD_SERVICE_CODE"])
    queue_sms(session, phone, body, kind="reg_confirm", dedupe_key=f"reg-confirm:{person.id}",
              person_id=person.id)
    return person


def withdraw(services: Services, session: Session, phone: str, lang: str) -> bool:
    """Withdraw consent: erase the personal fields and keep only anonymous counts."""
    person = session.scalar(select(Person).where(Person.phone == phone, Person.status == "active"))
    if person is None:
        return False
    person.full_name = None
    person.national_id_enc = None
    person.national_id_bidx = None
    person.passport_enc = None  # declared before departure (issue 5)
    person.passport_bidx = None
    person.phone = None
    person.birth_year = None
    person.status = "withdrawn"
    person.withdrawn_at = utcnow()
    body = translate(lang, "sms.withdrawn", service_code=services.config["USSD_SERVICE_CODE"])
    queue_sms(session, phone, body, kind="withdrawn", dedupe_key=f"withdrawn:{person.id}")
    return True


@port("people")
class PeoplePort:
    """Lookups the registration journey needs."""

    def __init__(self, svc: Services, known: Known) -> None:
        self.svc = svc

    def national_id_registered(self, national_id: str) -> bool:
        bidx = self.svc.cipher.blind_index("national_id", national_id)
        with self.svc.db.read() as conn:
            found = conn.scalar(select(Person.id).where(Person.national_id_bidx == bidx).limit(1))
        return found is not None


@handles("LanguageChosen")
def _language_chosen(hop: Hop, event: Event) -> None:
    set_language(hop.session, hop.phone, hop.lang, registered=bool(hop.state["data"].get("reg_no")))


@handles("RegistrationCompleted")
def _registration_completed(hop: Hop, event: Event) -> None:
    person = register(hop.svc, hop.session, hop.phone, hop.ref, dict(event.data), hop.lang,
                      channel=hop.channel)
    hop.state["data"].update(reg_no=person.reg_no, first_name=person.first_name)


@handles("MinorAbroadFlagged")
def _minor_abroad(hop: Hop, event: Event) -> None:
    safeguarding.flag_minor_abroad(hop.session, hop.phone, dict(event.data), hop.ref)


@handles("ConsentWithdrawn")
def _consent_withdrawn(hop: Hop, event: Event) -> None:
    withdraw(hop.svc, hop.session, hop.phone, hop.lang)
    hop.state["data"].pop("reg_no", None)
