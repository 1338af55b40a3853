"""Agencies, keys and listings for the job-listing tests, stored through the real models."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from sqlalchemy import select

from app.api.keys import issue_key
from app.listings.service import name_key
from app.models import Agency, Licence
from app.models.listing import JobListing

GOOD: dict[str, Any] = {
    "title": "House help", "occupation": "domestic_worker",
    "employer": {"name": "Al Noor Household Services", "country": "SA", "city": "Riyadh",
                 "address": "King Fahd Rd, Riyadh"},
    "salary": {"amount": 1500, "currency": "SAR", "period": "month"}, "hours_per_week": 48,
    "vacancies": 20, "contract_languages": ["en", "ar"],
    "worker_fees": {"amount": 0, "currency": "KES"}, "visa_type": "work",
    "closing_date": "2099-01-31",
}
"""The contract's example listing, with a closing date that never passes."""


def good(**changes: Any) -> dict[str, Any]:
    """Give a copy of ``GOOD`` with top-level fields changed (``None`` removes one)."""
    body = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def add_agency(svc, name: str = "Example Recruitment Ltd", licence_no: str = "NEA/PEA/2024/0001",
               status: str = "valid", expires_on: date | None = date(2099, 12, 31)) -> int:
    """Put an agency and its licence on the register; give the agency id."""
    with svc.db.session() as session:
        agency = Agency(name=name, name_key=name_key(name))
        session.add(agency)
        session.flush()
        session.add(Licence(agency_id=agency.id, licence_no=licence_no, register_status=status,
                            status=status, expires_on=expires_on))
        return agency.id


def set_licence(svc, agency_id: int, status: str, expires_on: date | None = None) -> None:
    with svc.db.session() as session:
        licence = session.scalar(select(Licence).where(Licence.agency_id == agency_id))
        licence.status = licence.register_status = status
        if expires_on is not None:
            licence.expires_on = expires_on


def new_key(svc, licence_no: str = "NEA/PEA/2024/0001") -> str:
    with svc.db.session() as session:
        return issue_key(session, licence_no)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def stored(svc, code: str) -> JobListing:
    with svc.db.Session() as session:
        return session.scalars(select(JobListing).where(JobListing.code == code)).one()


def agency(svc, agency_id: int) -> Agency:
    with svc.db.Session() as session:
        return session.get(Agency, agency_id)
