"""Agencies keep their recruits' placements up to date.

``POST /api/v1/placements`` starts a placement for a registered person, found by
national ID or passport (blind indexes, never the numbers themselves);
``POST /api/v1/placements/{id}/transitions`` records a step: applied, offered,
contracted, visa issued, departed, arrived, or a new employer (``employed`` with
an ``employer`` object); ``GET /api/v1/placements/{id}`` reads it back. Every
step is kept with source ``agency``, the agency's ``ref`` and its evidence, and
goes through ``app.placements.service.transition``: a time in the future or an
impossible order is answered 422 with the rule's code (``future_date``,
``out_of_order``, ``bad_transition``).

Only a licensed agency may call (``require_agency``: 403 otherwise), and only on
its own placements: another agency's placement is "not found" (404), as its
existence is not theirs to learn. A ``ref`` makes a call safe to repeat: the
same ref again answers 200 with the placement and records nothing twice.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, g
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.api import bp, fail, json_response, read_json
from app.api.keys import require_agency
from app.db import aware
from app.extensions import Services, services
from app.listings.service import employer_for, find_by_code
from app.listings.submission import FieldError, _country, _object, _only, _text
from app.models import Agency, Employer, Person, Placement, PlacementTransition
from app.placements.declaration import recompute_irregular
from app.placements.service import OPEN_STATES, TransitionError, transition
from app.protection.safeguarding import flag_minor_placement, may_be_minor
from app.reference.salary_norms import OCCUPATIONS

AGENCY_STATES = ("applied", "offered", "contracted", "visa_issued", "departed", "arrived",
                 "employed")
"""Steps an agency may report; ``employed`` (with an employer) is each employer change."""

VISA_TYPES = ("work", "visit", "tourist", "student")
"""Visa types an agency may report: the same four as a partner event's permit types."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No placement step happened before this; an earlier time is a typo."""

CREATE_FIELDS = {"person", "country", "status", "occurred_at", "evidence", "ref",
                 "listing_code", "occupation", "visa_type", "employer"}
STEP_FIELDS = {"status", "occurred_at", "evidence", "ref", "employer"}
PERSON_FIELDS = {"national_id", "passport"}
EMPLOYER_FIELDS = {"name", "country", "city", "address"}

EVIDENCE_MAX = 1000
"""The longest evidence text kept with a step."""

REF_PATTERN = "^[A-Za-z0-9._:/-]{1,80}$"
"""An agency's own id for a step (``ref``)."""

MAX_ID = 2**31 - 1
"""The largest placement id (a 32-bit integer column); a bigger one is simply not found."""

_NATIONAL_ID = re.compile(r"^([0-9]{7,8}|[0-9]{14})$")
_PASSPORT = re.compile(r"^[A-Z]{1,2}[0-9]{6,8}$")
_REF = re.compile(REF_PATTERN)
_MOMENT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")

_TRANSITION_FIELDS = {"future_date": "occurred_at", "out_of_order": "occurred_at",
                      "bad_transition": "status"}


# Reading the body ---------------------------------------------------------------------


def _invalid(exc: FieldError) -> None:
    fail(422, exc.code, exc.message, exc.field)


def _body(allowed: set[str]) -> dict[str, Any]:
    body = read_json()
    if not isinstance(body, dict):
        fail(422, "invalid_body", "The body must be a JSON object.")
    try:
        _only(body, allowed, "")
    except FieldError as exc:
        _invalid(exc)
    return body


def _status(body: dict[str, Any], default: str | None = None) -> str:
    value = body.get("status", default)
    if value is None:
        fail(422, "missing", "status is required.", "status")
    if not isinstance(value, str) or value not in AGENCY_STATES:
        fail(422, "invalid", f"status must be one of: {', '.join(AGENCY_STATES)}.", "status")
    return value


def _moment(body: dict[str, Any]) -> datetime:
    value = body.get("occurred_at")
    if value is None:
        fail(422, "missing", "occurred_at is required.", "occurred_at")
    if not isinstance(value, str) or not _MOMENT.match(value):
        fail(422, "invalid", "occurred_at must be an RFC 3339 date-time with its time zone, "
                             "e.g. 2026-11-20T08:15:00Z.", "occurred_at")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        fail(422, "invalid", "occurred_at is not a real date and time.", "occurred_at")
    if moment < EARLIEST:
        fail(422, "too_old", "occurred_at is before 2000: check the year.", "occurred_at")
    return moment.astimezone(UTC)


def _optional_text(body: dict[str, Any], key: str, longest: int) -> str | None:
    try:
        return _text(body, key, key, 1, longest)
    except FieldError as exc:
        _invalid(exc)


def _ref(body: dict[str, Any]) -> str | None:
    value = body.get("ref")
    if value is None:
        return None
    if not isinstance(value, str) or not _REF.match(value):
        fail(422, "invalid", "ref must be 1 to 80 letters, digits or . _ : / -", "ref")
    return value


def _employer(body: dict[str, Any], required: bool) -> dict[str, Any] | None:
    try:
        employer = _object(body, "employer", EMPLOYER_FIELDS)
        if employer is None:
            if required:
                raise FieldError("employer", "employer is required for employed: name the "
                                             "new employer.", "missing")
            return None
        return {"name": _text(employer, "name", "employer.name", 2, 200, required=True),
                "country": _country(employer, "employer.country"),
                "city": _text(employer, "city", "employer.city", 1, 100),
                "address": _text(employer, "address", "employer.address", 1, 300)}
    except FieldError as exc:
        _invalid(exc)


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        fail(422, "invalid", f"{key} must be one of: {', '.join(allowed)}.", key)
    return value


def _identifiers(body: dict[str, Any]) -> tuple[str | None, str | None]:
    person = body.get("person")
    if person is None:
        fail(422, "missing", "person is required: give national_id or passport.", "person")
    if not isinstance(person, dict):
        fail(422, "type", "person must be an object.", "person")
    try:
        _only(person, PERSON_FIELDS, "person.")
    except FieldError as exc:
        _invalid(exc)
    national_id, passport = person.get("national_id"), person.get("passport")
    if national_id is None and passport is None:
        fail(422, "missing", "person needs national_id or passport.", "person")
    if national_id is not None:
        national_id = national_id.replace(" ", "") if isinstance(national_id, str) else None
        if not national_id or not _NATIONAL_ID.match(national_id):
            fail(422, "invalid", "person.national_id must have 7, 8 or 14 digits.",
                 "person.national_id")
    if passport is not None:
        passport = re.sub(r"[\s-]", "", passport).upper() if isinstance(passport, str) else None
        if not passport or not _PASSPORT.match(passport):
            fail(422, "invalid", "person.passport must be 1 or 2 letters then 6 to 8 digits, "
                                 "e.g. AK1234567.", "person.passport")
    return national_id, passport


# Finding people and placements --------------------------------------------------------


def find_person(svc: Services, session: Session, national_id: str | None,
                passport: str | None) -> Person:
    """Find the registered person by national ID and/or passport, or answer 422."""
    by_id = by_passport = None
    if national_id:
        bidx = svc.cipher.blind_index("national_id", national_id)
        by_id = session.scalar(select(Person).where(Person.national_id_bidx == bidx,
                                                    Person.status == "active"))
    if passport:
        bidx = svc.cipher.blind_index("passport", passport)
        by_passport = session.scalar(select(Person).where(Person.passport_bidx == bidx,
                                                          Person.status == "active"))
    if by_id and by_passport and by_id.id != by_passport.id:
        fail(422, "person_mismatch", "The national ID and the passport belong to two "
                                     "different people.", "person")
    person = by_id or by_passport
    if person is None:
        fail(422, "unknown_person", "Nobody registered with Kazi Salama has that national ID "
                                    "or passport. The person must register first (USSD).",
             "person")
    return person


def own_placement(session: Session, placement_id: int, agency_id: int) -> Placement:
    """Give this agency's placement, locked for the step; 404 for anyone else's."""
    placement = (session.get(Placement, placement_id, with_for_update=True)
                 if placement_id <= MAX_ID else None)
    if placement is None or placement.agency_id != agency_id:
        fail(404, "not_found", "There is no placement with that id among this agency's.")
    return placement


def _replayed(session: Session, source_ref: str | None) -> PlacementTransition | None:
    if source_ref is None:
        return None
    return session.scalar(select(PlacementTransition)
                          .where(PlacementTransition.source_ref == source_ref))


def _source_ref(agency_id: int, ref: str | None) -> str | None:
    return f"agency:{agency_id}:{ref}" if ref else None


def _step(session: Session, placement: Placement, status: str, body: dict[str, Any],
          agency_id: int, source_ref: str | None, evidence: str | None) -> None:
    """Record one step from the agency; refuse a bad one with the rule that says why."""
    employer = _employer(body, required=status == "employed")
    when = _moment(body)
    try:
        transition(session, placement, status, source="agency",
                   source_ref=source_ref or f"agency:{agency_id}", evidence=evidence,
                   occurred_at=when)
    except TransitionError as exc:
        fail(422, exc.code, str(exc)[:1].upper() + str(exc)[1:] + ".",
             _TRANSITION_FIELDS.get(exc.code))
    if employer is not None:
        found = employer_for(session, employer["name"], employer["country"], employer["city"],
                             employer["address"])
        placement.employer_id = found.id


# Routes --------------------------------------------------------------------------------


@bp.post("/placements")
@require_agency
def create_placement() -> Response:
    body = _body(CREATE_FIELDS)
    national_id, passport = _identifiers(body)
    country = _country_of(body)
    status = _status(body, default="applied")
    _moment(body)
    evidence = _optional_text(body, "evidence", EVIDENCE_MAX)
    ref = _ref(body)
    occupation = _choice(body, "occupation", tuple(OCCUPATIONS))
    visa_type = _choice(body, "visa_type", VISA_TYPES)
    code = _optional_text(body, "listing_code", 20)
    agency_id = g.agency_id
    source_ref = _source_ref(agency_id, ref)
    svc = services()
    with svc.db.session() as session:
        done = _replayed(session, source_ref)
        if done is not None:
            placement = session.get(Placement, done.placement_id)
            if placement is None or placement.agency_id != agency_id:
                fail(409, "ref_reused", "This ref was used for another placement.", "ref")
            return json_response(placement_json(session, placement), 200)
        person = find_person(svc, session, national_id, passport)
        if may_be_minor(person):
            # Nobody under 18 is placed abroad. The attempt is kept as a safeguarding
            # flag even though the placement is refused.
            flag_minor_placement(session, person, agency_id, country)
            session.commit()
            fail(422, "minor", f"This person was born in {person.birth_year} and may be under "
                               "18: nobody under 18 is placed abroad. The attempt is recorded "
                               "for NEA.", "person")
        listing = _listing(session, code, agency_id)
        clash = session.scalar(select(Placement.id).where(
            Placement.person_id == person.id, Placement.agency_id == agency_id,
            Placement.country == country, Placement.status.in_(OPEN_STATES)))
        if clash is not None:
            fail(409, "placement_exists", f"Placement {clash} is open for this person in "
                                          f"{country}; post its transitions instead.")
        placement = Placement(person_id=person.id, phone=person.phone, agency_id=agency_id,
                              country=country, occupation=occupation or person.occupation,
                              visa_type=visa_type, listing_id=listing.id if listing else None)
        _step(session, placement, status, body, agency_id, source_ref, evidence)
        session.execute(update(Agency).where(Agency.id == agency_id)
                        .values(placements_count=Agency.placements_count + 1))
        recompute_irregular(session, person.id)
        answer = placement_json(session, session.get(Placement, placement.id))
    return json_response(answer, 201,
                         headers={"Location": f"{bp.url_prefix}/placements/{answer['id']}"})


@bp.post("/placements/<int:placement_id>/transitions")
@require_agency
def add_placement_step(placement_id: int) -> Response:
    body = _body(STEP_FIELDS)
    status = _status(body)
    evidence = _optional_text(body, "evidence", EVIDENCE_MAX)
    ref = _ref(body)
    agency_id = g.agency_id
    source_ref = _source_ref(agency_id, ref)
    svc = services()
    with svc.db.session() as session:
        placement = own_placement(session, placement_id, agency_id)
        done = _replayed(session, source_ref)
        if done is not None:
            if done.placement_id != placement.id:
                fail(409, "ref_reused", "This ref was used for another placement.", "ref")
            return json_response(placement_json(session, placement), 200)
        _step(session, placement, status, body, agency_id, source_ref, evidence)
        session.flush()
        recompute_irregular(session, placement.person_id)
        answer = placement_json(session, session.get(Placement, placement_id))
    return json_response(answer, 201)


@bp.get("/placements/<int:placement_id>")
@require_agency
def show_placement(placement_id: int) -> Response:
    svc = services()
    with svc.db.Session() as session:
        placement = session.get(Placement, placement_id) if placement_id <= MAX_ID else None
        if placement is None or placement.agency_id != g.agency_id:
            fail(404, "not_found", "There is no placement with that id among this agency's.")
        return json_response(placement_json(session, placement))


def _country_of(body: dict[str, Any]) -> str:
    try:
        country = _country(body, "country")
    except FieldError as exc:
        _invalid(exc)
    if country == "KE":
        fail(422, "invalid", "country is where the job is: a country abroad, not KE.",
             "country")
    return country


def _listing(session: Session, code: str | None, agency_id: int):
    if code is None:
        return None
    listing = find_by_code(session, code.replace(" ", "").replace("-", "").upper())
    if listing is None or listing.agency_id != agency_id:
        fail(422, "unknown_listing", "This agency has no job listing with that code.",
             "listing_code")
    return listing


# Answers -------------------------------------------------------------------------------


def placement_json(session: Session, placement: Placement) -> dict[str, Any]:
    """Give a placement as the API shows it to its agency, with every step."""
    person = session.get(Person, placement.person_id) if placement.person_id else None
    employer = session.get(Employer, placement.employer_id) if placement.employer_id else None
    steps = session.scalars(
        select(PlacementTransition)
        .where(PlacementTransition.placement_id == placement.id)
        .order_by(PlacementTransition.occurred_at, PlacementTransition.id)).all()
    listing_code = None
    if placement.listing_id:
        from app.models.listing import JobListing

        listing_code = session.scalar(select(JobListing.code)
                                      .where(JobListing.id == placement.listing_id))
    return {
        "id": placement.id,
        "status": placement.status,
        "person": {"reg_no": person.reg_no if person else None},
        "country": placement.country,
        "occupation": placement.occupation,
        "visa_type": placement.visa_type,
        "listing_code": listing_code,
        "employer": None if employer is None else {
            "name": employer.name, "country": employer.country, "city": employer.city},
        "departed_on": placement.departed_on.isoformat() if placement.departed_on else None,
        "arrived_at": _when(placement.arrived_at),
        "transitions": [{
            "from": step.from_status, "to": step.to_status, "source": step.source,
            "occurred_at": _when(step.occurred_at), "recorded_at": _when(step.recorded_at),
            "evidence": step.evidence if step.source == "agency" else None,
        } for step in steps],
    }


def _when(value: datetime | None) -> str | None:
    moment = aware(value)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None
