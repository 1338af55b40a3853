"""Check an agency by USSD: transcripts through POST /ussd, in English and Kiswahili."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from app.agencies.checks import show_date
from app.agencies.register import kenya_today
from app.i18n import LANGUAGES, translate
from app.models import Agency, AgencyCheck, AgencyComplaint, Licence
from app.sms.gsm import is_gsm7
from menus import build_flow
from menus.engine import new_state, render
from tests.agencies.helpers import add, count, days, row

A = "+254712345678"
REGISTER = [
    row("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd", "valid", days(100)),
    row("NEA/PEA/2024/0002", "Gulf Star Manpower Services Ltd", "suspended", days(200)),
    row("NEA/PEA/2023/0003", "Crescent Overseas Placement Ltd", "revoked", days(50)),
    row("NEA/PEA/2023/0004", "Nuru Employment Agency Ltd", "valid", days(-30)),
    *[row(f"NEA/PEA/2022/{n:04d}", f"Baraka {name} Ltd") for n, name in enumerate(
        ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"], start=10)],
]
TODAY = show_date(kenya_today())
RULES = {
    "en": ["Agencies never charge workers.", "Get a contract in a language you know.",
           "Never hand over your passport."],
    "sw": ["Wakala hawaruhusiwi kukutoza pesa.", "Pata mkataba kwa lugha unayoielewa.",
           "Usimpe mtu yeyote pasipoti yako."],
}


@pytest.fixture(autouse=True)
def register(svc):
    add(svc, *REGISTER)


def choose(p, label: str) -> str:
    """Pick the numbered option of the current screen whose text is ``label``."""
    match = re.search(rf"^(\d+) {re.escape(label)}$", p.screen[4:], re.M)
    assert match, f"no option {label!r} on:\n{p.screen}"
    return p.send(match.group(1))


def check(phone, query: str, lang: str = "en", number: str = A):
    p = phone(number)
    p.dial()
    if "Choose language" in p.screen:
        p.send("1" if lang == "en" else "2")
    choose(p, "Check an agency" if lang == "en" else "Kagua wakala")
    p.send(query)
    return p


def test_both_home_menus_offer_the_check(phone, svc):
    p = phone()
    p.dial()
    assert "Check an agency" in p.send("1")
    p2 = phone("+254722000111")
    p2.dial()
    assert "Kagua wakala" in p2.send("2")


def test_asking_explains_what_to_type(phone):
    p = phone()
    p.dial()
    p.send("1")
    assert choose(p, "Check an agency") == (
        "CON Check an agency: type its licence number (e.g. NEA/PEA/2024/0001) or its name:")


def test_a_valid_agency_by_licence_number(phone, svc):
    p = check(phone, "nea pea 2024 1")
    assert p.screen == (
        f"CON Savanna Recruitment Agency\nVALID licence to {show_date(days(100))}.\n"
        f"Register of {TODAY}. Complaints: 0\nAgencies never charge workers.\n"
        "1 Report agency\n0 Back")
    # The hop recorded the check in SQL, in its own transaction.
    assert count(svc, AgencyCheck) == 1
    with svc.db.Session() as session:
        stored = session.scalar(select(AgencyCheck))
    assert (stored.phone, stored.channel) == (A, "ussd")


WARNINGS = {
    ("en", "gulf star"): "SUSPENDED licence! Do not pay or sign.",
    ("en", "NEA/PEA/2023/0003"): "REVOKED licence! Do not pay or sign.",
    ("en", "nuru employment"): f"EXPIRED licence ({show_date(days(-30))})! Do not pay.",
    ("sw", "gulf star"): "Leseni IMESIMAMISHWA! Usilipe wala usisaini.",
    ("sw", "NEA/PEA/2023/0003"): "Leseni IMEFUTWA! Usilipe wala usisaini.",
    ("sw", "nuru employment"): f"Leseni ILIISHA {show_date(days(-30))}! Usilipe.",
    ("sw", "savanna"): f"Leseni HALALI hadi {show_date(days(100))}.",
}


@pytest.mark.parametrize("lang,query", list(WARNINGS))
def test_every_status_has_its_plain_warning(phone, svc, lang, query):
    p = check(phone, query, lang)
    lines = p.screen[4:].split("\n")
    assert lines[1] == WARNINGS[(lang, query)]
    assert lines[2].startswith("Register of " if lang == "en" else "Orodha NEA ")
    assert lines[3] in RULES[lang]
    assert lines[4] == ("1 Report agency" if lang == "en" else "1 Ripoti wakala")
    assert len(p.screen) - 4 <= 160 and is_gsm7(p.screen)
    assert count(svc, AgencyCheck) == 1


def test_a_licence_past_its_date_is_expired_before_the_watch_runs(phone, svc):
    with svc.db.session() as session:
        session.execute(update(Licence).where(Licence.licence_no == "NEA/PEA/2024/0001")
                        .values(expires_on=kenya_today().replace(year=2020)))
    assert "EXPIRED licence (" in check(phone, "savanna").screen


@pytest.mark.parametrize("lang,query,shown", [
    ("en", "Tumaini Jobs", 'WARNING: "Tumaini Jobs" is not on the NEA register of'),
    ("en", "NEA/PEA/2024/0999", 'WARNING: "NEA/PEA/2024/0999" is not on the NEA register'),
    ("sw", "Tumaini Jobs", 'ONYO: "Tumaini Jobs" hayumo kwenye orodha ya NEA ya'),
])
def test_not_found_is_a_warning_not_an_error(phone, svc, lang, query, shown):
    p = check(phone, query, lang)
    assert p.screen.startswith("CON " + shown)
    assert ("Do not pay or sign!" if lang == "en" else "Usilipe wala usisaini!") in p.screen
    assert any(rule in p.screen for rule in RULES[lang])
    assert len(p.screen) - 4 <= 160
    assert count(svc, AgencyCheck) == 0
    again = choose(p, "Search again" if lang == "en" else "Tafuta tena")
    assert "licence number" in again or "nambari ya leseni" in again


def test_too_little_to_search_is_asked_again(phone):
    p = check(phone, "x")
    assert p.screen.startswith("CON Type at least 2 letters of the name, or the licence number.")
    assert not p.ended


def test_several_matches_are_listed_paged_and_picked(phone, svc):
    p = check(phone, "baraka")
    assert p.screen == ("CON 7 agencies match. Reply with a number:\n"
                        "1 Baraka Alpha 2022/0010\n2 Baraka Bravo 2022/0011\n"
                        "3 Baraka Charlie 2022/0012\n98 More\n0 Back")
    assert "4 Baraka Delta 2022/0013" in p.send("98")
    assert "7 Baraka Golf 2022/0016\n0 Back" in p.send("98")
    assert p.send("98").startswith("CON Reply with a number from the list.")
    assert p.send("9").startswith("CON Reply with a number from the list.")
    assert p.send("5").startswith("CON Baraka Echo\nVALID licence")
    assert p.send("0").startswith("CON 7 agencies match.")
    assert p.send("1").startswith("CON Baraka Alpha\n")
    assert count(svc, AgencyCheck) == 2
    with svc.db.Session() as session:
        checked = session.scalars(select(Agency.name).join(AgencyCheck)
                                  .order_by(AgencyCheck.id)).all()
    assert checked == ["Baraka Echo Ltd", "Baraka Alpha Ltd"]


def test_the_list_in_kiswahili(phone):
    p = check(phone, "baraka", "sw")
    assert p.screen.startswith("CON Mawakala 7 wamepatikana. Jibu kwa nambari:\n1 Baraka Alpha")
    assert p.screen.endswith("98 Zaidi\n0 Rudi")


NEAREST = {
    "en": ("No agency has exactly that name. Nearest:", "Reply with a number from the list.",
           "VALID licence to"),
    "sw": ("Hakuna wakala wa jina hilo kamili. Karibu zaidi:",
           "Jibu kwa nambari iliyo kwenye orodha.", "Leseni HALALI hadi"),
}


@pytest.mark.parametrize("lang,query", [
    ("en", "Savanna International Agency"),  # a word swapped: maybe another outfit
    ("en", "savana recruiters"),  # misspelt
    ("sw", "Savanna Manpower"),
    ("sw", "savannah"),
])
def test_a_name_only_near_the_register_is_offered_not_answered(phone, svc, lang, query):
    heading, wrong, valid = NEAREST[lang]
    p = check(phone, query, lang)
    lines = p.screen[4:].split("\n")
    assert lines[0] == heading
    assert re.fullmatch(r"1 Savanna Recruitment.* 2024/0001", lines[1]), lines
    assert lines[2:] == ["0 Back" if lang == "en" else "0 Rudi"]
    assert len(p.screen) - 4 <= 160 and is_gsm7(p.screen)
    assert count(svc, AgencyCheck) == 0  # not checked until the person says it is theirs
    assert p.send("2").startswith(f"CON {wrong}")
    answer = p.send("1")
    assert answer.startswith("CON Savanna Recruitment Agency\n" + valid), answer
    assert count(svc, AgencyCheck) == 1
    assert p.send("0").startswith(f"CON {heading}")  # back to the offer


@pytest.mark.parametrize("lang", LANGUAGES)
def test_look_alikes_are_listed_as_the_nearest_names_not_as_matches(phone, svc, lang):
    heading, wrong, valid = NEAREST[lang]
    p = check(phone, "Baraka Manpower", lang)  # no Baraka on the register is "Manpower"
    assert p.screen.startswith(f"CON {heading}\n1 Baraka Alpha 2022/0010\n")
    assert p.screen.endswith("98 More\n0 Back" if lang == "en" else "98 Zaidi\n0 Rudi")
    assert "match" not in p.screen and "wamepatikana" not in p.screen
    assert p.send("98").startswith(f"CON {heading}\n4 Baraka Delta")  # paged as the nearest
    assert p.send("9").startswith(f"CON {wrong}")
    assert p.send("5").startswith("CON Baraka Echo\n" + valid)
    assert p.send("0").startswith(f"CON {heading}")
    assert count(svc, AgencyCheck) == 1


@pytest.mark.parametrize("query", ["Savanna Recruitment", "savanna ltd", "gulf star manpower"])
def test_a_name_typed_with_words_left_out_is_answered_at_once(phone, query):
    p = check(phone, query)
    assert "licence" in p.screen.split("\n")[1], p.screen


def test_a_name_typed_in_full_is_answered_even_when_another_shares_its_key(phone, svc):
    add(svc, row("NEA/PEA/2025/0009", "Savanna International Agencies Ltd", "revoked"))
    assert check(phone, "savanna").screen.startswith("CON 2 agencies match.")
    full = check(phone, "Savanna International Agencies Ltd").screen
    assert full.startswith("CON Savanna International Agencies\nREVOKED licence!"), full
    other = check(phone, "savanna recruitment agency").screen
    assert other.startswith("CON Savanna Recruitment Agency\nVALID licence"), other


@pytest.mark.parametrize("lang,pick,kind,thanks", [
    ("en", "1", "fee", "Thank you. NEA has your report AC"),
    ("en", "2", "passport", "Thank you."),
    ("sw", "3", "fake_job", "Asante. NEA imepokea ripoti yako AC"),
    ("sw", "4", "other", "Asante."),
])
def test_reporting_an_agency_files_a_complaint_once(phone, svc, lang, pick, kind, thanks):
    p = check(phone, "gulf star", lang)
    menu = p.send("1")
    assert menu.startswith("CON Report this agency. What happened?\n1 They asked me for a fee"
                           if lang == "en" else "CON Ripoti wakala huyu. Nini kilitokea?\n1 ")
    done = p.send(pick)
    assert done.startswith("END " + thanks) and p.ended
    p.repeat()  # AT repeats the hop: nothing twice
    with svc.db.Session() as session:
        complaint = session.scalar(select(AgencyComplaint))
        agency = session.get(Agency, complaint.agency_id)
    assert (complaint.kind, complaint.channel, complaint.phone) == (kind, "ussd", A)
    assert f"AC{complaint.id:05d}" in done
    assert agency.name == "Gulf Star Manpower Services Ltd" and agency.complaints_count == 1
    assert count(svc, AgencyComplaint) == 1
    assert ("Complaints: 1" if lang == "en" else "Malalamiko: 1") in check(
        phone, "gulf star", lang, "+254722000111").screen


def rule_of(screen: str, lang: str = "en") -> int:
    (index,) = [i for i, rule in enumerate(RULES[lang]) if rule in screen]
    return index


def test_the_rule_rotates_with_each_answer_to_a_number(phone):
    seen = [rule_of(check(phone, query).screen)
            for query in ("savanna", "gulf star", "tumaini", "savanna")]
    assert seen == [0, 1, 2, 0]  # a not-found answer takes its turn too
    assert rule_of(check(phone, "savanna", number="+254722000111").screen) == 0


FLOW = build_flow()
LONG = "Bartholomew Kipchirchir Overseas Recruitment Agency International Ltd"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("status", ["valid", "suspended", "revoked", "expired"])
def test_every_answer_fits_one_screen_with_every_rule(lang, status):
    for rule in range(3):
        state = new_state(FLOW, lang, agency_rule=rule, agency_answer={
            "agency_id": 1, "name": LONG, "licence_no": "NEA/PEA/2024/1234", "status": status,
            "register_status": status, "expires_on": "2026-12-31",
            "register_updated": "2026-11-24", "complaints": 12345})
        state.update(screen="agency.answer", history=["main.guest", "agency.ask"])
        text = render(FLOW, state, translate)
        assert len(text) <= 160 and is_gsm7(text), (len(text), text)
        assert text.startswith("Bartholomew")  # the name is shortened, never dropped
        assert translate(lang, f"agency.status.{status}", expires="31/12/2026") in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_of_a_long_list_fits(lang):
    matches = [[n, LONG, f"NEA/PEA/2024/{n:04d}", "valid"] for n in range(1, 13)]
    for page in range(4):
        state = new_state(FLOW, lang, agency_matches=matches, agency_page=page,
                          agency_query="x" * 60)
        state.update(screen="agency.pick", history=["main.guest", "agency.ask"])
        text = render(FLOW, state, translate)
        assert len(text) <= 160 and is_gsm7(text), text
        assert f"{page * 3 + 3} Bartholomew" in text
