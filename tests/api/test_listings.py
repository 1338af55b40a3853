"""POST/GET /api/v1/job-listings through the real app, keys, database and RQ worker."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.api.keys import issue_key
from app.listings import codes
from app.models import AgencyApiKey
from app.models.listing import Employer, JobListing
from tests.listings.helpers import GOOD, add_agency, agency, bearer, good, new_key, set_licence
from tests.listings.helpers import stored as stored_listing

URL = "/api/v1/job-listings"


@pytest.fixture
def agency_id(svc) -> int:
    return add_agency(svc)


@pytest.fixture
def key(svc, agency_id) -> str:
    return new_key(svc)


def post(client, key: str | None, body, **kwargs):
    headers = bearer(key) if key else {}
    if isinstance(body, dict | list):
        return client.post(URL, json=body, headers=headers, **kwargs)
    return client.post(URL, data=body, headers=headers, **kwargs)


def error_of(response) -> dict:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def count(svc, model) -> int:
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model))


# keys -------------------------------------------------------------------------------------


def test_issue_key_stores_only_the_sha256_hash(svc, agency_id) -> None:
    with svc.db.session() as session:
        key = issue_key(session, "nea/pea/2024/0001 ")
    with svc.db.Session() as session:
        row = session.scalars(select(AgencyApiKey)).one()
    assert key.startswith("kzs_") and len(key) > 40
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.agency_id == agency_id and row.prefix == key[:12]
    assert key not in (row.key_hash, row.prefix)


def test_issue_key_for_an_unknown_licence_raises_lookup_error(svc) -> None:
    with svc.db.session() as session, pytest.raises(LookupError):
        issue_key(session, "NEA/PEA/1999/9999")


def test_missing_key_gets_401(client, svc, agency_id) -> None:
    response = post(client, None, GOOD)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(svc, JobListing) == 0


@pytest.mark.parametrize("header", ["Bearer kzs_not-a-key-we-ever-issued-000000000",
                                    "Bearer ", "Basic dXNlcjpwYXNz", "kzs_abc"])
def test_unknown_or_malformed_key_gets_401(client, svc, key, header) -> None:
    response = client.post(URL, json=GOOD, headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert count(svc, JobListing) == 0


def test_revoked_key_gets_401(client, svc, key) -> None:
    with svc.db.session() as session:
        session.scalars(select(AgencyApiKey)).one().revoked_at = date(2026, 1, 1)
    assert post(client, key, GOOD).status_code == 401


@pytest.mark.parametrize("status", ["suspended", "revoked", "expired"])
def test_key_of_an_agency_whose_licence_is_not_valid_gets_403(client, svc, agency_id, key,
                                                              status) -> None:
    set_licence(svc, agency_id, status)
    response = post(client, key, GOOD)
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "licence_not_valid" and status in error["message"]
    assert client.get(URL, headers=bearer(key)).status_code == 403
    assert count(svc, JobListing) == 0


def test_a_valid_licence_past_its_expiry_date_gets_403(client, svc, agency_id, key) -> None:
    set_licence(svc, agency_id, "valid", expires_on=date.today() - timedelta(days=2))
    response = post(client, key, GOOD)
    assert response.status_code == 403
    assert "expired" in error_of(response)["message"]


# request errors ---------------------------------------------------------------------------


def test_malformed_json_gets_400(client, svc, key) -> None:
    response = post(client, key, '{"title": "House help",', content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


@pytest.mark.parametrize("raw", ['{"title": NaN}', '[' * 100_000, b'{"title": "\xff\xfe"}'])
def test_json_that_python_would_misread_gets_400(client, key, raw) -> None:
    response = post(client, key, raw, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_a_body_that_is_not_json_gets_415(client, key) -> None:
    response = post(client, key, "title=House+help",
                    content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_a_body_over_one_megabyte_gets_413(client, svc, key) -> None:
    body = json.dumps(good(title="x" * (1024 * 1024)))
    response = post(client, key, body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert count(svc, JobListing) == 0


def test_a_body_just_under_one_megabyte_is_read(client, key) -> None:
    body = json.dumps(good()) + " " * (1024 * 1024 - len(json.dumps(good())) - 10)
    response = post(client, key, body, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("body,field,code", [
    ({**GOOD, "title": None}, "title", "missing"),
    (good(title=None), "title", "missing"),
    (good(title=5), "title", "type"),
    (good(title=" x "), "title", "invalid"),
    (good(title="House\x00help"), "title", "invalid"),
    (good(occupation="astronaut"), "occupation", "invalid"),
    (good(employer={"name": "Al Noor"}), "employer.country", "missing"),
    (good(employer={"name": "Al Noor", "country": "Saudi"}), "employer.country", "invalid"),
    (good(employer={"name": "Al Noor", "country": "sa"}), "employer.country", "invalid"),
    (good(employer={"name": "Al Noor", "country": "ZZ"}), "employer.country", "invalid"),
    (good(employer={"country": "SA"}), "employer.name", "missing"),
    (good(employer="Al Noor"), "employer", "type"),
    (good(employer={"name": "Al Noor", "country": "SA", "phone": "1"}), "employer.phone",
     "unknown_field"),
    (good(salary={"amount": "1500", "currency": "SAR", "period": "month"}), "salary.amount",
     "type"),
    (good(salary={"amount": 0, "currency": "SAR", "period": "month"}), "salary.amount",
     "invalid"),
    (good(salary={"amount": -5, "currency": "SAR", "period": "month"}), "salary.amount",
     "invalid"),
    (good(salary={"amount": True, "currency": "SAR", "period": "month"}), "salary.amount",
     "type"),
    (good(salary={"amount": 1500, "currency": "RIYAL", "period": "month"}), "salary.currency",
     "invalid"),
    (good(salary={"amount": 1500, "currency": "ABC", "period": "month"}), "salary.currency",
     "invalid"),
    (good(salary={"amount": 1500, "currency": "SAR", "period": "fortnight"}), "salary.period",
     "invalid"),
    (good(salary={"amount": 1500, "currency": "SAR"}), "salary.period", "missing"),
    (good(worker_fees={"amount": -1, "currency": "KES"}), "worker_fees.amount", "invalid"),
    (good(worker_fees={"amount": 0}), "worker_fees.currency", "missing"),
    (good(hours_per_week=48.5), "hours_per_week", "type"),
    (good(hours_per_week=200), "hours_per_week", "invalid"),
    (good(vacancies=0), "vacancies", "invalid"),
    (good(contract_languages="en"), "contract_languages", "type"),
    (good(contract_languages=["en", "arabic"]), "contract_languages[1]", "invalid"),
    (good(visa_type="transit"), "visa_type", "invalid"),
    (good(closing_date="31/01/2027"), "closing_date", "invalid"),
    (good(closing_date="2027-02-30"), "closing_date", "invalid"),
    (good(worker_fee={"amount": 50000, "currency": "KES"}), "worker_fee", "unknown_field"),
])
def test_invalid_fields_get_422_naming_the_field(client, svc, key, body, field, code) -> None:
    response = post(client, key, body)
    assert response.status_code == 422, response.get_json()
    error = error_of(response)
    assert error["field"] == field
    assert error["code"] == code
    assert error["message"]
    assert count(svc, JobListing) == 0


def test_a_json_array_body_gets_422(client, key) -> None:
    response = post(client, key, [GOOD])
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_body"


def test_unknown_api_paths_and_methods_answer_json_errors(client, key) -> None:
    missing = client.get("/api/v1/nothing-here", headers=bearer(key))
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = client.delete(URL, headers=bearer(key))
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    # Outside the API, errors stay as Flask makes them.
    elsewhere = client.get("/no-such-page")
    assert elsewhere.status_code == 404 and elsewhere.mimetype == "text/html"


# the listing ------------------------------------------------------------------------------


def test_post_stores_a_pending_listing_with_a_public_code(client, svc, agency_id, key) -> None:
    response = post(client, key, GOOD)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert codes.is_code(body["code"])
    assert body["status"] == "pending" and body["flags"] == []
    assert response.headers["Location"] == f"{URL}/{body['code']}"
    assert body["employer"] == {"name": "Al Noor Household Services", "country": "SA",
                                "city": "Riyadh", "address": "King Fahd Rd, Riyadh"}
    assert body["salary"] == {"amount": 1500, "currency": "SAR", "period": "month"}
    assert body["worker_fees"] == {"amount": 0, "currency": "KES"}
    assert body["contract_languages"] == ["en", "ar"]
    assert body["closing_date"] == "2099-01-31" and body["validated_at"] is None
    listing = stored_listing(svc, body["code"])
    assert listing.agency_id == agency_id and listing.destination == "SA"
    assert listing.payload == GOOD
    assert agency(svc, agency_id).listings_total == 1


def test_employers_are_shared_across_listings_by_name_and_country(client, svc, key) -> None:
    post(client, key, GOOD)
    post(client, key, good(employer={"name": "AL-NOOR household services.", "country": "SA"}))
    post(client, key, good(employer={"name": "Al Noor Household Services", "country": "AE"}))
    assert count(svc, Employer) == 2


@pytest.mark.parametrize("changes,outcome,rules", [
    ({}, "approved", []),
    ({"worker_fees": {"amount": 60000, "currency": "KES"}}, "rejected", ["worker_fee"]),
    ({"salary": {"amount": 600, "currency": "SAR", "period": "month"}}, "needs_review",
     ["salary_norm"]),
    ({"title": "Security guard", "occupation": "security_guard",
      "employer": {"name": "Volga Services", "country": "RU"},
      "salary": {"amount": 2000, "currency": "USD", "period": "month"},
      "contract_languages": ["ru"], "visa_type": "tourist"},
     "rejected", ["salary_norm", "conflict_destination", "vague_title", "tourist_visa",
                  "contract_language"]),
])
def test_post_then_worker_then_get_shows_the_outcome_and_flags(
        client, svc, work, agency_id, key, changes, outcome, rules) -> None:
    code = post(client, key, good(**changes)).get_json()["code"]
    work()
    response = client.get(f"{URL}/{code}", headers=bearer(key))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == outcome
    assert [flag["rule"] for flag in body["flags"]] == rules
    assert all(flag["message"] for flag in body["flags"])
    assert body["validated_at"]
    assert agency(svc, agency_id).listings_rejected == (1 if outcome == "rejected" else 0)


def test_get_accepts_a_code_typed_in_lower_case(client, key) -> None:
    code = post(client, key, GOOD).get_json()["code"]
    response = client.get(f"{URL}/{code.lower()}", headers=bearer(key))
    assert response.status_code == 200 and response.get_json()["code"] == code


def test_an_agency_cannot_see_another_agencys_listing(client, svc, key) -> None:
    code = post(client, key, GOOD).get_json()["code"]
    add_agency(svc, name="Other Agency Ltd", licence_no="NEA/PEA/2024/0002")
    other = new_key(svc, "NEA/PEA/2024/0002")
    response = client.get(f"{URL}/{code}", headers=bearer(other))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert client.get(URL, headers=bearer(other)).get_json()["total"] == 0
    assert client.get(f"{URL}/{code}", headers=bearer(key)).status_code == 200


def test_unknown_code_gets_404(client, key) -> None:
    assert client.get(f"{URL}/ABCDEF", headers=bearer(key)).status_code == 404
    assert client.get(f"{URL}/0OI1", headers=bearer(key)).status_code == 404


def test_list_filters_by_status_and_pages(client, svc, work, key) -> None:
    for n in range(3):
        post(client, key, good(title=f"House help {n}"))
    post(client, key, good(visa_type="tourist"))
    work()
    everything = client.get(URL, headers=bearer(key)).get_json()
    assert everything["total"] == 4 and len(everything["items"]) == 4
    assert everything["items"][0]["visa_type"] == "tourist"  # newest first
    approved = client.get(f"{URL}?status=approved&per_page=2", headers=bearer(key)).get_json()
    assert approved["total"] == 3 and len(approved["items"]) == 2 and approved["per_page"] == 2
    second = client.get(f"{URL}?status=approved&per_page=2&page=2",
                        headers=bearer(key)).get_json()
    assert len(second["items"]) == 1
    codes_seen = {item["code"] for item in approved["items"] + second["items"]}
    assert len(codes_seen) == 3
    rejected = client.get(f"{URL}?status=rejected", headers=bearer(key)).get_json()
    assert [item["flags"][0]["rule"] for item in rejected["items"]] == ["tourist_visa"]


@pytest.mark.parametrize("query,field", [("status=open", "status"), ("status=", "status"),
                                         ("page=0", "page"), ("per_page=500", "per_page"),
                                         ("page=two", "page")])
def test_bad_list_parameters_get_422(client, key, query, field) -> None:
    response = client.get(f"{URL}?{query}", headers=bearer(key))
    assert response.status_code == 422
    assert error_of(response)["field"] == field


def test_a_database_outage_is_503_json_not_a_crash(config, key) -> None:
    from app import create_app

    down = create_app({**config, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    try:
        response = down.test_client().post(URL, json=GOOD, headers=bearer(key))
    finally:
        down.extensions["kazi"].redis.close()
        down.extensions["kazi"].db.dispose()
    assert response.status_code == 503
    assert error_of(response)["code"] == "unavailable"
    assert response.headers["Retry-After"] == "30"
