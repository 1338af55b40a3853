"""The phone simulator: AT's exact callbacks, relayed; the number's SMS inbox."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Person
from tests.console.conftest import Console

PHONE = "+254712345678"
REGISTRATION = ["1", "1", "1", "1", "Jane Wanjiru", "12345678", "1995", "1", "kiambu", "3",
                "1", "3", "1 3", "1"]
"""English, Register, consent twice, the answers, Confirm (as tests/ussd/test_registration.py)."""


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def screen(html: str) -> str:
    return re.search(r'id="screen"[^>]*>(.*?)</div>', html, re.S).group(1)


def test_registering_a_person_without_javascript(client, svc):
    phone = Console(client)
    page = client.get("/simulator").get_data(as_text=True)
    assert "Dial *384*2026#" in page
    html = phone.post("/simulator/ussd", {"phoneNumber": PHONE, "action": "dial"}).get_data(
        as_text=True)
    assert "Kazi Salama" in screen(html)
    for value in REGISTRATION:
        response = phone.post("/simulator/ussd", {
            "phoneNumber": PHONE, "action": "send", "input": value,
            "sessionId": hidden(html, "sessionId"), "text": hidden(html, "text")})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
    assert screen(html).startswith("Registered! Your number is KS")
    assert hidden(html, "sessionId") == ""            # the session ended
    with svc.db.Session() as session:
        person = session.scalar(select(Person))
    assert person.full_name == "Jane Wanjiru" and person.phone == PHONE
    assert person.consent_channel == "ussd"
    # The confirmation SMS is in the number's inbox.
    inbox = client.get(f"/simulator?phoneNumber={PHONE}").get_data(as_text=True)
    assert person.reg_no in inbox.split('id="inbox"')[1]


def test_each_hop_posts_the_fields_at_sends(client, app, monkeypatch):
    seen = []
    original = app.view_functions["ussd.ussd"]

    def spy():
        from flask import request

        seen.append((request.path, request.args.to_dict(), request.form.to_dict()))
        return original()

    monkeypatch.setitem(app.view_functions, "ussd.ussd", spy)
    app.config["CALLBACK_TOKEN"] = "s3cret"
    phone = Console(client)
    phone.post("/simulator/ussd", {"phoneNumber": "0712345678", "action": "dial"})
    [(path, args, form)] = seen
    assert path == "/ussd" and args == {"token": "s3cret"}
    assert set(form) == {"sessionId", "serviceCode", "phoneNumber", "networkCode", "text"}
    assert form["phoneNumber"] == PHONE and form["text"] == ""
    assert form["serviceCode"] == "*384*2026#" and form["networkCode"] == "63902"


def test_the_script_gets_json(client):
    phone = Console(client)
    hop = phone.post("/simulator/ussd", {"phoneNumber": PHONE, "action": "dial"},
                     headers={"Accept": "application/json"}).json
    assert hop["ended"] is False and hop["sessionId"].startswith("SIM")
    hop = phone.post("/simulator/ussd", {"phoneNumber": PHONE, "action": "send", "input": "1",
                                         "sessionId": hop["sessionId"], "text": hop["text"]},
                     headers={"Accept": "application/json"}).json
    assert hop["text"] == "1" and "Register" in hop["screen"]


def test_an_sms_from_the_phone_goes_to_the_sms_callback(client, svc):
    from app.models import InboundSms

    Console(client).post("/simulator/sms", {"phoneNumber": PHONE, "message": "HELP"})
    with svc.db.Session() as session:
        inbound = session.scalar(select(InboundSms))
    assert inbound.from_phone == PHONE and inbound.text == "HELP"


def test_simulator_posts_need_the_csrf_token(client):
    response = client.post("/simulator/ussd", data={"phoneNumber": PHONE, "action": "dial"})
    assert response.status_code == 400


def test_production_simulator_hops_are_audited(app, console, svc):
    from app.models import AuditEntry

    app.config["KAZI_ENV"] = "production"
    console("nea_admin").post("/simulator/ussd", {"phoneNumber": PHONE, "action": "dial"})
    with svc.db.Session() as session:
        assert session.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "simulator.ussd")) == "simulator.ussd"
