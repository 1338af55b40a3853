"""MYDATA: what Kazi Salama holds about the sender, in one SMS, through the real callback."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, update

from app import features, keywords, mydata  # noqa: F401 - features wires every keyword
from app.i18n import translate
from app.models import Message, Person, Placement
from app.registration import withdraw
from app.sms.gsm import is_gsm7
from tests.ussd.helpers import ANSWERS, START, SWAHILI, register

A = "+254712345678"
CODE = "*384*2026#"
_ids = itertools.count(1)


def sms(client, text: str, sender: str = A, at_id: str | None = None) -> None:
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-25 10:00:00",
        "id": at_id or f"ATXid_md{next(_ids)}", "linkId": "", "networkCode": "63902",
    })
    assert response.status_code == 200


def answers(svc, at_api, number: str = A) -> list[str]:
    """The MYDATA answers to ``number``: stored as kind ``mydata``, and accepted by AT."""
    with svc.db.Session() as session:
        bodies = list(session.scalars(select(Message.body).where(
            Message.to_phone == number, Message.kind == "mydata").order_by(Message.id)))
    sent = [body for to, body, _ in at_api.sent if to == number]
    assert all(sent.count(body) == 1 for body in bodies), (bodies, sent)
    return bodies


def person(svc) -> Person:
    with svc.db.Session() as session:
        return session.scalar(select(Person).where(Person.phone == A))


@pytest.mark.parametrize("text", ["MYDATA", "mydata", "MyData!", " mydata. ", "DATAYANGU",
                                  "taarifazangu"])
def test_mydata_words_route_to_mydata(text) -> None:
    assert keywords.route(text) == (mydata.mydata, "")


def test_a_registered_person_gets_what_is_held_in_one_sms(phone, client, svc, work, at_api):
    register(phone(A))
    held = person(svc)
    sms(client, "MYDATA")
    work()

    [body] = answers(svc, at_api)
    assert body == translate(
        "en", "sms.mydata", fill="Jane Wanjiru", reg_no=held.reg_no, birth_year=1995,
        county="Kiambu", id_tail="678", placement="none",
        consent_date=held.consent_at.date().isoformat(), service_code=CODE)
    assert "12345678" not in body  # the national ID never leaves whole
    assert len(body) <= 160 and is_gsm7(body)


def test_the_answer_is_in_the_persons_language_and_names_the_latest_placement(
        phone, client, svc, work, at_api):
    p = phone(A)
    p.dial()
    for value in SWAHILI + START + ANSWERS + ["1"]:
        p.send(value)
    held = person(svc)
    with svc.db.session() as session:
        session.add(Placement(person_id=held.id, phone=A, country="QA", status="applied"))
        session.add(Placement(person_id=held.id, phone=A, country="SA", status="employed"))
    sms(client, "datayangu")
    work()

    [body] = answers(svc, at_api)
    assert body.startswith(f"Kazi Salama: {held.reg_no}, Jane Wanjiru, 1995, Kiambu, ID ..678")
    assert "nje: Saudia" in body and "Futa: *384*2026# > Wasifu wangu" in body
    assert len(body) <= 160 and is_gsm7(body)


def test_a_long_name_is_cut_so_the_answer_stays_one_sms(phone, client, svc, work, at_api):
    register(phone(A))
    with svc.db.session() as session:
        session.execute(update(Person).where(Person.phone == A).values(
            full_name="Bartholomew Kiprotich Arap Cheruiyot Wanjala Odhiambo Mwangi"))
    sms(client, "MYDATA")
    work()

    [body] = answers(svc, at_api)
    assert len(body) <= 160 and is_gsm7(body)
    assert "Bartholomew Kiprotich" in body and "..." in body
    assert body.endswith("Erase: *384*2026# > My profile")


def test_a_number_without_a_registration_is_told_so(client, svc, work, at_api):
    sms(client, "MYDATA", sender="+254722000111")
    work()
    assert answers(svc, at_api, "+254722000111") == [
        translate("en", "sms.mydata_none", service_code=CODE)]


def test_after_withdrawing_nothing_personal_is_left_to_tell(phone, client, svc, work, at_api):
    register(phone(A))
    with svc.db.session() as session:
        assert withdraw(svc, session, A, "en")
    sms(client, "MYDATA")
    work()
    assert answers(svc, at_api) == [translate("en", "sms.mydata_none", service_code=CODE)]


def test_one_answer_per_number_in_ten_minutes_and_none_for_a_repeated_callback(
        phone, client, svc, work, at_api):
    register(phone(A))
    sms(client, "MYDATA", at_id="ATXid_md_same")
    sms(client, "MYDATA", at_id="ATXid_md_same")  # AT retried the callback
    sms(client, "mydata")  # asked again at once
    work()
    assert len(answers(svc, at_api)) == 1
