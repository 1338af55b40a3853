"""I'm going abroad: the USSD declaration through POST /ussd, with every red flag warned."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import (
    AgencyCheck,
    Employer,
    Person,
    Placement,
    PlacementTransition,
    SafeguardingFlag,
)
from app.models.departure import DepartureDeclaration
from app.models.placement import PLACEMENT_STATES
from tests.placements.recruits import (
    KIN,
    PHONE,
    agency,
    count_of,
    day,
    listing,
    register,
    sms_to,
)

GOING = "6"
"""The member menu's "I'm going abroad"."""


def play(p, inputs):
    for value in inputs:
        p.send(value)
    return p.screen


def declaration(svc) -> DepartureDeclaration:
    with svc.db.Session() as session:
        return session.scalars(select(DepartureDeclaration)).one()


def placement_of(svc, person_id) -> Placement:
    with svc.db.Session() as session:
        return session.scalars(select(Placement).where(Placement.person_id == person_id)).one()


def steps(svc, placement_id) -> list[PlacementTransition]:
    with svc.db.Session() as session:
        return list(session.scalars(select(PlacementTransition)
                                    .where(PlacementTransition.placement_id == placement_id)
                                    .order_by(PlacementTransition.id)))


def test_a_clean_declaration_end_to_end_in_english(phone, svc, work, at_api):
    person_id = register(svc)
    agency_id = agency(svc)
    code = listing(svc, agency_id, country="QA")
    p = phone()
    assert "6 I'm going abroad" in p.dial()
    assert p.send(GOING).startswith("CON Going abroad: which country?")
    assert "3 Qatar" in p.screen
    assert play(p, ["qatar"]) == "CON Name or licence number of the agency recruiting you:"
    # The agency is checked inline: its licence status shows at once.
    assert play(p, ["savanna"]).startswith(
        "CON Agency Savanna Recruitment Agency: VALID licence to 31/12/2099.\nJob offer code")
    assert "employer" in play(p, [code.lower()])
    assert "Date you leave Kenya" in play(p, ["Al Noor Household"])
    assert "passport number" in play(p, [day(20, "")])
    assert "What visa" in play(p, ["ak 123 4567"])
    assert "relative in Kenya" in play(p, ["1"])
    summary = play(p, ["0722 000 111"])
    assert summary == (f"CON Qatar, leaving {day(20, '/')}\n"
                       "Agency: Savanna Recruitment Agency (valid)\n"
                       "Employer: Al Noor Household\nWork visa\nRelative: 0722000111\n"
                       "1 Confirm\n2 Cancel")
    done = play(p, ["1"])
    assert done.startswith("END Saved. Safe journey! We sent your rights by SMS.")
    assert "SMS HELP" in done

    stored = declaration(svc)
    assert stored.red_flags == [] and stored.agency_status == "valid"
    assert stored.country == "QA" and stored.visa_type == "work"
    assert stored.departure_on.strftime("%d%m%Y") == day(20, "")
    placement = placement_of(svc, person_id)
    assert placement.id == stored.placement_id
    assert placement.status == "visa_issued" and placement.country == "QA"
    assert placement.agency_id == agency_id and placement.listing_id == stored.listing_id
    assert placement.visa_type == "work" and placement.next_of_kin_phone == KIN
    [step] = steps(svc, placement.id)
    assert (step.from_status, step.to_status, step.source) == (None, "visa_issued", "person")
    with svc.db.Session() as session:
        employer = session.get(Employer, placement.employer_id)
        assert (employer.name, employer.country) == ("Al Noor Household", "QA")
        # The person is warned later if this agency's licence changes.
        assert session.scalar(select(AgencyCheck.agency_id)
                              .where(AgencyCheck.phone == PHONE)) == agency_id
    # Only the rights SMS: no red flags, no warning.
    [rights] = sms_to(svc)
    assert rights.kind == "departure_rights"
    assert rights.body.startswith("Kazi Salama: safe journey Jane! Your rights: no agency fees")
    assert "SMS HELP" in rights.body and len(rights.body) <= 160
    work()
    assert [number for number, _body, _id in at_api.sent] == [PHONE]


def test_the_passport_is_encrypted_with_a_blind_index(phone, svc):
    person_id = register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(3), "AK-1234567", "5", KIN, "1"])
    assert p.ended
    with svc.db.Session() as session:
        person = session.get(Person, person_id)
    assert b"AK1234567" not in person.passport_enc
    assert svc.cipher.decrypt(person.passport_enc) == "AK1234567"
    assert person.passport_bidx == svc.cipher.blind_index("passport", "AK1234567")
    # No visa yet: the placement is contracted, not visa_issued.
    placement = placement_of(svc, person_id)
    assert placement.status == "contracted" and placement.visa_type is None
    assert placement.country == "SA"


WARNINGS = {
    "en": {
        "conflict": "CON WARNING: Russia is at war or restricted.",
        "agency": "CON WARNING: Savanna Recruitment Agency: SUSPENDED licence! Do not pay",
        "listing": "CON WARNING: job offer {code} is not approved by NEA (waiting for checks).",
        "visa": "CON WARNING: you cannot work legally on a tourist visa.",
        "summary": "Red flags: 4",
        "done": "END Saved. Safe journey!",
        "sms": "Kazi Salama WARNING: agency not licensed; visa not for work; country at war; "
               "job not approved.",
    },
    "sw": {
        "conflict": "CON TAHADHARI: Urusi ina vita au imezuiwa.",
        "agency": "CON TAHADHARI: Savanna Recruitment Agency: Leseni IMESIMAMISHWA!",
        "listing": "CON TAHADHARI: kazi {code} haijaidhinishwa na NEA (inasubiri ukaguzi).",
        "visa": "CON TAHADHARI: huwezi kufanya kazi kihalali kwa viza ya utalii.",
        "summary": "Hatari: 4",
        "done": "END Imehifadhiwa. Safari njema!",
        "sms": "Kazi Salama TAHADHARI: wakala bila leseni; viza si ya kazi; nchi yenye vita; "
               "kazi haijaidhinishwa.",
    },
}


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_every_red_flag_is_warned_on_the_spot_in_both_languages(phone, svc, lang):
    person_id = register(svc, lang=lang)
    agency_id = agency(svc, status="suspended")
    code = listing(svc, agency_id, status="pending", country="RU")
    words = WARNINGS[lang]
    p = phone()
    p.dial()
    p.send(GOING)
    assert play(p, ["russia" if lang == "en" else "Urusi"]).startswith(words["conflict"])
    assert play(p, ["1", "savanna"]).startswith(words["agency"])
    assert play(p, ["1", code]).startswith(words["listing"].format(code=code))
    play(p, ["1", "Al Noor Household", day(10), "AK1234567"])
    assert play(p, ["3"]).startswith(words["visa"])
    summary = play(p, ["1", KIN])
    assert words["summary"] in summary and len(summary) <= 164
    assert play(p, ["1"]).startswith(words["done"])

    stored = declaration(svc)
    assert stored.red_flags == ["agency_not_valid", "visa_not_for_work",
                                "conflict_destination", "listing_not_approved"]
    assert stored.agency_status == "suspended" and stored.listing_status == "pending"
    placement = placement_of(svc, person_id)
    assert placement.country == "RU" and placement.visa_type == "tourist"
    rights, warning = sms_to(svc)
    assert rights.kind == "departure_rights" and warning.kind == "departure_warning"
    assert warning.body.startswith(words["sms"])
    assert all(len(m.body) <= 160 for m in (rights, warning))


def test_a_visit_visa_is_a_red_flag_too(phone, svc):
    register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "2", "savanna", "1", "Al Noor", day(5), "AK1234567"])
    assert play(p, ["2"]).startswith("CON WARNING: you cannot work legally on a visit visa.")
    # 2 changes the answer: back to the visa question, and work clears the flag.
    assert play(p, ["2"]).startswith("CON What visa do you have?")
    play(p, ["1", KIN, "1"])
    assert declaration(svc).red_flags == []


def test_an_agency_not_on_the_register_asks_for_the_agents_phone(phone, svc):
    register(svc)
    agency(svc)
    p = phone()
    p.dial()
    screen = play(p, [GOING, "1", "Mombasa Quick Jobs"])
    assert screen.startswith('CON "Mombasa Quick Jobs" is not on the NEA register')
    assert "red flag" in screen
    assert "agent who recruited you" in play(p, ["2"])
    assert "not a phone number" in play(p, ["12"])  # wrong input re-asks
    play(p, ["0733 444 555", "1", "Al Noor", day(5), "AK1234567", "1", KIN])
    assert "(not on register)" in p.screen and "Red flags: 1" in p.screen
    play(p, ["1"])
    stored = declaration(svc)
    assert stored.agency_id is None and stored.agency_status == "none"
    assert stored.agency_query == "Mombasa Quick Jobs"
    assert stored.agent_phone == "+254733444555"  # for cluster detection
    assert stored.red_flags == ["agency_not_valid"]


def test_an_unknown_job_code_warns_that_the_advert_may_be_fake(phone, svc):
    register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna"])
    assert play(p, ["ABCDEF"]).startswith(
        "CON No job offer has code ABCDEF. The advert may be fake")
    assert "Job offer code" in play(p, ["1"])  # type it again
    assert "A job code has 6 letters" in play(p, ["K7"])
    play(p, ["ABCDEF", "2", "Al Noor", day(5), "AK1234567", "1", KIN, "1"])
    stored = declaration(svc)
    assert stored.listing_status == "unknown" and stored.red_flags == ["listing_not_approved"]


def test_several_agencies_match_and_one_is_picked(phone, svc):
    register(svc)
    agency(svc, name="Savanna Gulf Careers Ltd")
    wanted = agency(svc, name="Savanna Gulf Travel Ltd", licence_no="NEA/PEA/2024/0002")
    p = phone()
    p.dial()
    screen = play(p, [GOING, "1", "savanna gulf"])
    assert screen.startswith("CON 2 agencies match. Which is yours?")
    assert "Reply with a number" in play(p, ["7"])
    assert "VALID licence" in play(p, ["2"])
    play(p, ["1", "Al Noor", day(5), "AK1234567", "1", KIN, "1"])
    assert declaration(svc).agency_id == wanted


@pytest.mark.parametrize("typed,reason", [
    ("31-02-2027", "That date does not exist."),
    ("tomorrow", "Type the date as day-month-year"),
    (day(400), "more than a year away"),
    (day(-45), "more than 30 days ago"),
])
def test_bad_departure_dates_reask_with_a_reason(phone, svc, typed, reason):
    register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor"])
    screen = play(p, [typed])
    assert screen.startswith("CON ") and reason in screen
    assert "passport" not in screen
    # A recent past date is fine (declared just before, or just after, leaving).
    assert "passport number" in play(p, [day(-3)])


def test_wrong_answers_reask_and_never_end_the_session(phone, svc):
    register(svc)
    register(svc, phone="+254799000000", national_id="87654321", name="Other Person",
             passport="AK7654321")
    agency(svc)
    p = phone()
    p.dial()
    p.send(GOING)
    assert "Kenya is home: choose the country abroad." in play(p, ["kenya"])
    assert "Invalid choice" in play(p, ["zzzzqq"])
    play(p, ["1", "savanna", "1", "A"])
    assert "at least 2 letters" in p.screen
    play(p, ["Al Noor", day(5)])
    assert "1-2 letters then 6-8 digits" in play(p, ["12345"])
    assert "registered to someone else" in play(p, ["AK7654321"])
    play(p, ["AK1234567", "1"])
    assert "your own number" in play(p, ["0712 345 678"])
    assert "not a phone number" in play(p, ["hello"])
    assert "Qatar" not in play(p, [KIN]) and p.screen.startswith("CON Saudi Arabia, leaving")
    assert count_of(svc, DepartureDeclaration) == 0  # nothing until confirmed
    play(p, ["1"])
    assert count_of(svc, DepartureDeclaration) == 1


def test_cancelling_stores_nothing(phone, svc):
    register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(5), "AK1234567", "1", KIN])
    assert play(p, ["2"]).startswith("END Nothing was saved.")
    assert count_of(svc, DepartureDeclaration) == 0 and count_of(svc, Placement) == 0
    assert sms_to(svc) == []


def test_a_guest_is_asked_to_register_first(phone, svc):
    p = phone()
    p.dial()
    screen = play(p, ["1", GOING])
    assert screen.startswith("CON Register first, so that we can look after you abroad")
    assert "safe jobs" in play(p, ["1"])  # the registration's consent screen


def test_a_repeated_confirm_hop_declares_once(phone, svc):
    register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(5), "AK1234567", "1", KIN, "1"])
    first = p.screen
    assert p.repeat() == first
    assert count_of(svc, DepartureDeclaration) == 1 and len(sms_to(svc)) == 1


def test_a_declaration_moves_the_agencys_placement_on(phone, svc):
    """The agency reported the offer; the person's visa moves that placement on."""
    from app.placements.service import transition

    person_id = register(svc)
    agency_id = agency(svc)
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone=PHONE, agency_id=agency_id,
                              country="SA")
        transition(session, placement, "offered", source="agency")
        placement_id = placement.id
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(5), "AK1234567", "1", KIN, "1"])
    assert placement_of(svc, person_id).id == placement_id
    assert [(s.to_status, s.source) for s in steps(svc, placement_id)] == [
        ("offered", "agency"), ("visa_issued", "person")]
    assert PLACEMENT_STATES.index("visa_issued") > PLACEMENT_STATES.index("offered")


def test_a_passport_taken_between_screen_and_confirm_is_flagged_not_stored(phone, svc):
    person_id = register(svc)
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(5), "AK1234567", "1", KIN])
    register(svc, phone="+254799000000", national_id="87654321", name="Other Person",
             passport="AK1234567")  # someone else declares it meanwhile
    play(p, ["1"])
    with svc.db.Session() as session:
        assert session.get(Person, person_id).passport_bidx is None
        flag = session.scalars(select(SafeguardingFlag)).one()
    assert flag.kind == "passport_clash" and flag.person_id == person_id
    assert count_of(svc, DepartureDeclaration) == 1


def test_a_minor_declaring_a_departure_is_kept_and_flagged_for_nea(phone, svc):
    import json

    from app.db import utcnow

    person_id = register(svc)
    born = utcnow().year - 17
    with svc.db.session() as session:
        session.get(Person, person_id).birth_year = born
    agency_id = agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(5), "AK1234567", "1", KIN, "1"])
    p.repeat()  # AT retries the confirming hop: still one flag
    assert p.screen.startswith("END Saved.")
    assert count_of(svc, DepartureDeclaration) == 1
    with svc.db.Session() as session:
        flag = session.scalars(select(SafeguardingFlag)).one()
        declared = session.scalars(select(DepartureDeclaration)).one()
    assert (flag.kind, flag.person_id) == ("minor_departure", person_id)
    assert json.loads(flag.details) == {"birth_year": born, "agency_id": agency_id,
                                        "country": declared.country}


def test_an_adult_declaring_raises_no_safeguarding_flag(phone, svc):
    register(svc)  # born in 1995
    agency(svc)
    p = phone()
    p.dial()
    play(p, [GOING, "1", "savanna", "1", "Al Noor", day(5), "AK1234567", "1", KIN, "1"])
    assert p.screen.startswith("END Saved.")
    assert count_of(svc, SafeguardingFlag) == 0
