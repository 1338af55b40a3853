"""Answers to a check-in, over SMS exactly as AT posts them: 1 fine, 2 problem, 3 danger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.checkins.campaign import send_due
from app.checkins.replies import REPLY_WINDOW
from app.i18n import translate
from app.models import Case, CheckIn, Contact, InboundSms, SmsDialogue
from tests.checkins.helpers import abroad, checkins, messages, sms
from tests.checkins.helpers import local_time as riyadh_time

A = "+966512345001"
RIYADH = "Asia/Riyadh"


def checked_in(svc, work, *, lang: str = "en", days_ago: int = 0, phone: str = A) -> int:
    """Send ``phone`` its first check-in at noon in Riyadh ``days_ago`` days ago."""
    moment = riyadh_time(RIYADH, 12, days_ago=days_ago)
    placement = abroad(svc, phone, arrived_at=moment - timedelta(days=8), lang=lang)
    assert send_due(svc, moment)["created"] == 1
    work()
    return placement


def cases(svc) -> list[Case]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def last_body(svc, phone: str = A) -> str:
    return messages(svc, phone)[-1].body


def dialogue(svc, phone: str = A) -> SmsDialogue | None:
    with svc.db.Session() as session:
        return session.scalar(select(SmsDialogue).where(SmsDialogue.phone == phone))


def routes(svc) -> list[str | None]:
    with svc.db.Session() as session:
        return list(session.scalars(select(InboundSms.route).order_by(InboundSms.id)))


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_1_is_fine_and_closes_the_dialogue(svc, client, work, at_api, lang) -> None:
    checked_in(svc, work, lang=lang)

    sms(client, A, "1")
    work()

    [checkin] = checkins(svc)
    assert (checkin.status, checkin.answer, checkin.case_id) == ("answered", "1", None)
    assert checkin.answered_at is not None
    assert last_body(svc) == translate(lang, "checkin.fine")
    assert at_api.sent[-1][:2] == (A, translate(lang, "checkin.fine"))
    assert dialogue(svc) is None and cases(svc) == [] and routes(svc) == ["dialogue"]


@pytest.mark.parametrize(("lang", "choice", "category"), [
    ("en", "1", "unpaid_wages"), ("sw", "2", "passport_held"), ("en", "3", "abuse"),
    ("sw", "4", "confinement"), ("en", "5", "wants_return"), ("sw", "6", "other"),
])
def test_2_asks_what_is_wrong_then_opens_a_case(svc, client, work, at_api, lang, choice,
                                                 category) -> None:
    placement = checked_in(svc, work, lang=lang)

    sms(client, A, "2")
    work()
    menu = last_body(svc)
    assert menu.startswith(translate(lang, "checkin.problem"))
    assert translate(lang, "checkin.cat_passport") in menu and len(menu) <= 160
    assert checkins(svc)[0].answer == "2" and cases(svc) == []

    sms(client, A, choice)
    work()

    [case] = cases(svc)
    assert (case.category, case.channel, case.placement_id) == (category, "checkin", placement)
    assert case.country == "SA" and case.reporter_phone == A
    if category in ("abuse", "confinement"):
        assert case.severity == "critical"
    [checkin] = checkins(svc)
    assert (checkin.status, checkin.answer, checkin.case_id) == ("answered", "2", case.id)
    assert last_body(svc) == translate(lang, "checkin.reported", case_ref=case.ref)
    assert any(case.ref in body for number, body, _ in at_api.sent if number == A)
    assert dialogue(svc) is None


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_3_opens_a_critical_case_at_once(svc, client, work, at_api, lang) -> None:
    placement = checked_in(svc, work, lang=lang)

    sms(client, A, "3")
    work()

    [case] = cases(svc)
    assert (case.severity, case.channel, case.placement_id) == ("critical", "checkin", placement)
    assert case.country == "SA"
    [checkin] = checkins(svc)
    assert (checkin.answer, checkin.case_id) == ("3", case.id)
    assert last_body(svc) == translate(lang, "checkin.danger", case_ref=case.ref)
    assert any(body == last_body(svc) for number, body, _ in at_api.sent if number == A)


def test_a_wrong_answer_reasks_and_keeps_the_dialogue(svc, client, work) -> None:
    checked_in(svc, work)

    sms(client, A, "7")
    work()

    assert last_body(svc).startswith(translate("en", "err.choice"))
    assert dialogue(svc) is not None and checkins(svc)[0].status == "sent"


def test_a_late_3_after_the_dialogue_expired_still_opens_a_critical_case(svc, client,
                                                                          work) -> None:
    checked_in(svc, work, days_ago=10)  # its reply window closed three days ago
    [checkin] = checkins(svc)
    assert checkin.sent_at.replace(tzinfo=UTC) + REPLY_WINDOW < datetime.now(UTC)
    assert dialogue(svc) is None

    sms(client, A, "3 my boss locked me in")
    work()

    [case] = cases(svc)
    assert case.severity == "critical" and case.first_text == "3 my boss locked me in"
    [checkin] = checkins(svc)
    assert (checkin.status, checkin.answer, checkin.case_id) == ("answered", "3", case.id)
    assert last_body(svc) == translate("en", "checkin.danger", case_ref=case.ref)
    assert routes(svc) == ["3"]


def test_a_late_3_counts_even_after_the_check_in_was_marked_missed(svc, client, work) -> None:
    from app.checkins.missed import mark_missed

    checked_in(svc, work, days_ago=20, lang="sw")
    assert mark_missed(svc)["missed"] == 1

    sms(client, A, "3")
    work()

    [case] = cases(svc)
    assert case.severity == "critical" and case.lang == "sw"
    assert checkins(svc)[0].answer == "3"


def test_a_late_2_opens_the_problem_menu_and_a_late_1_is_recorded(svc, client, work) -> None:
    checked_in(svc, work, days_ago=10)

    sms(client, A, "2")
    work()
    assert last_body(svc).startswith(translate("en", "checkin.problem"))
    sms(client, A, "2")  # passport taken
    work()

    [case] = cases(svc)
    assert case.category == "passport_held" and case.placement_id is not None
    assert last_body(svc) == translate("en", "checkin.reported", case_ref=case.ref)

    sms(client, A, "1")
    work()
    assert checkins(svc)[0].answer == "1"
    assert last_body(svc) == translate("en", "checkin.fine")


def test_a_bare_3_without_a_recent_check_in_gets_the_help_text(svc, client, work) -> None:
    checked_in(svc, work, days_ago=40)  # too long ago to be an answer

    sms(client, A, "3")
    work()

    assert cases(svc) == [] and checkins(svc)[0].status == "sent"
    assert last_body(svc) == translate("en", "sms.help", service_code="*384*2026#")


def test_a_repeated_callback_is_answered_once(svc, client, work) -> None:
    checked_in(svc, work, days_ago=10)
    at_id = sms(client, A, "3")
    response = client.post("/sms/incoming", data={
        "from": A, "to": "22384", "text": "3", "date": "2026-11-24 10:00:00", "id": at_id,
        "linkId": "x", "networkCode": "42001"})
    assert response.status_code == 200
    work()

    assert len(cases(svc)) == 1
    assert [m.kind for m in messages(svc, A)].count("checkin_reply") == 1


def test_stop_pauses_check_ins_and_start_resumes_them(svc, client, work, at_api) -> None:
    moment = riyadh_time(RIYADH, 12)
    abroad(svc, A, arrived_at=moment - timedelta(days=8))

    sms(client, A, "STOP")
    work()
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.checkins_paused).where(Contact.phone == A))
    assert send_due(svc, moment)["created"] == 0

    sms(client, A, "START")
    work()
    assert send_due(svc, moment)["created"] == 1
    work()
    assert at_api.sent[-1][1].startswith(translate("en", "checkin.ask"))


def test_stop_in_the_middle_of_a_check_in_never_pauses_help(svc, client, work) -> None:
    checked_in(svc, work)

    sms(client, A, "STOP")
    work()
    sms(client, A, "3")  # the check-in is still open: danger still counts
    work()

    [case] = cases(svc)
    assert case.severity == "critical"
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.checkins_paused).where(Contact.phone == A))


def test_the_checkin_ref_names_its_check_in(svc, client, work) -> None:
    checked_in(svc, work)
    [checkin] = checkins(svc)
    assert dialogue(svc) is None  # the campaign stores none: the first reply opens it

    sms(client, A, "7")
    work()

    assert dialogue(svc).ref == f"checkin:{checkin.id}" and dialogue(svc).step == 1
    with svc.db.Session() as session:
        assert session.get(CheckIn, checkin.id).message_id == messages(svc, A)[0].id


def test_stop_pauses_check_ins_but_help_still_opens_a_case(svc, client, work) -> None:
    moment = riyadh_time(RIYADH, 12)
    abroad(svc, A, arrived_at=moment - timedelta(days=8))
    sms(client, A, "STOP")
    work()

    sms(client, A, "HELP")  # part A's distress keyword: never paused
    work()

    [case] = cases(svc)
    assert case.reporter_phone == A and case.channel == "sms"
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.checkins_paused).where(Contact.phone == A))
    assert send_due(svc, moment)["created"] == 0


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_first_reply_opens_the_dialogue_in_the_language_the_check_in_went_out_in(
        svc, client, work, at_api, lang) -> None:
    checked_in(svc, work, lang=lang)
    [sent] = messages(svc, A)
    assert sent.body.startswith(translate(lang, "checkin.ask"))

    sms(client, A, "2")
    work()

    assert last_body(svc).startswith(translate(lang, "checkin.problem"))
    assert at_api.sent[-1][:2] == (A, last_body(svc))
    sms(client, A, "1")  # unpaid wages
    work()

    [case] = cases(svc)
    assert case.category == "unpaid_wages" and routes(svc) == ["dialogue", "dialogue"]
    assert last_body(svc) == translate(lang, "checkin.reported", case_ref=case.ref)


@pytest.mark.parametrize("close", ["answered", "missed"])
def test_a_check_in_answered_or_missed_no_longer_takes_replies_as_its_menu(
        svc, client, work, close) -> None:
    checked_in(svc, work)
    with svc.db.session() as session:
        session.get(CheckIn, checkins(svc)[0].id).status = close

    sms(client, A, "7")
    work()

    assert dialogue(svc) is None and routes(svc) == ["unknown"]
    assert not last_body(svc).startswith(translate("en", "err.choice"))
