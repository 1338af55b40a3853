"""Safeguarding flags: what the system itself saw that may be trafficking, for NEA staff.

A flag is raised once per concern (its ``source_ref``), inside the caller's
transaction, and read on the console's safeguarding register and on the person's
timeline. Nothing here commits.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Person, SafeguardingFlag
from app.models.departure import DepartureDeclaration
from menus.validators import ADULT, youngest_age

KINDS = {
    "minor_abroad": "a minor asked to work abroad (USSD registration)",
    "minor_placement": "an agency tried to place a minor abroad",
    "minor_departure": "a minor declared a departure to work abroad",
    "passport_clash": "a passport already held by someone else",
}
"""What each kind of flag means, as staff read it."""


def may_be_minor(person: Person) -> bool:
    """Tell whether the person may be under 18 (only a birth year is known)."""
    return person.birth_year is not None and youngest_age(person.birth_year) < ADULT


def raise_flag(session: Session, kind: str, ref: str, *, phone: str | None,
               person_id: int | None, details: dict[str, Any]) -> None:
    """Store a safeguarding flag unless one with this ``ref`` exists: each concern once."""
    if session.scalar(select(SafeguardingFlag.id).where(SafeguardingFlag.source_ref == ref)):
        return
    session.add(SafeguardingFlag(kind=kind, phone=phone, person_id=person_id, source_ref=ref,
                                 details=json.dumps(details)))


def flag_minor_abroad(session: Session, phone: str, data: dict[str, Any], session_ref: str,
                      person_id: int | None = None) -> None:
    """Flag a minor who asked to work abroad (trafficking indicator), once per session."""
    raise_flag(session, "minor_abroad", f"minor:{session_ref}", phone=phone,
               person_id=person_id, details={"birth_year": data.get("birth_year"),
                                             "asked_for": data.get("work_where")})


def flag_minor_placement(session: Session, person: Person, agency_id: int, country: str) -> None:
    """Flag an agency's attempt to place someone who may be a minor abroad, once a day."""
    ref = f"minor-placement:{agency_id}:{person.id}:{country}:{utcnow().date().isoformat()}"
    raise_flag(session, "minor_placement", ref, phone=person.phone, person_id=person.id,
               details={"birth_year": person.birth_year, "agency_id": agency_id,
                        "country": country})


def flag_minor_departure(session: Session, person: Person,
                         declaration: DepartureDeclaration) -> None:
    """Flag a person who may be under 18 declaring a departure to work abroad, once."""
    raise_flag(session, "minor_departure", f"minor-departure:{declaration.source_ref}"[:100],
               phone=person.phone, person_id=person.id,
               details={"birth_year": person.birth_year, "agency_id": declaration.agency_id,
                        "country": declaration.country})


def flag_passport_clash(session: Session, person: Person, holder_id: int,
                        source_ref: str) -> None:
    """Flag a passport number declared by one person and held by another, once."""
    raise_flag(session, "passport_clash", f"passport:{source_ref}"[:100],
               phone=person.phone, person_id=person.id, details={"held_by_person": holder_id})
