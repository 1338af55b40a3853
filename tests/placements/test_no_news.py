"""No news from my relative: USSD under "Get help" opens a case through the protection intake."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Case, Placement
from app.placements.service import transition
from tests.placements.recruits import abroad, count_of, register

REPORTER = "+254733000111"
NO_NEWS = ["1", "5", "3"]
"""English, Get help, No news from a relative."""


def play(p, inputs):
    for value in inputs:
        p.send(value)
    return p.screen


def the_case(svc) -> Case:
    with svc.db.Session() as session:
        return session.scalars(select(Case)).one()


def test_a_relatives_foreign_number_gives_the_country_and_opens_a_high_case(phone, svc):
    p = phone(REPORTER)
    p.dial()
    assert "3 No news from a relative" in play(p, NO_NEWS[:2])
    assert play(p, ["3"]).startswith("CON No news from a relative abroad. Type their phone")
    # A Saudi number says where they are: no country question.
    assert play(p, ["+966 50 123 4567"]).startswith("CON When did you last hear from them?")
    confirm = play(p, ["4"])
    assert confirm == ("CON No news from +966501234567 in Saudi Arabia for over 3 months. "
                       "Send this to the embassy?\n1 Send\n2 Cancel")
    done = play(p, ["1"])
    case = the_case(svc)
    assert done == (f"END Case {case.ref} opened. An embassy officer will try to reach your "
                    "relative and will SMS you. Keep your phone on.")
    assert (case.category, case.severity, case.country) == ("other", "high", "SA")
    assert case.reporter_phone == REPORTER and case.channel == "ussd"
    assert case.subject_phone == "+966501234567" and not case.reporter_is_subject
    assert "No news from a relative abroad for more than 3 months" in case.first_text


def test_a_short_silence_is_normal_and_a_name_links_the_declared_next_of_kin(phone, svc):
    person_id = register(svc, phone="+254712345678")
    placement_id = abroad(svc, person_id, "QA", days=40)
    with svc.db.session() as session:  # the migrant named the reporter when declaring
        session.get(Placement, placement_id).next_of_kin_phone = REPORTER
    p = phone(REPORTER)
    p.dial()
    play(p, NO_NEWS)
    assert play(p, ["Jane Wanjiru"]).startswith("CON Which country are they in?")
    assert "Kenya is home" in play(p, ["kenya"])
    assert play(p, ["qatar"]).startswith("CON When did you last hear from them?")
    assert "for 1 to 4 weeks" in play(p, ["2"])
    play(p, ["1"])
    case = the_case(svc)
    assert (case.severity, case.country, case.subject_name) == ("normal", "QA", "Jane Wanjiru")
    assert case.person_id == person_id and case.placement_id == placement_id


def test_a_conflict_country_makes_even_a_short_silence_high(phone, svc):
    p = phone(REPORTER)
    p.dial()
    play(p, [*NO_NEWS, "Peter Otieno", "russia", "1"])
    assert "in Russia for under a week" in p.screen
    play(p, ["1"])
    assert the_case(svc).severity == "high"


def test_the_relatives_number_finds_their_placement(phone, svc):
    person_id = register(svc, phone="+966509998877")
    placement_id = abroad(svc, person_id, "SA", days=60, phone="+966509998877")
    p = phone(REPORTER)
    p.dial()
    play(p, [*NO_NEWS, "+966509998877", "3", "1"])
    case = the_case(svc)
    assert case.placement_id == placement_id and case.person_id == person_id


@pytest.mark.parametrize("typed,reason", [
    ("12", "Type their phone number"),
    ("J", "Type their phone number"),
    ("Jane \u0416", "Use letters A-Z only."),
])
def test_wrong_answers_reask(phone, svc, typed, reason):
    p = phone(REPORTER)
    p.dial()
    play(p, NO_NEWS)
    screen = play(p, [typed])
    assert screen.startswith("CON ") and reason in screen
    assert count_of(svc, Case) == 0


def test_cancelling_opens_no_case(phone, svc):
    p = phone(REPORTER)
    p.dial()
    assert play(p, [*NO_NEWS, "+966501234567", "1", "2"]).startswith("END Nothing was sent.")
    assert count_of(svc, Case) == 0


def test_the_kiswahili_journey(phone, svc):
    p = phone(REPORTER)
    p.dial()
    play(p, ["2", "5", "3"])
    assert p.screen.startswith("CON Hakuna habari za ndugu ng'ambo.")
    play(p, ["+971501234567"])
    assert "Zaidi ya miezi 3" in p.screen
    confirm = play(p, ["4"])
    assert confirm.startswith("CON Hakuna habari za +971501234567 aliye")
    assert "kwa zaidi ya miezi 3. Tuma kwa ubalozi?" in confirm
    assert play(p, ["1"]).startswith("END Kesi ")
    assert the_case(svc).lang == "sw" and the_case(svc).severity == "high"


def test_placements_abroad_without_a_person_are_found_by_number(svc):
    from app.placements.no_news import relative_placement

    with svc.db.session() as session:
        placement = Placement(phone="+966501112233", country="SA")
        transition(session, placement, "arrived", source="immigration")
        placement_id = placement.id
    with svc.db.Session() as session:
        found = relative_placement(session, REPORTER, "+966501112233")
        assert found is not None and found.id == placement_id
        assert relative_placement(session, REPORTER, None) is None
