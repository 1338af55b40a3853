"""A caller who dials again: language, the registered menu, profile, consent, a cut-off draft."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Contact, Person, RegistrationDraft, UssdEvent
from app.sessions import RESUME_KEY
from tests.ussd.helpers import ANSWERS, ENGLISH, START, SWAHILI, count, person, play, register


def test_language_is_remembered_per_number(phone):
    p = phone()
    p.dial()
    play(p, SWAHILI)
    again = phone().dial()
    assert again.startswith("CON Kazi Salama: kazi salama")


def test_main_menu_differs_for_registered_people(phone, svc):
    p = phone()
    guest = p.dial() and play(p, ENGLISH)
    assert "1 Register" in guest
    register(phone(), lang=[])
    member = phone().dial()
    assert member.startswith("CON Welcome Jane (KS")
    assert "My profile" in member and "Register" not in member


def test_language_choice_is_stored_in_sql(phone, svc):
    p = phone()
    p.dial()
    play(p, SWAHILI)
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.lang).where(Contact.phone == p.number)) == "sw"


def test_my_profile_shows_the_number_and_changes_language(phone, svc):
    register(phone())
    p = phone()
    p.dial()
    profile = play(p, ["1"])
    assert profile.startswith(f"CON My profile\nRegistration no: {person(svc).reg_no}")
    play(p, ["1", "2"])  # change language -> Kiswahili
    assert p.screen.startswith("CON Karibu Jane")
    assert person(svc).lang == "sw"


def test_withdrawing_consent_erases_the_record(phone, svc):
    register(phone())
    p = phone()
    p.dial()
    assert play(p, ["1", "2"]).startswith("CON Delete your registration?")
    assert play(p, ["1"]).startswith("END Done. Your details are erased.")
    with svc.db.Session() as session:
        erased = session.scalar(select(Person))
    assert erased.status == "withdrawn"
    assert erased.full_name is None and erased.national_id_enc is None
    assert erased.national_id_bidx is None and erased.phone is None
    assert phone().dial().startswith("CON Kazi Salama: safe work")  # a guest again
    # The ID can register again after withdrawal.
    assert register(phone(), lang=[]).startswith("END Registered!")


def test_a_new_dial_offers_to_continue_a_cut_off_registration(phone, svc):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru", "12345678"])
    again = phone()
    offer = again.dial()
    assert offer.startswith("CON You did not finish registering.")
    resumed = play(again, ["1"])
    assert resumed == "CON Enter your year of birth, e.g. 1995:"
    play(again, ANSWERS[2:] + ["1"])
    assert again.screen.startswith("END Registered!")
    assert person(svc).full_name == "Jane Wanjiru"
    assert svc.redis.get(RESUME_KEY.format(p.number)) is None


def test_start_again_discards_the_old_answers(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru"])
    again = phone()
    again.dial()
    assert "safe jobs" in play(again, ["2"])


def test_incomplete_session_keeps_a_draft_and_schedules_one_reminder(phone, svc):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru", "12345678"])
    p.hang_up("Incomplete")
    p.hang_up("Incomplete")  # AT retries the report
    assert count(svc, UssdEvent) == 1
    assert count(svc, RegistrationDraft) == 1
    scheduled = svc.queues["default"].scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1
    # Even after the resume pointer in Redis is gone, the draft in SQL resumes it.
    svc.redis.delete(RESUME_KEY.format(p.number))
    assert phone().dial().startswith("CON You did not finish registering.")


def test_successful_session_report_is_stored_without_a_draft(phone, svc):
    p = phone()
    register(p)
    p.hang_up("Success")
    assert count(svc, UssdEvent) == 1
    assert count(svc, RegistrationDraft) == 0
