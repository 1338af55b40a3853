"""Check a job offer by USSD and by SMS (``JOB <code>``), in English and Kiswahili.

Every warning path: approved, rejected, held, under review, an agency whose licence
is suspended, an unknown code, a mistyped one. Played through the real callbacks.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.listings import service
from app.listings.submission import parse
from app.models import AgencyCheck, Contact, Message
from app.sms.gsm import is_gsm7
from tests.listings.helpers import add_agency, good, set_licence
from workers.listings import validate_listing

A = "+254712345678"
_ids = itertools.count(1)

MENU_LABEL = {"en": "Check a job offer", "sw": "Kagua ofa ya kazi"}
LANG_OPTION = {"en": "1", "sw": "2"}


def listing(svc, agency_id: int, **changes) -> str:
    """Store and validate a listing; give its code."""
    body = good(**changes)
    with svc.db.session() as session:
        code = service.create_listing(session, agency_id, parse(body), body).code
    listing_id = service_id(svc, code)
    validate_listing(listing_id)
    return code


def service_id(svc, code: str) -> int:
    with svc.db.Session() as session:
        return service.find_by_code(session, code).id


def hold(svc, agency_id: int) -> None:
    with svc.db.session() as session:
        service.hold_open_listings(session, agency_id, "licence suspended")


def option(screen: str, label: str) -> str:
    """Give the number of the menu line that shows ``label``."""
    for line in screen.splitlines():
        number, _, text = line.partition(" ")
        if text == label:
            return number
    raise AssertionError(f"{label!r} not on screen:\n{screen}")


def ussd_check(phone, typed: str, lang: str = "en", number: str = A) -> str:
    p = phone(number)
    screen = p.dial()
    if "Chagua lugha" in screen:
        screen = p.send(LANG_OPTION[lang])
    screen = p.send(option(screen.removeprefix("CON "), MENU_LABEL[lang]))
    assert screen.startswith("CON ") and "K7MZQ2" in screen
    return p.send(typed)


def sms(client, text: str, sender: str = A) -> None:
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": f"ATXid_job{next(_ids)}", "linkId": "", "networkCode": "63902",
    })
    assert response.status_code == 200


def sms_reply(client, svc, work, text: str, lang: str | None = None, sender: str = A) -> str:
    if lang:
        with svc.db.session() as session:
            if session.scalar(select(Contact).where(Contact.phone == sender)) is None:
                session.add(Contact(phone=sender, lang=lang))
    sms(client, text, sender)
    work()
    with svc.db.Session() as session:
        replies = session.scalars(select(Message).where(Message.to_phone == sender)
                                  .order_by(Message.id.desc())).all()
    assert replies, "no reply queued"
    body = replies[0].body
    assert len(body) <= 160 and is_gsm7(body), body
    return body


def checks(svc) -> list[AgencyCheck]:
    with svc.db.Session() as session:
        return list(session.scalars(select(AgencyCheck).order_by(AgencyCheck.id)))


@pytest.fixture
def agency_id(svc) -> int:
    return add_agency(svc)


# USSD ---------------------------------------------------------------------------------------


def test_ussd_approved_listing_in_english(phone, svc, agency_id) -> None:
    code = listing(svc, agency_id)
    screen = ussd_check(phone, code.lower()[:3] + " " + code.lower()[3:])
    assert screen == (f"END Job {code}: approved\n"
                      "House help, Saudi Arabia, SAR 1,500/month\n"
                      "Employer: Al Noor Household Se.\n"
                      "Agency: Example Recruitment., licence valid\n"
                      "Never pay for a job.")
    assert len(screen) - 4 <= 160
    recorded = checks(svc)
    assert [(c.agency_id, c.phone, c.channel) for c in recorded] == [(agency_id, A, "ussd")]


def test_ussd_approved_listing_in_kiswahili(phone, svc, agency_id) -> None:
    code = listing(svc, agency_id)
    screen = ussd_check(phone, code, lang="sw")
    assert screen.startswith(f"END Kazi {code}: imeidhinishwa\nHouse help, Saudia, SAR 1,500/mwezi")
    assert "Mwajiri: Al Noor" in screen and "leseni halali" in screen
    assert "Usilipe pesa" in screen and "ONYO" not in screen


@pytest.mark.parametrize("lang,expected", [
    ("en", ["WARNING! Do not pay or travel.", "REJECTED", "licence valid"]),
    ("sw", ["ONYO! Usilipe pesa wala usisafiri.", "IMEKATALIWA", "leseni halali"]),
])
def test_ussd_rejected_listing_warns(phone, svc, agency_id, lang, expected) -> None:
    code = listing(svc, agency_id, worker_fees={"amount": 80000, "currency": "KES"})
    screen = ussd_check(phone, code, lang=lang)
    assert screen.startswith("END ")
    for text in expected:
        assert text in screen
    assert code in screen and "House help" in screen


@pytest.mark.parametrize("lang,expected", [
    ("en", ["WARNING!", "ON HOLD", "licence SUSPENDED"]),
    ("sw", ["ONYO!", "IMESITISHWA", "leseni IMESIMAMISHWA"]),
])
def test_ussd_held_listing_of_a_suspended_agency_warns(phone, svc, agency_id, lang,
                                                       expected) -> None:
    code = listing(svc, agency_id)
    set_licence(svc, agency_id, "suspended")
    hold(svc, agency_id)
    screen = ussd_check(phone, code, lang=lang)
    for text in expected:
        assert text in screen


@pytest.mark.parametrize("lang,expected", [
    ("en", ["WARNING!", ": approved\n", "licence SUSPENDED"]),
    ("sw", ["ONYO!", ": imeidhinishwa\n", "leseni IMESIMAMISHWA"]),
])
def test_ussd_approved_listing_of_a_suspended_agency_still_warns(phone, svc, agency_id, lang,
                                                                 expected) -> None:
    # The licence changed and the licence watch has not run yet: the check must still warn.
    code = listing(svc, agency_id)
    set_licence(svc, agency_id, "suspended")
    screen = ussd_check(phone, code, lang=lang)
    for text in expected:
        assert text in screen


def test_ussd_listing_under_review_warns(phone, svc, agency_id) -> None:
    code = listing(svc, agency_id, hours_per_week=84)
    screen = ussd_check(phone, code)
    assert "WARNING!" in screen and "UNDER REVIEW" in screen


@pytest.mark.parametrize("lang,expected", [
    ("en", "END No job has the code ABCDEF. The offer may be fake: do not pay anyone."),
    ("sw", "END Hakuna kazi yenye nambari ABCDEF. Huenda ofa hii ni ya uongo"),
])
def test_ussd_unknown_code_is_a_warning_not_an_error(phone, svc, lang, expected) -> None:
    screen = ussd_check(phone, "abc-def", lang=lang)
    assert screen.startswith(expected)
    assert checks(svc) == []


@pytest.mark.parametrize("lang,typed,expected", [
    ("en", "K7MZQ0", "Job codes never use 0, O, 1 or I."),
    ("en", "K7MZ", "A job code has 6 letters and digits"),
    ("sw", "KOMZQ2", "Nambari za kazi hazitumii 0, O, 1 wala I."),
    ("sw", "1234567", "Nambari ya kazi ina herufi na tarakimu 6"),
])
def test_ussd_mistyped_code_is_asked_again_with_a_reason(phone, svc, agency_id, lang, typed,
                                                         expected) -> None:
    code = listing(svc, agency_id)
    p = phone()
    p.dial()
    screen = p.send(LANG_OPTION[lang])
    p.send(option(screen.removeprefix("CON "), MENU_LABEL[lang]))
    screen = p.send(typed)
    assert screen.startswith("CON " + expected)
    # The session goes on: the right code now gets the answer.
    assert p.send(code).startswith("END ")


def test_the_option_is_on_the_member_menu_too(phone, svc, agency_id) -> None:
    from tests.ussd.helpers import register

    register(phone())
    code = listing(svc, agency_id)
    screen = ussd_check(phone, code)
    assert screen.startswith(f"END Job {code}: approved")


# SMS ----------------------------------------------------------------------------------------


def test_sms_job_approved_in_english(client, svc, work, agency_id) -> None:
    code = listing(svc, agency_id)
    body = sms_reply(client, svc, work, f"job {code.lower()}")
    assert body.startswith(f"Job {code}: approved\n"
                           "House help, Saudi Arabia, SAR 1,500/month\n")
    assert "Agency: Example" in body and "licence valid" in body
    assert [(c.agency_id, c.channel) for c in checks(svc)] == [(agency_id, "sms")]


def test_sms_ajira_answers_in_kiswahili_when_no_language_was_chosen(client, svc, work,
                                                                     agency_id) -> None:
    code = listing(svc, agency_id)
    body = sms_reply(client, svc, work, f"Ajira {code}")
    assert body.startswith(f"Kazi {code}: imeidhinishwa\n")
    assert "Mwajiri:" in body and "leseni halali" in body


def test_sms_uses_the_chosen_language_whatever_the_keyword(client, svc, work,
                                                           agency_id) -> None:
    code = listing(svc, agency_id)
    assert sms_reply(client, svc, work, f"AJIRA {code}", lang="en").startswith(
        f"Job {code}: approved")
    assert sms_reply(client, svc, work, f"JOB {code}", lang="sw",
                     sender="+254733000222").startswith(f"Kazi {code}: imeidhinishwa")


@pytest.mark.parametrize("lang,expected", [
    ("en", ["WARNING! Do not pay or travel.", "REJECTED"]),
    ("sw", ["ONYO! Usilipe pesa wala usisafiri.", "IMEKATALIWA"]),
])
def test_sms_rejected_listing_warns(client, svc, work, agency_id, lang, expected) -> None:
    code = listing(svc, agency_id, title="Security guard", occupation="security_guard",
                   employer={"name": "Volga Logistics", "country": "RU"},
                   salary={"amount": 2000, "currency": "USD", "period": "month"},
                   contract_languages=["ru"], visa_type="tourist")
    body = sms_reply(client, svc, work, f"JOB {code}", lang=lang)
    for text in expected:
        assert text in body
    assert "Security guard" in body and ("Russia" in body or "Urusi" in body)


@pytest.mark.parametrize("lang,expected", [
    ("en", ["WARNING", "ON HOLD", "licence SUSPENDED"]),
    ("sw", ["ONYO", "IMESITISHWA", "leseni IMESIMAMISHWA"]),
])
def test_sms_held_listing_of_a_suspended_agency_warns(client, svc, work, agency_id, lang,
                                                      expected) -> None:
    code = listing(svc, agency_id)
    set_licence(svc, agency_id, "suspended")
    hold(svc, agency_id)
    body = sms_reply(client, svc, work, f"JOB {code}", lang=lang)
    for text in expected:
        assert text in body


@pytest.mark.parametrize("lang,expected", [
    ("en", ["WARNING", "approved", "licence REVOKED"]),
    ("sw", ["ONYO", "imeidhinishwa", "leseni IMEFUTWA"]),
])
def test_sms_listing_of_a_revoked_agency_warns(client, svc, work, agency_id, lang,
                                               expected) -> None:
    code = listing(svc, agency_id)
    set_licence(svc, agency_id, "revoked")
    body = sms_reply(client, svc, work, f"JOB {code}", lang=lang)
    for text in expected:
        assert text in body


@pytest.mark.parametrize("lang,expected", [
    ("en", "Kazi Salama: no job has the code ABCDEF. The offer may be fake"),
    ("sw", "Kazi Salama: hakuna kazi yenye nambari ABCDEF. Huenda ofa hii ni ya uongo"),
])
def test_sms_unknown_code_is_a_warning(client, svc, work, lang, expected) -> None:
    assert sms_reply(client, svc, work, "JOB abcdef", lang=lang).startswith(expected)
    assert checks(svc) == []


@pytest.mark.parametrize("lang,text,expected", [
    ("en", "JOB", "send JOB and the 6-character code"),
    ("en", "job K7MZQ0", "job codes never use 0, O, 1 or I"),
    ("sw", "AJIRA tafadhali", "tuma AJIRA na nambari ya herufi 6"),
    ("sw", "JOB KIMZQ2", "nambari za kazi hazitumii 0, O, 1 wala I"),
])
def test_sms_missing_or_mistyped_code_explains(client, svc, work, lang, text, expected) -> None:
    assert expected in sms_reply(client, svc, work, text, lang=lang)


def test_a_repeated_sms_is_answered_once(client, svc, work, agency_id) -> None:
    code = listing(svc, agency_id)
    payload = {"from": A, "to": "22384", "text": f"JOB {code}", "date": "2026-11-24",
               "id": "ATXid_same", "linkId": "", "networkCode": "63902"}
    assert client.post("/sms/incoming", data=payload).status_code == 200
    assert client.post("/sms/incoming", data=payload).status_code == 200
    work()
    with svc.db.Session() as session:
        sent = session.scalars(select(Message).where(Message.kind == "job_check")).all()
    assert len(sent) == 1 and len(checks(svc)) == 1
