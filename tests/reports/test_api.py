"""``GET /api/v1/reports/<name>``: an analyst's key, the API's errors, no personal data."""

from __future__ import annotations

from sqlalchemy import select

from app.models.console import AuditEntry
from tests.reports.dataset import LICENCES
from tests.reports.helpers import make_user


def _get(client, path: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(path, headers=headers)


def test_an_analyst_reads_a_report_with_small_counts_hidden(client, svc, data):
    _, key = make_user(svc, "analyst")
    response = _get(client, "/api/v1/reports/stock?to=2026-06-30", key)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["report"] == "stock" and body["suppressed_below"] == 5
    assert body["columns"] == ["country", "country_name", "migrants"]
    assert body["filters"] == {"to": "2026-06-30"}
    assert body["rows"] == [
        {"country": "SA", "country_name": "Saudi Arabia", "migrants": 6},
        {"country": "AE", "country_name": "United Arab Emirates", "migrants": "<5"},
        {"country": "QA", "country_name": "Qatar", "migrants": "<5"}]


def test_filters_and_breakdowns(client, svc, data):
    _, key = make_user(svc, "analyst")
    body = _get(client, "/api/v1/reports/placements?to=2026-06-30&by=agency&country=SA",
                key).get_json()
    assert [(r["value"], r["placements"]) for r in body["rows"]] == [
        (LICENCES["A1"], 7), (LICENCES["A3"], "<5")]
    body = _get(client, "/api/v1/reports/red_flags?to=2026-06-30&gender=female", key).get_json()
    assert body["ignored_filters"] == ["gender"]
    assert body["rows"][0] == {"rule": "worker_fee", "listings": 3, "rejected": 2,
                               "needs_review": 1}


def test_an_admin_key_gets_exact_counts(client, svc, data):
    _, key = make_user(svc, "nea_admin")
    body = _get(client, "/api/v1/reports/stock?to=2026-06-30", key).get_json()
    assert body["suppressed_below"] is None
    assert [r["migrants"] for r in body["rows"]] == [6, 2, 1]


def test_keys_and_roles(client, svc, data):
    assert _get(client, "/api/v1/reports/stock", None).status_code == 401
    assert _get(client, "/api/v1/reports/stock", "kzs_" + "x" * 40).status_code == 401
    for role, country in (("nea_officer", None), ("consular_officer", "SA")):
        _, key = make_user(svc, role, country)
        response = _get(client, "/api/v1/reports/stock", key)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    response = _get(client, "/api/v1/reports/stock", None)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_errors_are_the_api_shape(client, svc, data):
    _, key = make_user(svc, "analyst")
    response = _get(client, "/api/v1/reports/nothing", key)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    for query, field in (("from=yesterday", "from"), ("country=XX", "country"),
                         ("county=99", "county"), ("gender=x", "gender"),
                         ("agency=NEA/PEA/1999/9999", "agency"), ("by=employer", "by"),
                         ("form=2026-01-01", "form"), ("from=2026-02-01&to=2026-01-01", "from")):
        response = _get(client, f"/api/v1/reports/placements?{query}", key)
        assert response.status_code == 422, query
        error = response.get_json()["error"]
        assert error["code"] == "invalid_filter" and error["field"] == field, query


def test_reports_that_list_people_are_not_served(client, svc, data):
    _, key = make_user(svc, "analyst")
    for name in ("irregular", "clusters"):
        response = _get(client, f"/api/v1/reports/{name}", key)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "not_aggregate"
    names = [r["name"] for r in _get(client, "/api/v1/reports", key).get_json()["reports"]]
    assert names == ["stock", "departures", "placements", "cases", "sla", "checkins",
                     "red_flags", "agencies", "agency_risk"]


def test_no_personal_data_reaches_an_analyst(client, svc, data):
    _, key = make_user(svc, "analyst")
    names = [r["name"] for r in _get(client, "/api/v1/reports", key).get_json()["reports"]]
    for name in names:
        text = _get(client, f"/api/v1/reports/{name}", key).get_data(as_text=True)
        for secret in data.secrets():
            assert secret not in text, (name, secret)


def test_every_read_is_audited(client, svc, data):
    user_id, key = make_user(svc, "analyst")
    _get(client, "/api/v1/reports/sla?country=SA", key)
    with svc.db.Session() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.user_id == user_id)).one()
    assert (entry.action, entry.target, entry.role) == ("export.json", "report:sla", "analyst")
    assert entry.details["filters"] == {"country": "SA"}
