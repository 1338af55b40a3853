"""USSD "Get help": for me or for a relative abroad, the case opened inside the hop."""

from __future__ import annotations

from sqlalchemy import select

from app.i18n import translate
from app.models import Message
from app.sms.gsm import is_gsm7
from tests.protection.conftest import (
    HQ_DUTY,
    JED_DUTY,
    RUH_DUTY,
    all_cases,
    escalations,
    messages,
    only_case,
    received,
)

ME = "+254712345678"
ENGLISH, SWAHILI = "1", "2"
GET_HELP = "5"


def open_help(p, lang: str = ENGLISH) -> str:
    if "Choose language" in p.dial():  # asked once per number
        p.send(lang)
    return p.send(GET_HELP)


def test_get_help_is_on_the_guest_and_member_menus(phone, svc) -> None:
    p = phone(ME)
    p.dial()
    assert "5 Get help" in p.send(ENGLISH)
    assert p.send(GET_HELP).startswith("CON Get help. Who needs help?\n1 Me\n"
                                       "2 A relative abroad\n")

    from tests.protection.conftest import migrant

    migrant(svc, "+254700111222")
    member = phone("+254700111222")
    assert "5 Get help" in member.dial()


def test_for_me_typed_country_and_category(phone, svc, work, at_api, roster) -> None:
    p = phone(ME)
    open_help(p)
    assert p.send("1").startswith("CON Which country? Type its name or pick:\n1 Saudi Arabia")
    assert p.send("saudi").startswith("CON What happened?\n1 Not paid")
    done = p.send("3")  # beaten or abused

    case = only_case(svc)
    assert done == "END " + translate("en", "help.sent", case_ref=case.ref, help_desk="Riyadh")
    assert (case.reporter_phone, case.reporter_is_subject, case.channel) == (ME, True, "ussd")
    assert (case.country, case.mission_code, case.category) == ("SA", "KE-RUH", "abuse")
    assert (case.severity, case.indicators) == ("critical", "physical_sexual_violence")
    # Committed inside the hop, before its answer: the alerts and receipt wait in SQL.
    assert sorted(m.kind for m in messages(svc)) == ["case_received", *["officer_alert"] * 3]
    assert {m.status for m in messages(svc)} == {"pending"}

    work()
    for officer in (*RUH_DUTY, JED_DUTY):
        [alert] = received(at_api, officer)
        assert alert.startswith(f"SOS {case.ref} CRITICAL: abuse/violence, Saudi Arabia. "
                                f"From {ME}:")
        assert len(alert) <= 160 and is_gsm7(alert)
    [receipt] = received(at_api, ME)
    assert case.ref in receipt


def test_for_a_relative_with_a_foreign_number(phone, svc, work, at_api, roster) -> None:
    p = phone(ME)
    open_help(p, SWAHILI)
    assert p.send("2").startswith("CON Nambari yake ya simu")
    # A Saudi number gives the country by itself: no country question.
    assert p.send("+966 55 123 4567").startswith("CON Nini kimetokea?")
    done = p.send("2")  # passport taken

    case = only_case(svc)
    assert done.startswith(f"END Ripoti {case.ref} imetumwa")
    assert (case.reporter_phone, case.reporter_is_subject) == (ME, False)
    assert (case.subject_phone, case.subject_name) == ("+966551234567", None)
    assert (case.country, case.category, case.severity, case.lang) == (
        "SA", "passport_held", "high", "sw")
    work()
    [alert] = received(at_api, RUH_DUTY[0])
    assert "for relative +966551234567" in alert and f"From {ME}" in alert
    [receipt] = received(at_api, ME)
    assert receipt.startswith("Kazi Salama: tumepokea")


def test_for_a_relative_by_name_with_a_misspelt_country(phone, svc, work, at_api,
                                                        roster) -> None:
    p = phone(ME)
    open_help(p)
    p.send("2")
    assert p.send("Mary Wanjiku").startswith("CON Which country?")
    assert p.send("qatr").startswith("CON What happened?")  # forgiving match
    p.send("9")  # wants to come home: on the second page, still accepted by number

    case = only_case(svc)
    assert p.ended and case.ref in p.screen
    assert (case.subject_name, case.subject_phone, case.country) == ("Mary Wanjiku", None, "QA")
    assert (case.category, case.severity, case.mission_code) == ("wants_return", "normal",
                                                                 "KE-DOH")
    # Doha has no officer on the roster: headquarters is told at once.
    assert escalations(svc, case.id)[-1] == (2, "HQ", "notified", 2)
    work()
    assert len(received(at_api, HQ_DUTY)) == 1


def test_a_kenyan_number_for_a_relative_asks_the_country(phone, svc) -> None:
    p = phone(ME)
    open_help(p)
    p.send("2")
    assert p.send("0722 000 111").startswith("CON Which country?")
    p.send("1")
    p.send("1")
    case = only_case(svc)
    assert (case.subject_phone, case.country, case.category) == ("+254722000111", "SA",
                                                                 "unpaid_wages")


def test_bad_answers_are_asked_again(phone, svc) -> None:
    p = phone(ME)
    open_help(p)
    p.send("2")
    assert p.send("123").startswith("CON " + translate("en", "err.help_subject"))
    assert p.send("Jane Doe").startswith("CON Which country?")
    assert p.send("atlantis").startswith("CON " + translate("en", "err.choice"))
    assert all_cases(svc) == []


def test_a_repeated_last_hop_opens_one_case(phone, svc, roster) -> None:
    p = phone(ME)
    open_help(p)
    p.send("1")
    p.send("1")
    done = p.send("4")
    assert p.repeat() == done
    assert len(all_cases(svc)) == 1
    with svc.db.Session() as session:
        assert len(session.scalars(select(Message).where(Message.kind == "officer_alert"))
                   .all()) == 3


def test_a_relatives_report_does_not_merge_into_the_reporters_own(phone, svc,
                                                                  roster) -> None:
    p = phone(ME)
    open_help(p)
    p.send("1")
    p.send("1")
    p.send("1")
    p = phone(ME)
    open_help(p)
    p.send("2")
    p.send("+966551234567")
    p.send("1")
    own, relative = all_cases(svc)
    assert own.reporter_is_subject and not relative.reporter_is_subject
    # The same relative reported again within 30 minutes: added to that case.
    p = phone(ME)
    open_help(p)
    p.send("2")
    p.send("+966551234567")
    p.send("3")
    assert len(all_cases(svc)) == 2
    assert all_cases(svc)[1].severity == "critical"
