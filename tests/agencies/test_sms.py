"""SMS ``AGENCY <licence or name>`` / ``WAKALA``: one SMS answer, through the real callback."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.agencies.checks import show_date
from app.agencies.register import kenya_today
from app.models import AgencyCheck, Contact, Message
from app.sms.gsm import is_gsm7, septets
from tests.agencies.helpers import add, count, days, row

A = "+254712345678"
_ids = itertools.count(1)
REGISTER = [
    row("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd", "valid", days(100)),
    row("NEA/PEA/2024/0002", "Gulf Star Manpower Services Ltd", "suspended", days(200)),
    row("NEA/PEA/2023/0003", "Crescent Overseas Placement Ltd", "revoked", days(50)),
    row("NEA/PEA/2023/0004", "Nuru Employment Agency Ltd", "expired", days(-30)),
    row("NEA/PEA/2022/0010", "Bartholomew Kipchirchir Overseas Recruitment Agency Ltd"),
    *[row(f"NEA/PEA/2022/{n:04d}", f"Baraka {name} Ltd") for n, name in enumerate(
        ["Alpha", "Bravo", "Charlie", "Delta", "Echo"], start=20)],
]
TODAY = show_date(kenya_today())


@pytest.fixture(autouse=True)
def register(svc):
    add(svc, *REGISTER)


def ask(client, svc, work, text: str, lang: str | None = None, sender: str = A) -> str:
    """Send one SMS as AT posts it, run the jobs, give the reply's body."""
    if lang:
        with svc.db.session() as session:
            session.add(Contact(phone=sender, lang=lang))
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": f"ATXid_agency{next(_ids)}", "linkId": "", "networkCode": "63902",
    })
    assert response.status_code == 200
    work()
    with svc.db.Session() as session:
        reply = session.scalars(select(Message).where(Message.to_phone == sender)
                                .order_by(Message.id.desc())).first()
    assert septets(reply.body) <= 160 and is_gsm7(reply.body), reply.body
    return reply.body


def test_a_valid_agency_by_licence(client, svc, work, at_api):
    body = ask(client, svc, work, "AGENCY NEA/PEA/2024/0001")
    assert body == (f"Savanna Recruitment Agency NEA/PEA/2024/0001: VALID licence to "
                    f"{show_date(days(100))}. NEA register {TODAY}; complaints on record: 0. "
                    "Agencies never charge workers.")
    assert at_api.sent[-1][:2] == (A, body)  # it reached the phone
    with svc.db.Session() as session:
        checked = session.scalar(select(AgencyCheck))
    assert (checked.phone, checked.channel) == (A, "sms")


@pytest.mark.parametrize("text,lang,expected", [
    ("agency gulf star", "en", "SUSPENDED licence! Do not pay or sign."),
    ("Agency: 2023/3", "en", "REVOKED licence! Do not pay or sign."),
    ("AGENCY nuru", "en", f"EXPIRED licence ({show_date(days(-30))})! Do not pay."),
    ("wakala savanna", "sw", f"Leseni HALALI hadi {show_date(days(100))}."),
    ("WAKALA gulf star", "sw", "Leseni IMESIMAMISHWA! Usilipe wala usisaini."),
    ("Wakala 20230003", "sw", "Leseni IMEFUTWA! Usilipe wala usisaini."),
    ("wakala nuru", "sw", f"Leseni ILIISHA {show_date(days(-30))}! Usilipe."),
    ("AGENCY gulf star", "sw", "Leseni IMESIMAMISHWA!"),  # the number's language wins
])
def test_every_status_in_both_languages(client, svc, work, text, lang, expected):
    body = ask(client, svc, work, text, lang)
    assert expected in body
    assert ("complaints on record: 0" if lang == "en" else "malalamiko yaliyopo: 0") in body
    assert count(svc, AgencyCheck) == 1


def test_wakala_from_an_unknown_number_answers_in_kiswahili(client, svc, work):
    assert "Leseni HALALI" in ask(client, svc, work, "WAKALA savanna")


@pytest.mark.parametrize("text,lang,expected", [
    ("AGENCY Tumaini Jobs", "en", 'Kazi Salama WARNING: "Tumaini Jobs" is not on the NEA '
                                  f"register of {TODAY}. Do not pay or sign anything."),
    ("agency NEA/PEA/2024/0999", "en", '"NEA/PEA/2024/0999" is not on the NEA register'),
    ("WAKALA Tumaini Jobs", "sw", 'Kazi Salama ONYO: "Tumaini Jobs" hayumo kwenye orodha'),
])
def test_not_found_is_a_warning(client, svc, work, text, lang, expected):
    assert expected in ask(client, svc, work, text, lang)
    assert count(svc, AgencyCheck) == 0


def test_a_long_name_is_shortened_not_the_warning(client, svc, work):
    body = ask(client, svc, work, "agency bartholomew", "sw")
    assert body.startswith("Bartholomew Kipchirchir")
    assert "Leseni HALALI" in body and "malalamiko yaliyopo: 0." in body


@pytest.mark.parametrize("lang,start,narrow", [
    ("en", "Kazi Salama: 5 agencies match: Baraka Alpha 2022/0020; Baraka Bravo 2022/0021; "
           "Baraka Charlie 2022/0022. ",
     "Send AGENCY and a licence number, e.g. AGENCY 2022/0020"),
    ("sw", "Kazi Salama: mawakala 5 wamepatikana: Baraka Alpha 2022/0020; Baraka Bravo "
           "2022/0021. ",
     "Tuma WAKALA na nambari ya leseni, mfano WAKALA 2022/0020"),
])
def test_several_matches_list_three_and_say_how_to_narrow(client, svc, work, lang, start,
                                                          narrow):
    body = ask(client, svc, work, "AGENCY baraka", lang)
    assert body.startswith(start) and body.endswith(narrow)
    assert count(svc, AgencyCheck) == 0
    assert body.count("2022/00") == (4 if lang == "en" else 3)  # listed, plus the example
    assert "Baraka Charlie" in ask(client, svc, work, "AGENCY 2022/0022")  # it narrows


@pytest.mark.parametrize("text,lang,expected", [
    ("AGENCY Savanna International Agency", "en",
     "Kazi Salama: no agency is registered by that exact name. Nearest: Savanna Recruitment "
     "Agency 2024/0001. Not yours? Do not pay. Check one: AGENCY 2024/0001"),
    ("wakala savana", "sw",
     "Kazi Salama: jina hilo kamili halimo kwenye orodha ya NEA. Karibu zaidi: Savanna "
     "Recruitment Agency 2024/0001. Si wakala wako? Usilipe. Kagua: WAKALA 2024/0001"),
])
def test_a_name_only_near_the_register_is_offered_with_its_licence(client, svc, work, text,
                                                                   lang, expected):
    assert ask(client, svc, work, text, lang) == expected
    assert count(svc, AgencyCheck) == 0  # not checked: the person has not said it is theirs
    follow = ask(client, svc, work, "AGENCY 2024/0001")  # what the reply says to send
    assert ("VALID licence" if lang == "en" else "Leseni HALALI") in follow
    assert count(svc, AgencyCheck) == 1


def test_the_nearest_name_is_shortened_to_fit_one_sms(client, svc, work):
    body = ask(client, svc, work, "wakala bartholomew kipchirchir overseas jobs", "sw")
    assert body.startswith("Kazi Salama: jina hilo kamili") and "Bartholomew" in body
    assert body.endswith("Kagua: WAKALA 2022/0010")


@pytest.mark.parametrize("lang,start,end", [
    ("en", "Kazi Salama: no agency is registered by that exact name. Nearest: Baraka Alpha "
           "2022/0020. ", "Check one: AGENCY 2022/0020"),
    ("sw", "Kazi Salama: jina hilo kamili halimo kwenye orodha ya NEA. Karibu zaidi: Baraka "
           "Alpha 2022/0020. ", "Kagua: WAKALA 2022/0020"),
])
def test_look_alikes_are_offered_as_the_nearest_not_as_matches(client, svc, work, lang, start,
                                                                end):
    body = ask(client, svc, work, "AGENCY Baraka Manpower", lang)
    assert body.startswith(start) and body.endswith(end), body
    assert "match" not in body and "wamepatikana" not in body
    assert count(svc, AgencyCheck) == 0


@pytest.mark.parametrize("text", ["AGENCY", "agency ?", "WAKALA x"])
def test_nothing_to_search_gets_the_usage(client, svc, work, text):
    assert "e.g. AGENCY NEA/PEA/2024/0001" in ask(client, svc, work, text, "en")


def test_the_rule_rotates_across_sms_answers(client, svc, work):
    rules = ["Agencies never charge workers.", "Get a contract in a language you know.",
             "Never hand over your passport."]
    bodies = [ask(client, svc, work, f"AGENCY {q}", "en" if n == 0 else None)
              for n, q in enumerate(["savanna", "gulf star", "tumaini", "savanna"])]
    assert [next(i for i, r in enumerate(rules) if r in b) for b in bodies] == [0, 1, 2, 0]
