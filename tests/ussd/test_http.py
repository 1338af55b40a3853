"""POST /ussd at the edge: malformed callbacks, the token, form bodies, outages, health."""

from __future__ import annotations

from app import create_app
from app.sessions import SESSION_KEY


def test_malformed_callbacks_get_a_screen_and_a_4xx(client):
    for form in ({}, {"sessionId": "x"}, {"sessionId": "x", "phoneNumber": "not-a-number"},
                 {"phoneNumber": "+254712345678", "text": ""}):
        response = client.post("/ussd", data=form)
        assert response.status_code == 400
        assert response.get_data(as_text=True).startswith("END ")


def test_events_callback_rejects_a_malformed_report(client):
    assert client.post("/ussd/events", data={"sessionId": "x"}).status_code == 400


def test_callback_token_is_enforced(config, at_api):
    app = create_app({**config, "CALLBACK_TOKEN": "s3cret-token"})
    client = app.test_client()
    form = {"sessionId": "s1", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
            "networkCode": "63902", "text": ""}
    assert client.post("/ussd", data=form).status_code == 403
    assert client.post("/ussd?token=wrong", data=form).status_code == 403
    ok = client.post("/ussd?token=s3cret-token", data=form)
    assert ok.status_code == 200 and ok.get_data(as_text=True).startswith("CON ")
    assert client.post("/ussd/events", data={"sessionId": "s1"}).status_code == 403
    app.extensions["kazi"].redis.delete(SESSION_KEY.format("s1"))


def test_callback_fields_are_read_like_a_form_and_a_huge_body_is_refused(client):
    from urllib.parse import urlencode

    body = urlencode([("sessionId", "ATUid_form"), ("phoneNumber", "+254712345678"),
                      ("serviceCode", "*384*55#"), ("text", ""), ("text", "ignored"),
                      ("networkCode", "63902")])
    reply = client.post("/ussd", data=body,
                        content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert reply.status_code == 200 and reply.get_data(as_text=True).startswith("CON ")
    multipart = client.post("/ussd", data={"sessionId": "ATUid_form2",
                                           "phoneNumber": "+254712345678", "text": ""},
                            content_type="multipart/form-data")
    assert multipart.status_code == 200 and multipart.get_data(as_text=True).startswith("CON ")
    huge = client.post("/ussd", data=body + "&pad=" + "x" * 70_000,
                       content_type="application/x-www-form-urlencoded")
    assert huge.status_code == 413
    assert huge.get_data(as_text=True).startswith("END Sorry, we could not read that request")


def test_redis_down_gives_a_polite_end(config, at_api):
    app = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().post("/ussd", data={
        "sessionId": "s2", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
        "networkCode": "63902", "text": ""})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith("END Sorry, Kazi Salama is busy.") and "Samahani" in body
    assert len(body) - 4 <= 160


def test_database_down_gives_a_polite_end(config, at_api, svc):
    app = create_app({**config, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().post("/ussd", data={
        "sessionId": "s3", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
        "networkCode": "63902", "text": ""})
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("END Sorry, Kazi Salama is busy.")


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "redis": "ok"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "kazi_up 1" in metrics and 'kazi_queue_length{queue="critical"}' in metrics


def test_readyz_reports_redis_down(config, at_api):
    app = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["redis"] != "ok"
