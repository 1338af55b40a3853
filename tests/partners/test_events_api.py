"""POST /api/v1/events: signatures, the 300 s window, replays, bad input, every event type."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.models import Movement, PartnerEvent, Permit, Placement, PlacementTransition
from app.partners.signing import signature
from tests.partners.helpers import (
    PartnerClient,
    add_person,
    days_ago,
    departure,
    error,
    event,
    new_partner,
    permit,
)


@pytest.fixture
def immigration(client, svc) -> PartnerClient:
    return PartnerClient(client, *new_partner(svc, "immigration"))


@pytest.fixture
def destination(client, svc) -> PartnerClient:
    return PartnerClient(client, *new_partner(svc, "destination"))


def count(svc, model, *where) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def placements(svc, person_id: int) -> list[Placement]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Placement).where(Placement.person_id == person_id)
                                    .order_by(Placement.id)))


def stored_event(svc, event_id: str) -> PartnerEvent:
    with svc.db.Session() as session:
        return session.scalars(select(PartnerEvent).where(PartnerEvent.event_id == event_id)).one()


# ------------------------------------------------------------------ authentication


def test_a_signed_departure_is_applied(svc, immigration):
    person_id = add_person(svc)
    body = departure(occurred_at=days_ago(2))
    response = immigration.post(body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"id": body["id"], "type": "immigration.departure",
                                   "status": "applied", "duplicate": False}
    [placement] = placements(svc, person_id)
    assert placement.status == "departed" and placement.country == "SA"
    assert placement.departed_on == days_ago(2).date()
    assert count(svc, Movement, Movement.person_id == person_id,
                 Movement.kind == "departure") == 1


@pytest.mark.parametrize("missing", ["X-Kazi-Partner", "X-Kazi-Timestamp", "X-Kazi-Signature"])
def test_a_missing_header_gets_401(svc, immigration, missing):
    add_person(svc)
    response = immigration.post(departure(), headers={missing: None})
    assert response.status_code == 401
    assert error(response)["code"] == "unauthorized"
    assert count(svc, PartnerEvent) == 0


def test_a_bad_signature_gets_401_and_changes_nothing(svc, immigration):
    add_person(svc)
    response = immigration.post(departure(), secret="f" * 64)
    assert response.status_code == 401 and error(response)["code"] == "unauthorized"
    assert count(svc, PartnerEvent) == 0 and count(svc, Placement) == 0


def test_a_signature_over_another_body_gets_401(svc, immigration):
    add_person(svc)
    body = json.dumps(departure()).encode()
    stamp = int(time.time())
    response = immigration.client.post("/api/v1/events", data=body + b" ", headers={
        "X-Kazi-Partner": str(immigration.partner_id), "X-Kazi-Timestamp": str(stamp),
        "X-Kazi-Signature": signature(immigration.secret, stamp, body),
        "Content-Type": "application/json"})
    assert response.status_code == 401
    assert count(svc, PartnerEvent) == 0


@pytest.mark.parametrize("header", ["sha256=zz", "md5=" + "0" * 64, "", "0" * 64])
def test_a_malformed_signature_header_gets_401(svc, immigration, header):
    add_person(svc)
    response = immigration.post(departure(), headers={"X-Kazi-Signature": header})
    assert response.status_code == 401


def test_an_upper_case_hex_signature_is_accepted(svc, immigration):
    add_person(svc)
    body = departure()
    raw = json.dumps(body).encode()
    stamp = int(time.time())
    good = signature(immigration.secret, stamp, raw)
    response = immigration.post(raw, timestamp=stamp,
                                headers={"X-Kazi-Signature": "sha256=" + good[7:].upper()})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("partner", ["999999", "abc", "-1", "1" * 20])
def test_an_unknown_partner_gets_401(svc, immigration, partner):
    add_person(svc)
    response = immigration.post(departure(), partner_id=partner)
    assert response.status_code == 401 and error(response)["code"] == "unauthorized"


def test_an_inactive_partner_gets_401(svc, immigration):
    from app.models import Partner

    add_person(svc)
    with svc.db.session() as session:
        session.get(Partner, immigration.partner_id).active = False
    assert immigration.post(departure()).status_code == 401


@pytest.mark.parametrize("offset", [-301, -3600, 301, 86400])
def test_a_timestamp_outside_300_s_gets_401(svc, immigration, offset):
    add_person(svc)
    response = immigration.post(departure(), timestamp=int(time.time()) + offset)
    assert response.status_code == 401
    assert "300" in error(response)["message"]
    assert count(svc, PartnerEvent) == 0


@pytest.mark.parametrize("offset", [-290, 290])
def test_a_timestamp_inside_the_window_is_accepted(svc, immigration, offset):
    add_person(svc)
    assert immigration.post(departure(), timestamp=int(time.time()) + offset).status_code == 200


def test_a_non_numeric_timestamp_gets_401(svc, immigration):
    add_person(svc)
    response = immigration.post(departure(), headers={"X-Kazi-Timestamp": "2026-11-20T08:00Z"})
    assert response.status_code == 401


def test_a_partner_may_only_send_its_own_kinds_of_event(svc, client, immigration, destination):
    add_person(svc)
    police = PartnerClient(client, *new_partner(svc, "police"))
    wrong = [
        (immigration, permit()),
        (destination, departure()),
        (police, event("immigration.arrival")),
        (immigration, event("police.alert", data={"licence_no": "NEA/PEA/2024/0001",
                                                  "reason": "x"})),
    ]
    for sender, body in wrong:
        response = sender.post(body)
        assert response.status_code == 403, (body["type"], response.get_json())
        assert error(response) == {**error(response), "code": "wrong_partner_kind",
                                   "field": "type"}
    assert count(svc, PartnerEvent) == 0


# ------------------------------------------------------------------------- replays


def test_a_replay_gets_200_and_has_no_second_effect(svc, immigration):
    person_id = add_person(svc)
    body = departure(occurred_at=days_ago(3))
    first = immigration.post(body)
    again = immigration.post(body)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == {**first.get_json(), "duplicate": True}
    assert len(placements(svc, person_id)) == 1
    assert count(svc, PlacementTransition) == 1
    assert count(svc, Movement) == 1
    assert count(svc, PartnerEvent) == 1


def test_a_replay_with_a_fresh_timestamp_is_still_a_replay(svc, immigration):
    add_person(svc)
    body = departure()
    assert immigration.post(body, timestamp=int(time.time()) - 200).status_code == 200
    assert immigration.post(body).get_json()["duplicate"] is True
    assert count(svc, Movement) == 1


def test_event_ids_are_per_partner(svc, client, immigration):
    add_person(svc)
    other = PartnerClient(client, *new_partner(svc, "immigration", "Immigration Mombasa"))
    body = departure(event_id="evt-same")
    assert immigration.post(body).get_json()["status"] == "applied"
    assert other.post(body).get_json() == {"id": "evt-same", "type": "immigration.departure",
                                           "status": "matched", "duplicate": False}
    assert count(svc, PartnerEvent) == 2 and count(svc, Movement) == 1


def test_concurrent_copies_of_one_event_act_once(svc, app, immigration):
    person_id = add_person(svc)
    body = json.dumps(departure(occurred_at=days_ago(4))).encode()
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        with app.test_client() as own:
            sender = PartnerClient(own, immigration.partner_id, immigration.secret)
            barrier.wait()
            statuses.append(sender.post(body).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 6
    assert len(placements(svc, person_id)) == 1
    assert count(svc, PlacementTransition) == 1 and count(svc, Movement) == 1


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("raw,field", [
    (b"not json", "body"),
    (b"{\"id\": ", "body"),
    (b"[]", "body"),
    (b"NaN", "body"),
    (b"\xff\xfe", "body"),
])
def test_a_malformed_body_gets_422(svc, immigration, raw, field):
    response = immigration.post(raw)
    assert response.status_code == 422
    assert error(response)["field"] == field


def test_an_unknown_event_type_gets_422(svc, immigration):
    add_person(svc)
    response = immigration.post(event("immigration.teleport"))
    assert response.status_code == 422
    assert error(response) == {"code": "unknown_type", "field": "type",
                               "message": error(response)["message"]}
    assert count(svc, PartnerEvent) == 0


@pytest.mark.parametrize("change,field", [
    ({"id": None}, "id"),
    ({"id": ""}, "id"),
    ({"id": 12}, "id"),
    ({"id": "has space"}, "id"),
    ({"type": None}, "type"),
    ({"occurred_at": None}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": "2026-11-20"}, "occurred_at"),
    ({"occurred_at": "2026-11-20T08:15:00"}, "occurred_at"),
    ({"occurred_at": "1999-01-01T00:00:00Z"}, "occurred_at"),
    ({"person": None}, "person"),
    ({"person": {}}, "person"),
    ({"person": "12345678"}, "person"),
    ({"person": {"national_id": "12ab"}}, "person.national_id"),
    ({"person": {"national_id": "123456789"}}, "person.national_id"),
    ({"person": {"passport": "A!"}}, "person.passport"),
    ({"data": []}, "data"),
    ({"data": {"port": "JKIA"}}, "data.country"),
    ({"data": {"country": "XX"}}, "data.country"),
    ({"data": {"country": "KE"}}, "data.country"),
    ({"data": {"country": "SA", "visa_type": "golden"}}, "data.visa_type"),
])
def test_a_bad_field_gets_422_naming_it(svc, immigration, change, field):
    add_person(svc)
    body = departure()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = immigration.post(body)
    assert response.status_code == 422, (change, response.get_json())
    assert error(response)["field"] == field
    assert count(svc, PartnerEvent) == 0


@pytest.mark.parametrize("data,field", [
    ({"permit_no": "P1", "permit_type": "work", "expires_on": "2099-01-01"}, "data.country"),
    ({"country": "SA", "permit_type": "work", "expires_on": "2099-01-01"}, "data.permit_no"),
    ({"country": "SA", "permit_no": "P1", "expires_on": "2099-01-01"}, "data.permit_type"),
    ({"country": "SA", "permit_no": "P1", "permit_type": "golden", "expires_on": "2099-01-01"},
     "data.permit_type"),
    ({"country": "SA", "permit_no": "P1", "permit_type": "work"}, "data.expires_on"),
    ({"country": "SA", "permit_no": "P1", "permit_type": "work", "expires_on": "31/12/2027"},
     "data.expires_on"),
    ({"country": "SA", "permit_no": "P1", "permit_type": "work", "expires_on": "2020-01-01",
      "issued_on": "2021-01-01"}, "data.expires_on"),
])
def test_a_bad_permit_gets_422(svc, destination, data, field):
    add_person(svc)
    response = destination.post(event("permit.issued", data=data))
    assert response.status_code == 422
    assert error(response)["field"] == field


def test_an_event_in_the_future_is_refused_with_a_reason(svc, immigration):
    add_person(svc)
    response = immigration.post(departure(occurred_at=utcnow() + timedelta(days=2)))
    assert response.status_code == 422
    assert error(response)["code"] == "future_date"
    assert error(response)["field"] == "occurred_at"


def test_an_event_in_an_impossible_order_is_refused_and_kept(svc, immigration):
    person_id = add_person(svc)
    assert immigration.post(departure(occurred_at=days_ago(10))).status_code == 200
    # Back home two days later, then a "return" dated before the departure.
    back = event("immigration.arrival", occurred_at=days_ago(20), data={"port": "JKIA"})
    response = immigration.post(back)
    assert response.status_code == 409
    assert error(response)["code"] == "out_of_order"
    assert error(response)["field"] == "occurred_at"
    assert stored_event(svc, back["id"]).status == "rejected"
    assert placements(svc, person_id)[0].status == "departed"
    # Its replay is a replay: 200, the stored outcome, nothing new.
    again = immigration.post(back)
    assert again.status_code == 200 and again.get_json()["status"] == "rejected"


def test_a_second_departure_while_abroad_is_refused(svc, immigration):
    person_id = add_person(svc)
    immigration.post(departure(occurred_at=days_ago(30)))
    response = immigration.post(departure(occurred_at=days_ago(5)))
    assert response.status_code == 409 and error(response)["code"] == "already_abroad"
    assert len(placements(svc, person_id)) == 1


def test_the_same_departure_told_again_under_a_new_id_is_matched(svc, immigration):
    person_id = add_person(svc)
    when = days_ago(3)
    immigration.post(departure(occurred_at=when))
    response = immigration.post(departure(occurred_at=when + timedelta(minutes=30)))
    assert response.status_code == 200 and response.get_json()["status"] == "matched"
    assert count(svc, PlacementTransition) == 1 and len(placements(svc, person_id)) == 1


@pytest.mark.parametrize(("apart", "status", "code"), [
    (timedelta(minutes=30), 200, "matched"),      # 23:50 and 00:20: one journey, two dates
    (timedelta(hours=23), 200, "matched"),
    (timedelta(hours=25), 409, "already_abroad"),  # a second departure without a return
])
def test_a_departure_told_again_is_matched_by_time_not_calendar_date(svc, immigration, apart,
                                                                      status, code):
    person_id = add_person(svc)
    before_midnight = (utcnow() - timedelta(days=4)).replace(hour=23, minute=50, second=0,
                                                             microsecond=0)
    first = immigration.post(departure(occurred_at=before_midnight))
    assert first.status_code == 200 and first.get_json()["status"] == "applied"
    response = immigration.post(departure(occurred_at=before_midnight + apart))
    assert response.status_code == status
    body = response.get_json()
    assert (body["status"] if status == 200 else body["error"]["code"]) == code
    assert count(svc, PlacementTransition) == 1 and len(placements(svc, person_id)) == 1


def test_a_body_over_1_mb_gets_413(immigration):
    response = immigration.post(b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert response.status_code == 413


# ------------------------------------------------------------------- unknown people


def test_an_unknown_person_is_kept_for_review_and_answered_202(svc, immigration):
    add_person(svc, national_id="12345678")
    body = departure(national_id="87654321", passport="AK7654321")
    response = immigration.post(body)
    assert response.status_code == 202
    assert response.get_json()["status"] == "unmatched"
    stored = stored_event(svc, body["id"])
    assert stored.status == "unmatched" and stored.person_id is None
    assert stored.national_id_bidx == svc.cipher.blind_index("national_id", "87654321")
    assert stored.passport_bidx == svc.cipher.blind_index("passport", "AK7654321")
    # Stored encrypted: the raw body is readable only through the cipher.
    assert b"87654321" not in stored.body_enc
    assert json.loads(svc.cipher.decrypt(stored.body_enc)) == body
    assert count(svc, Placement) == 0 and count(svc, Movement) == 0
    assert immigration.post(body).status_code == 200  # a replay is still 200


def test_a_person_is_matched_by_passport_when_the_index_exists(svc, immigration):
    from app.models import Person

    if getattr(Person, "passport_bidx", None) is None:
        pytest.skip("no passport index on Person yet (pre-departure declaration)")
    person_id = add_person(svc)
    with svc.db.session() as session:
        session.get(Person, person_id).passport_bidx = svc.cipher.blind_index("passport",
                                                                               "AK1234567")
    response = immigration.post(departure(national_id=None, passport="ak 1234567"))
    assert response.status_code == 200 and response.get_json()["status"] == "applied"
    assert placements(svc, person_id)[0].status == "departed"


# -------------------------------------------------------------------- event types


def test_a_departure_moves_the_declared_placement_on(svc, immigration):
    from app.placements.service import transition

    person_id = add_person(svc)
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone="+254712345678", country="QA",
                              visa_type="work")
        transition(session, placement, "visa_issued", source="agency",
                   occurred_at=days_ago(20))
    response = immigration.post(departure(country="QA", visa_type="visit",
                                          occurred_at=days_ago(2)))
    assert response.status_code == 200
    [placement] = placements(svc, person_id)
    assert placement.status == "departed"
    assert placement.visa_type == "visit"  # immigration saw the stamp: it wins
    with svc.db.Session() as session:
        step = session.scalars(select(PlacementTransition)
                               .where(PlacementTransition.to_status == "departed")).one()
        assert step.source == "immigration" and step.from_status == "visa_issued"
        assert step.source_ref.startswith("event:") and "JKIA" in step.evidence


def test_an_arrival_home_returns_the_placement(svc, immigration):
    person_id = add_person(svc)
    immigration.post(departure(occurred_at=days_ago(200)))
    response = immigration.post(event("immigration.arrival", occurred_at=days_ago(1),
                                      data={"country": "SA", "port": "JKIA"}))
    assert response.status_code == 200 and response.get_json()["status"] == "applied"
    [placement] = placements(svc, person_id)
    assert placement.status == "returned" and placement.ended_at is not None
    assert count(svc, Movement, Movement.kind == "arrival",
                 Movement.placement_id == placement.id) == 1


def test_an_arrival_with_nothing_abroad_is_matched_and_kept(svc, immigration):
    person_id = add_person(svc)
    response = immigration.post(event("immigration.arrival", data={}))
    assert response.status_code == 200 and response.get_json()["status"] == "matched"
    assert count(svc, Movement, Movement.person_id == person_id) == 1
    assert placements(svc, person_id) == []


def test_a_permit_is_recorded_and_renewed(svc, immigration, destination):
    person_id = add_person(svc)
    immigration.post(departure(occurred_at=days_ago(100)))
    first = permit("IQ-55", expires_on="2027-01-31", occurred_at=days_ago(90))
    assert destination.post(first).status_code == 200
    renewal = permit("iq-55", expires_on="2028-01-31", occurred_at=days_ago(1))
    assert destination.post(renewal).status_code == 200
    with svc.db.Session() as session:
        [stored] = session.scalars(select(Permit)).all()
        assert (stored.person_id, stored.country, stored.permit_no, stored.type) == (
            person_id, "SA", "IQ-55", "work")
        assert stored.expires_on == date(2028, 1, 31)
        assert stored.placement_id == placements(svc, person_id)[0].id
    # A permit does not move the placement: employment is the person's or agency's to say.
    assert placements(svc, person_id)[0].status == "departed"


def test_a_permit_of_someone_else_is_refused(svc, destination):
    add_person(svc)
    add_person(svc, national_id="22222222", phone="+254722222222")
    destination.post(permit("IQ-9"))
    response = destination.post(permit("IQ-9", national_id="22222222"))
    assert response.status_code == 409 and error(response)["code"] == "permit_conflict"


def test_a_permit_is_revoked(svc, destination):
    add_person(svc)
    destination.post(permit("IQ-77", occurred_at=days_ago(30)))
    revoked = event("permit.revoked", occurred_at=days_ago(2),
                    data={"permit_no": "IQ-77", "country": "SA", "reason": "absconding"})
    response = destination.post(revoked)
    assert response.status_code == 200 and response.get_json()["status"] == "applied"
    with svc.db.Session() as session:
        assert session.scalars(select(Permit)).one().revoked_at is not None
    again = event("permit.revoked", data={"permit_no": "IQ-77"})
    assert destination.post(again).get_json()["status"] == "matched"


def test_a_revocation_heard_before_the_permit_keeps_it_revoked(svc, destination):
    add_person(svc)
    revoked = event("permit.revoked", occurred_at=days_ago(1),
                    data={"permit_no": "IQ-88", "country": "SA"})
    assert destination.post(revoked).status_code == 200
    destination.post(permit("IQ-88", occurred_at=days_ago(20)))
    with svc.db.Session() as session:
        stored = session.scalars(select(Permit)).one()
        assert stored.revoked_at is not None and stored.type == "work"


def test_revoking_an_unknown_permit_without_a_country_is_refused(svc, destination):
    add_person(svc)
    response = destination.post(event("permit.revoked", data={"permit_no": "NOPE-1"}))
    assert response.status_code == 409 and error(response)["code"] == "unknown_permit"
    assert count(svc, Permit) == 0
