"""POST /api/v1/events (app/api/events.py): signatures, the 300 s window, partner kinds, replays."""

from __future__ import annotations

import json
import threading
import time

import pytest

from app.models import Movement, PartnerEvent, Placement, PlacementTransition
from app.partners.signing import signature
from tests.partners.helpers import (
    PartnerClient,
    add_person,
    count,
    days_ago,
    departure,
    error,
    event,
    new_partner,
    permit,
    placements,
)


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


# ------------------------------------------------------------------------- bad bodies


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


def test_a_body_over_1_mb_gets_413(immigration):
    response = immigration.post(b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert response.status_code == 413
