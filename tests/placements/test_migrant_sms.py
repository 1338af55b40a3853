"""A migrant's job change and return by SMS: POST /sms/incoming, then the RQ worker."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.db import aware, utcnow
from app.models import Employer, InboundSms, Placement, PlacementTransition, SmsDialogue
from app.placements.migrant import moment_on, says_new_job
from app.placements.service import transition
from menus.travel import KENYA, kenya_today
from tests.placements.recruits import PHONE, abroad, count_of, day, register, sms_to

_ids = itertools.count(1)


def incoming(client, work, text: str, sender: str = PHONE) -> str:
    """Send one SMS in, run the jobs, and give the last SMS that number was sent."""
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": f"ATXid_mig{next(_ids)}", "linkId": "", "networkCode": "42001",
    })
    assert response.status_code == 200
    work()
    return last_sms(client.application.extensions["kazi"], sender)


def last_sms(svc, phone: str = PHONE) -> str:
    messages = sms_to(svc, phone)
    return messages[-1].body if messages else ""


def steps(svc, placement_id) -> list[PlacementTransition]:
    with svc.db.Session() as session:
        return list(session.scalars(select(PlacementTransition)
                                    .where(PlacementTransition.placement_id == placement_id)
                                    .order_by(PlacementTransition.id)))


def placement(svc, placement_id) -> Placement:
    with svc.db.Session() as session:
        return session.get(Placement, placement_id)


@pytest.fixture
def migrant(svc) -> tuple[int, int]:
    """A registered person who arrived in Saudi Arabia 30 days ago."""
    person_id = register(svc)
    return person_id, abroad(svc, person_id, "SA", days=30)


def test_a_new_job_dialogue_records_the_employer(client, svc, work, migrant):
    _person_id, placement_id = migrant
    first = incoming(client, work, "NEW JOB")
    assert first.startswith("Kazi Salama: new job. Reply with the name of your new employer")
    assert incoming(client, work, "Gulf Care Co") == "Which city or town do you work in now?"
    # The country is known from the placement (Saudi Arabia): the date comes next.
    assert incoming(client, work, "Jeddah").startswith("When did you start there?")
    done = incoming(client, work, day(-10))
    assert done == (f"Kazi Salama: recorded. New job at Gulf Care Co, Jeddah, from "
                    f"{day(-10, '/')}. SMS HELP any time you need help.")
    rows = steps(svc, placement_id)
    assert [(r.to_status, r.source) for r in rows][-1] == ("employed", "person")
    assert rows[-1].from_status == "arrived" and "Gulf Care Co" in rows[-1].evidence
    found = placement(svc, placement_id)
    assert found.status == "employed" and found.country == "SA"
    with svc.db.Session() as session:
        employer = session.get(Employer, found.employer_id)
        assert (employer.name, employer.country, employer.city) == ("Gulf Care Co", "SA",
                                                                   "Jeddah")
        assert session.scalar(select(SmsDialogue)) is None  # closed at the end


def test_wrong_dates_reask_with_the_reason(client, svc, work, migrant):
    _person_id, placement_id = migrant
    incoming(client, work, "new job")
    incoming(client, work, "Gulf Care Co")
    incoming(client, work, "Jeddah")
    assert incoming(client, work, "31-02-2026").startswith("That date does not exist.")
    assert incoming(client, work, day(5)).startswith("That date has not come yet.")
    before = incoming(client, work, day(-45))
    # The arrival was 30 days and 8 hours after a UTC moment: its Kenyan date is the
    # day after day(-30) when the test runs between 13:00 and 16:00 UTC.
    arrived = aware(steps(svc, placement_id)[-1].occurred_at).astimezone(KENYA)
    assert before.startswith(f"That is before {arrived:%d/%m/%Y}, the last date we have")
    assert incoming(client, work, "soon").startswith("Type the date as day-month-year")
    assert [r.to_status for r in steps(svc, placement_id)] == ["departed", "arrived"]
    assert incoming(client, work, "today").startswith("Kazi Salama: recorded.")
    assert steps(svc, placement_id)[-1].to_status == "employed"


@pytest.mark.parametrize("text", ["NEW JOB", "new job!", "New-Job", "NEWJOB", "new employer",
                                  "Kazi mpya", "KAZIMPYA"])
def test_the_keyword_is_read_in_every_spelling(text):
    assert says_new_job(text)


@pytest.mark.parametrize("text", ["NEW", "new phone", "KAZI", "kazi salama", "JOB NEW"])
def test_other_texts_are_not_the_keyword(text):
    assert not says_new_job(text)


def test_kazi_mpya_runs_the_dialogue_in_kiswahili(client, svc, work):
    person_id = register(svc, lang="sw")
    placement_id = abroad(svc, person_id, "QA", days=20)
    assert incoming(client, work, "kazi mpya").startswith("Kazi Salama: kazi mpya. Jibu kwa jina")
    assert incoming(client, work, "Doha Cleaning") == "Unafanya kazi mji gani sasa?"
    assert incoming(client, work, "Doha").startswith("Ulianza lini?")
    assert incoming(client, work, "leo").startswith("Kazi Salama: tumerekodi kazi mpya kwa "
                                                    "Doha Cleaning, Doha, tangu")
    assert placement(svc, placement_id).status == "employed"


def test_an_employer_whose_name_starts_like_the_keyword_is_an_answer(client, svc, work, migrant):
    _person_id, placement_id = migrant
    incoming(client, work, "NEW JOB")
    # "New Vision" starts with NEW but is the answer the open dialogue waits for.
    assert incoming(client, work, "New Vision Cleaning") == "Which city or town do you work in now?"
    incoming(client, work, "Riyadh")
    incoming(client, work, day(-1))
    with svc.db.Session() as session:
        name = session.scalar(select(Employer.name).where(
            Employer.id == placement(svc, placement_id).employer_id))
    assert name == "New Vision Cleaning"


def test_new_without_job_and_no_dialogue_gets_the_help_text(client, svc, work, migrant):
    assert incoming(client, work, "new phone").startswith("Kazi Salama: dial")
    with svc.db.Session() as session:
        assert session.scalar(select(SmsDialogue)) is None


def test_a_number_we_do_not_know_is_told_so(client, svc, work):
    reply = incoming(client, work, "NEW JOB", sender="+966501112233")
    assert reply.startswith("Kazi Salama: we do not know this number.")
    assert incoming(client, work, "RETURNED", sender="+966501112233").startswith(
        "Kazi Salama: we do not know this number.")
    assert count_of(svc, Placement) == 0


def test_a_registered_person_without_a_placement_starts_one_abroad(client, svc, work):
    """From a Qatari number the country is known; from a Kenyan one it is asked."""
    person_id = register(svc)
    incoming(client, work, "NEW JOB")
    incoming(client, work, "Al Noor")
    assert incoming(client, work, "Muscat").startswith("Which country is that?")
    assert "Kenya is home" in incoming(client, work, "Kenya")
    assert incoming(client, work, "oman").startswith("When did you start there?")
    incoming(client, work, day(-2))
    with svc.db.Session() as session:
        found = session.scalars(select(Placement).where(Placement.person_id == person_id)).one()
    assert found.status == "employed" and found.country == "OM"
    assert [(s.to_status, s.source) for s in steps(svc, found.id)] == [("employed", "person")]


def test_returned_closes_the_trip(client, svc, work, migrant):
    _person_id, placement_id = migrant
    assert incoming(client, work, "RETURNED").startswith("Kazi Salama: welcome home! Reply")
    assert incoming(client, work, day(1)).startswith("That date has not come yet.")
    done = incoming(client, work, day(-2, "."))
    assert done.startswith(f"Kazi Salama: welcome home! We recorded your return on "
                           f"{day(-2, '/')}.")
    rows = steps(svc, placement_id)
    assert (rows[-1].from_status, rows[-1].to_status, rows[-1].source) == (
        "arrived", "returned", "person")
    found = placement(svc, placement_id)
    assert found.status == "returned" and found.ended_at is not None
    # Nothing left to close: a second RETURNED says so.
    assert "no trip abroad on record" in incoming(client, work, "RETURNED")


def test_nimerudi_in_kiswahili(client, svc, work):
    person_id = register(svc, lang="sw")
    placement_id = abroad(svc, person_id, "AE", days=100)
    assert incoming(client, work, "Nimerudi").startswith("Kazi Salama: karibu nyumbani! Jibu")
    assert incoming(client, work, day(0, "")).startswith("Kazi Salama: karibu nyumbani! "
                                                         "Tumerekodi")
    assert placement(svc, placement_id).status == "returned"


def test_a_return_recorded_meanwhile_is_refused_with_the_reason(client, svc, work, migrant):
    _person_id, placement_id = migrant
    incoming(client, work, "RETURNED")
    with svc.db.session() as session:  # immigration saw the arrival home first
        transition(session, session.get(Placement, placement_id), "returned",
                   source="immigration", occurred_at=utcnow() - timedelta(days=1))
    reply = incoming(client, work, day(-1))
    assert reply == ("Kazi Salama: we could not record your return: your trip is already "
                     "closed. SMS RETURNED to try again.")
    assert [r.source for r in steps(svc, placement_id)][-1] == "immigration"


def test_a_replayed_sms_records_nothing_twice(client, svc, work, migrant):
    _person_id, placement_id = migrant
    incoming(client, work, "RETURNED")
    data = {"from": PHONE, "to": "22384", "text": day(-1), "date": "2026-11-24 10:00:00",
            "id": "ATXid_same", "linkId": "", "networkCode": "42001"}
    client.post("/sms/incoming", data=data)
    client.post("/sms/incoming", data=data)
    work()
    assert [r.to_status for r in steps(svc, placement_id)].count("returned") == 1
    assert count_of(svc, InboundSms, InboundSms.at_id == "ATXid_same") == 1


def test_a_day_reported_becomes_a_moment_that_keeps_the_order():
    now = utcnow()
    assert moment_on(kenya_today(), None, now) == now  # today: now
    earlier = kenya_today() - timedelta(days=5)
    noon = datetime.combine(earlier, time(12), KENYA)
    assert moment_on(earlier, None, now) == noon  # another day: its noon in Kenya
    late = datetime.combine(earlier, time(15), KENYA)
    # The last step was later that same day: the new step cannot come before it.
    assert moment_on(earlier, late, now) == late
    assert moment_on(earlier, late - timedelta(hours=6), now) == noon
