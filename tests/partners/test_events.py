"""A partner event's fields (app/partners/events.py) posted: each bad one is answered 422."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from app.models import PartnerEvent
from tests.partners.helpers import add_person, count, departure, error, event


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
