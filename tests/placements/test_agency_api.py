"""Agencies update their recruits' placements: POST /api/v1/placements[/{id}/transitions]."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import (
    Agency,
    Employer,
    Person,
    Placement,
    PlacementTransition,
    SafeguardingFlag,
)
from tests.placements.recruits import agency, api_key, at, count_of, listing, register

URL = "/api/v1/placements"


@pytest.fixture
def ours(svc) -> dict:
    """A registered person, their licensed agency (with a key) and another agency."""
    person_id = register(svc, passport="AK1234567")
    agency_id = agency(svc)
    other_id = agency(svc, name="Other Careers Ltd", licence_no="NEA/PEA/2024/0002")
    return {"person_id": person_id, "agency_id": agency_id, "other_id": other_id,
            "key": api_key(svc), "other_key": api_key(svc, "NEA/PEA/2024/0002")}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ago(days: float) -> str:
    return at(utcnow() - timedelta(days=days))


def create(client, key, **changes):
    body = {"person": {"national_id": "12345678"}, "country": "SA", "status": "applied",
            "occurred_at": ago(40), "evidence": "Application form 77"}
    body.update(changes)
    return client.post(URL, json={k: v for k, v in body.items() if v is not None},
                       headers=auth(key))


def step(client, key, placement_id, status, days, **extra):
    return client.post(f"{URL}/{placement_id}/transitions", headers=auth(key),
                       json={"status": status, "occurred_at": ago(days), **extra})


def error(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def stored_steps(svc, placement_id) -> list[PlacementTransition]:
    with svc.db.Session() as session:
        return list(session.scalars(select(PlacementTransition)
                                    .where(PlacementTransition.placement_id == placement_id)
                                    .order_by(PlacementTransition.id)))


def test_an_agency_starts_a_placement_for_a_person_found_by_national_id(client, svc, ours):
    code = listing(svc, ours["agency_id"], country="SA")
    response = create(client, ours["key"], listing_code=code, visa_type="work",
                      occupation="domestic_worker", ref="app-77")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert body["status"] == "applied" and body["country"] == "SA"
    assert body["listing_code"] == code and body["visa_type"] == "work"
    assert body["person"]["reg_no"].startswith("KS")
    assert "national_id" not in str(body) and "12345678" not in str(body)
    [only] = body["transitions"]
    assert only == {**only, "from": None, "to": "applied", "source": "agency",
                    "evidence": "Application form 77"}
    with svc.db.Session() as session:
        placement = session.get(Placement, body["id"])
        assert placement.agency_id == ours["agency_id"]
        assert placement.person_id == ours["person_id"]
        assert session.get(Agency, ours["agency_id"]).placements_count == 1
    [row] = stored_steps(svc, body["id"])
    assert row.source == "agency" and row.source_ref == f"agency:{ours['agency_id']}:app-77"


def test_a_person_is_found_by_passport_too(client, svc, ours):
    response = create(client, ours["key"], person={"passport": "ak-1234567"})
    assert response.status_code == 201
    with svc.db.Session() as session:
        assert session.get(Placement, response.get_json()["id"]).person_id == ours["person_id"]


@pytest.mark.parametrize("person,code,field", [
    ({"national_id": "99999999"}, "unknown_person", "person"),
    ({"passport": "AK0000000"}, "unknown_person", "person"),
    ({"national_id": "12ab"}, "invalid", "person.national_id"),
    ({"passport": "1234"}, "invalid", "person.passport"),
    ({}, "missing", "person"),
    ({"name": "Jane"}, "unknown_field", "person.name"),
])
def test_an_unknown_or_malformed_person_gets_422(client, svc, ours, person, code, field):
    response = create(client, ours["key"], person=person)
    assert response.status_code == 422
    assert (error(response)["code"], error(response)["field"]) == (code, field)
    assert count_of(svc, Placement) == 0


def test_two_identifiers_of_two_people_get_422(client, svc, ours):
    register(svc, phone="+254799000000", national_id="87654321", passport="AK7654321")
    response = create(client, ours["key"],
                      person={"national_id": "12345678", "passport": "AK7654321"})
    assert response.status_code == 422 and error(response)["code"] == "person_mismatch"


def test_every_agency_step_is_kept_with_its_source_time_and_evidence(client, svc, ours):
    placement_id = create(client, ours["key"]).get_json()["id"]
    path = [("offered", 35), ("contracted", 30), ("visa_issued", 25), ("departed", 20),
            ("arrived", 19.5)]
    for status, days in path:
        response = step(client, ours["key"], placement_id, status, days,
                        evidence=f"{status} proof")
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == status
    first = step(client, ours["key"], placement_id, "employed", 18,
                 employer={"name": "Al Noor Household Services", "country": "SA",
                           "city": "Riyadh"})
    assert first.status_code == 201
    change = step(client, ours["key"], placement_id, "employed", 5, evidence="Transfer 4471",
                  employer={"name": "Gulf Care Co", "country": "SA", "city": "Jeddah"})
    assert change.status_code == 201
    body = change.get_json()
    assert body["employer"] == {"name": "Gulf Care Co", "country": "SA", "city": "Jeddah"}
    assert [s["to"] for s in body["transitions"]] == [
        "applied", "offered", "contracted", "visa_issued", "departed", "arrived", "employed",
        "employed"]
    rows = stored_steps(svc, placement_id)
    assert {r.source for r in rows} == {"agency"}
    assert [r.from_status for r in rows][1:] == [r.to_status for r in rows][:-1]
    assert rows[1].evidence == "offered proof" and rows[-1].evidence == "Transfer 4471"
    with svc.db.Session() as session:
        placement = session.get(Placement, placement_id)
        assert placement.status == "employed" and placement.arrived_at is not None
        assert session.get(Employer, placement.employer_id).name == "Gulf Care Co"
        assert session.scalar(select(Employer.city).where(
            Employer.name == "Al Noor Household Services")) == "Riyadh"
    shown = client.get(f"{URL}/{placement_id}", headers=auth(ours["key"]))
    assert shown.status_code == 200 and shown.get_json() == body


def test_an_employer_change_needs_the_employer(client, svc, ours):
    placement_id = create(client, ours["key"]).get_json()["id"]
    response = step(client, ours["key"], placement_id, "employed", 1)
    assert response.status_code == 422
    assert (error(response)["code"], error(response)["field"]) == ("missing", "employer")
    assert len(stored_steps(svc, placement_id)) == 1


@pytest.mark.parametrize("status,days,code,field", [
    ("offered", -2, "future_date", "occurred_at"),
    ("offered", 50, "out_of_order", "occurred_at"),
    ("returned", 1, "invalid", "status"),
])
def test_future_dates_and_impossible_orders_get_422_with_the_reason(
        client, svc, ours, status, days, code, field):
    placement_id = create(client, ours["key"]).get_json()["id"]
    response = step(client, ours["key"], placement_id, status, days)
    assert response.status_code == 422
    assert (error(response)["code"], error(response)["field"]) == (code, field)
    assert error(response)["message"]
    assert len(stored_steps(svc, placement_id)) == 1


def test_a_step_backwards_gets_422_bad_transition(client, svc, ours):
    placement_id = create(client, ours["key"], status="visa_issued").get_json()["id"]
    response = step(client, ours["key"], placement_id, "offered", 1)
    assert response.status_code == 422
    assert error(response)["code"] == "bad_transition"
    assert "cannot go from visa_issued to offered" in error(response)["message"]


def test_a_future_first_step_is_refused_and_nothing_is_stored(client, svc, ours):
    response = create(client, ours["key"], occurred_at=ago(-1))
    assert response.status_code == 422 and error(response)["code"] == "future_date"
    assert count_of(svc, Placement) == 0


@pytest.mark.parametrize("value", ["2026-11-20", "2026-11-20T08:15:00", "yesterday",
                                   "2026-02-30T08:00:00Z", "1999-12-31T08:00:00Z"])
def test_a_time_without_zone_or_impossible_gets_422(client, svc, ours, value):
    response = create(client, ours["key"], occurred_at=value)
    assert response.status_code == 422 and error(response)["field"] == "occurred_at"


def test_another_agencys_placement_is_not_found(client, svc, ours):
    placement_id = create(client, ours["key"]).get_json()["id"]
    response = step(client, ours["other_key"], placement_id, "offered", 1)
    assert response.status_code == 404 and error(response)["code"] == "not_found"
    assert client.get(f"{URL}/{placement_id}",
                      headers=auth(ours["other_key"])).status_code == 404
    assert step(client, ours["key"], 999999, "offered", 1).status_code == 404
    assert step(client, ours["key"], 2**40, "offered", 1).status_code == 404
    assert len(stored_steps(svc, placement_id)) == 1


def test_an_agency_without_a_valid_licence_is_refused(client, svc, ours):
    placement_id = create(client, ours["key"]).get_json()["id"]
    agency(svc, name="Shut Down Ltd", licence_no="NEA/PEA/2024/0003", status="suspended")
    key = api_key(svc, "NEA/PEA/2024/0003")
    assert create(client, key).status_code == 403
    response = step(client, key, placement_id, "offered", 1)
    assert response.status_code == 403 and error(response)["code"] == "licence_not_valid"
    from tests.listings.helpers import set_licence

    set_licence(svc, ours["agency_id"], "revoked")  # its own licence revoked: refused too
    assert step(client, ours["key"], placement_id, "offered", 1).status_code == 403
    assert client.post(URL, json={}).status_code == 401
    assert len(stored_steps(svc, placement_id)) == 1


def test_a_repeated_ref_records_nothing_twice(client, svc, ours):
    first = create(client, ours["key"], ref="app-1")
    again = create(client, ours["key"], ref="app-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    placement_id = first.get_json()["id"]
    one = step(client, ours["key"], placement_id, "offered", 3, ref="offer-1")
    two = step(client, ours["key"], placement_id, "offered", 3, ref="offer-1")
    assert (one.status_code, two.status_code) == (201, 200)
    assert [s.to_status for s in stored_steps(svc, placement_id)] == ["applied", "offered"]
    assert count_of(svc, Placement) == 1


def test_a_second_open_placement_for_the_same_trip_is_a_conflict(client, svc, ours):
    placement_id = create(client, ours["key"]).get_json()["id"]
    response = create(client, ours["key"])
    assert response.status_code == 409 and error(response)["code"] == "placement_exists"
    assert str(placement_id) in error(response)["message"]
    assert create(client, ours["key"], country="QA").status_code == 201  # another trip


def test_a_listing_must_be_the_agencys_own(client, svc, ours):
    code = listing(svc, ours["other_id"])
    response = create(client, ours["key"], listing_code=code)
    assert response.status_code == 422 and error(response)["code"] == "unknown_listing"


def test_a_placement_the_person_declared_is_the_agencys_to_update(client, svc, ours):
    """A person's declaration names the agency: the agency may then move it on."""
    from app.placements.service import transition

    with svc.db.session() as session:
        placement = Placement(person_id=ours["person_id"], phone="+254712345678",
                              agency_id=ours["agency_id"], country="SA")
        transition(session, placement, "contracted", source="person",
                   occurred_at=utcnow() - timedelta(days=3))
        placement_id = placement.id
    response = step(client, ours["key"], placement_id, "visa_issued", 1)
    assert response.status_code == 201
    assert [(s["to"], s["source"]) for s in response.get_json()["transitions"]] == [
        ("contracted", "person"), ("visa_issued", "agency")]
    assert response.get_json()["transitions"][0]["evidence"] is None


def test_nobody_who_may_be_under_18_is_placed_abroad_and_the_attempt_is_flagged(
        client, svc, ours):
    born = utcnow().year - 18  # 17 or 18 this year: may still be 17
    with svc.db.session() as session:
        session.get(Person, ours["person_id"]).birth_year = born
    for _ in range(2):  # tried twice the same day: refused twice, flagged once
        response = create(client, ours["key"])
        assert response.status_code == 422
        assert error(response)["code"] == "minor" and error(response)["field"] == "person"
        assert str(born) in error(response)["message"]
    with svc.db.Session() as session:
        assert session.scalars(select(Placement)).all() == []
        [flag] = session.scalars(select(SafeguardingFlag)).all()
        assert (flag.kind, flag.person_id) == ("minor_placement", ours["person_id"])
        assert json.loads(flag.details) == {"birth_year": born, "agency_id": ours["agency_id"],
                                            "country": "SA"}
    # A year older, the same person is placed.
    with svc.db.session() as session:
        session.get(Person, ours["person_id"]).birth_year = born - 1
    assert create(client, ours["key"]).status_code == 201
