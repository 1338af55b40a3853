"""Registering by USSD: the whole journey, each question's checks, bad input, minors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Message, Person, SafeguardingFlag
from tests.ussd.helpers import ANSWERS, ENGLISH, START, SWAHILI, count, person, play, register


def test_first_dial_asks_the_language(phone):
    p = phone()
    assert p.dial() == ("CON Karibu Kazi Salama\nChoose language / Chagua lugha:\n"
                        "1 English\n2 Kiswahili")


def test_full_registration_in_english(phone, svc):
    p = phone()
    p.dial()
    assert play(p, ENGLISH).startswith("CON Kazi Salama: safe work")
    assert "1 Register" in p.screen
    assert "safe jobs" in play(p, ["1"])
    assert "I agree" in play(p, ["1"])
    assert play(p, ["1"]) == "CON Enter your full name (as on your ID):"
    assert "national ID" in play(p, ["jane  wanjiru"])
    assert "year of birth" in play(p, ["12345678"])
    assert "Gender" in play(p, ["1995"])
    assert "Home county" in play(p, ["1"])
    assert "education" in play(p, ["kiambu"])
    assert "skill" in play(p, ["3"])
    assert "Where do you want to work" in play(p, ["1"])
    assert "Where abroad" in play(p, ["3"])
    summary = play(p, ["1 3"])
    assert summary == ("CON Confirm:\nJane Wanjiru\nID ..5678, 1995, Female\nKiambu\n"
                       "Domestic worker\nWork: Both (SA,QA)\n1 Confirm\n2 Cancel")
    done = play(p, ["1"])
    stored = person(svc)
    assert done == (f"END Registered! Your number is {stored.reg_no}. "
                    "We have sent it by SMS. Dial *384*2026# any time.")
    assert stored.full_name == "Jane Wanjiru"
    assert stored.county_code == 22 and stored.destinations == "SA,QA"
    assert stored.consent_version and stored.consent_channel == "ussd"
    assert stored.lang == "en"
    # The national ID is ciphertext at rest, found through the blind index.
    assert b"12345678" not in stored.national_id_enc
    assert svc.cipher.decrypt(stored.national_id_enc) == "12345678"
    assert stored.national_id_bidx == svc.cipher.blind_index("national_id", "12345678")


def test_registration_in_kiswahili_queues_a_kiswahili_sms(phone, svc):
    p = phone()
    done = register(p, lang=SWAHILI)
    assert done.startswith("END Umesajiliwa! Nambari yako ni KS")
    with svc.db.Session() as session:
        message = session.scalar(select(Message))
    assert message.to_phone == "+254712345678"
    assert message.body.startswith("Kazi Salama: Jane, umesajiliwa.")
    assert message.status == "pending"


def test_confirmation_sms_reaches_the_phone_through_the_worker(phone, svc, work, at_api):
    register(phone())
    assert work() >= 1
    assert len(at_api.sent) == 1
    number, body, message_id = at_api.sent[0]
    assert number == "+254712345678"
    assert "you are registered" in body
    with svc.db.Session() as session:
        message = session.scalar(select(Message))
    assert message.status == "sent" and message.at_message_id == message_id


def test_declining_consent_stores_nothing(phone, svc):
    p = phone()
    p.dial()
    assert play(p, ENGLISH + ["1", "2"]).startswith("END Nothing was saved.")
    p.dial()
    assert play(p, ["1", "1", "2"]).startswith("END Nothing was saved.")
    assert count(svc, Person) == 0


def test_an_id_already_registered_gets_a_clear_message_and_no_second_record(phone, svc):
    register(phone("+254712345678"))
    other = phone("+254722000111")
    other.dial()
    play(other, ENGLISH + START + ["Asha Ali"])
    shown = play(other, ["12345678"])
    assert shown.startswith("CON This ID is already registered.")
    assert not other.ended
    assert count(svc, Person) == 1


@pytest.mark.parametrize("bad", ["123456", "123456789", "1234567890123", "12ab5678", "",
                                 "1" * 200])
def test_wrong_national_ids_are_reasked(phone, bad):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru"])
    shown = play(p, [bad])
    assert shown.startswith("CON ")
    assert "ID must be 7-8 digits" in shown or "type an answer" in shown


def test_maisha_namba_is_accepted(phone, svc):
    register(phone(), answers=["Jane Wanjiru", "12345678901234", *ANSWERS[2:]])
    assert svc.cipher.decrypt(person(svc).national_id_enc) == "12345678901234"


def test_county_by_number_typo_and_pages(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS[:4])
    page2 = play(p, ["98"])
    assert page2.startswith("CON Home county?") and "11 " in page2
    assert "education" in play(p, ["nairobbi"])
    assert "Home county" in play(p, ["0"])
    assert "education" in play(p, ["47"])


def test_ambiguous_county_narrows_the_list(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS[:4])
    narrowed = play(p, ["ka"])
    assert "34 Kajiado" in narrowed and "37 Kakamega" in narrowed
    assert "1 Mombasa" not in narrowed
    assert "education" in play(p, ["37"])


def test_occupation_menu_pages_with_98(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS[:6])
    first_page = p.screen
    assert "98 More" in first_page
    more = play(p, ["98"])
    assert "14 Other" in more
    assert "Where do you want" in play(p, ["13"])


SCREENS_BEFORE = {
    "consent": ENGLISH + ["1"],
    "name": ENGLISH + START,
    "id": ENGLISH + START + ANSWERS[:1],
    "year": ENGLISH + START + ANSWERS[:2],
    "gender": ENGLISH + START + ANSWERS[:3],
    "county": ENGLISH + START + ANSWERS[:4],
    "education": ENGLISH + START + ANSWERS[:5],
    "occupation": ENGLISH + START + ANSWERS[:6],
    "where": ENGLISH + START + ANSWERS[:7],
    "destinations": ENGLISH + START + ANSWERS[:8],
    "summary": ENGLISH + START + ANSWERS,
}


BAD_INPUTS = ["99", "", "x" * 200, "Ĳóñ 𝄞 ☃", "*#*", "  "]


@pytest.mark.parametrize("where", SCREENS_BEFORE)
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=["option", "empty", "200chars", "non-gsm",
                                                 "star", "spaces"])
def test_bad_input_on_every_screen_reasks(phone, svc, where, bad):
    p = phone()
    p.dial()
    before = play(p, SCREENS_BEFORE[where])
    shown = play(p, [bad])
    assert shown.startswith("CON "), shown
    assert len(shown) - 4 <= 160
    # The same screen again, with a short reason in front (or in its place).
    assert shown != before or bad == "x"
    assert count(svc, Person) == 0
    assert any(reason in shown for reason in (
        "Invalid choice", "Please type an answer", "Use letters A-Z", "Too long",
        "at least two names", "ID must be", "4-digit year", "Choose 1 to 3",
    )), shown


def test_a_star_inside_a_name_is_one_answer_not_two(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START)
    shown = play(p, ["Jane*Doe"])
    assert shown.startswith("CON Enter at least two names")  # re-asked, not skipped ahead


def test_a_star_in_a_list_answer_is_read_as_a_separator(phone, svc):
    p = phone()
    p.dial()
    play(p, SCREENS_BEFORE["destinations"][:-1] + ["3"])
    assert play(p, ["1*2"]).startswith("CON Confirm:")  # "1*2" means countries 1 and 2
    assert "(SA,AE)" in p.screen


def test_under_18_cannot_register_to_work_abroad(phone, svc):
    from datetime import date

    p = phone()
    p.dial()
    young = str(date.today().year - 16)
    play(p, ENGLISH + START + ["Baraka Otieno", "7654321", young, "2", "1", "3", "2"])
    minor = play(p, ["2"])  # abroad
    assert minor.startswith("CON You must be 18 or older to work abroad.")
    summary = play(p, ["1"])  # register for Kenya instead
    assert "Work: In Kenya" in summary
    play(p, ["1"])
    stored = person(svc)
    assert stored.work_where == "kenya" and stored.minor_abroad is True
    assert count(svc, SafeguardingFlag, SafeguardingFlag.kind == "minor_abroad") == 1


def test_a_minor_who_exits_is_flagged_and_not_registered(phone, svc):
    from datetime import date

    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Baraka Otieno", "7654321", str(date.today().year - 15),
                                "2", "1", "3", "2", "2"])
    assert play(p, ["2"]).startswith("END Thank you. If anyone offers you work abroad")
    assert count(svc, Person) == 0
    assert count(svc, SafeguardingFlag) == 1


def test_local_number_formats_are_normalised(phone, svc):
    p = phone("0712345678")
    register(p)
    assert person(svc, "+254712345678") is not None
