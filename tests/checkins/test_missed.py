"""app/checkins/missed.py: silence after a check-in, and the follow-up cases it opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.checkins.campaign import send_due
from app.checkins.missed import PROBLEM_GRACE, mark_missed
from app.models import Case, CheckIn, SmsDialogue
from tests.checkins.helpers import abroad, checkins

FIRST = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # noon in Riyadh
MONTHS = [FIRST, datetime(2026, 12, 24, 9, tzinfo=UTC), datetime(2027, 1, 24, 9, tzinfo=UTC),
          datetime(2027, 2, 24, 9, tzinfo=UTC)]
A = "+966512345001"
WEEK = timedelta(days=7)


def cases(svc) -> list[Case]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def answer(svc, checkin_id: int, value: str = "1") -> None:
    with svc.db.session() as session:
        session.execute(update(CheckIn).where(CheckIn.id == checkin_id).values(
            status="answered", answer=value, answered_at=FIRST))


def test_unanswered_for_seven_days_is_missed(svc) -> None:
    abroad(svc, A, arrived_at=FIRST - timedelta(days=7))
    send_due(svc, FIRST)

    assert mark_missed(svc, FIRST + WEEK - timedelta(seconds=1))["missed"] == 0
    assert checkins(svc)[0].status == "sent"
    assert mark_missed(svc, FIRST + WEEK)["missed"] == 1
    assert checkins(svc)[0].status == "missed"
    assert mark_missed(svc, FIRST + 2 * WEEK)["missed"] == 0


def test_a_check_in_is_missed_once_the_next_one_went_out(svc) -> None:
    placement = abroad(svc, A, arrived_at=FIRST - timedelta(days=7))
    send_due(svc, FIRST)
    with svc.db.session() as session:  # a second check-in, sent a day later by hand
        session.add(CheckIn(placement_id=placement, phone=A, sequence=2, status="sent",
                            due_at=FIRST + timedelta(days=1), sent_at=FIRST + timedelta(days=1)))

    counts = mark_missed(svc, FIRST + timedelta(days=2))

    assert counts["missed"] == 1
    assert [c.status for c in checkins(svc)] == ["missed", "sent"]


def test_two_missed_in_a_row_open_one_normal_case_and_later_misses_join_it(svc) -> None:
    placement = abroad(svc, A, arrived_at=FIRST - timedelta(days=7))
    other = abroad(svc, "+966512345002", arrived_at=FIRST - timedelta(days=7))
    for month in MONTHS[:3]:
        send_due(svc, month)
        if month == MONTHS[1]:
            answer(svc, checkins(svc, other)[-1].id)  # B answers its second check-in
        mark_missed(svc, month + WEEK)

    [case] = cases(svc)
    assert (case.severity, case.channel, case.placement_id) == ("normal", "checkin", placement)
    assert case.reporter_phone == A and case.country == "SA"
    first, second, third = checkins(svc, placement)
    assert [c.status for c in (first, second, third)] == ["missed"] * 3
    assert (first.case_id, second.case_id, third.case_id) == (None, case.id, case.id)
    assert [c.case_id for c in checkins(svc, other)] == [None, None, None]
    assert mark_missed(svc, MONTHS[2] + 2 * WEEK)["cases"] == 0


def test_one_case_per_person_for_two_misses(svc) -> None:
    abroad(svc, A, arrived_at=FIRST - timedelta(days=7))
    abroad(svc, "+966512345002", arrived_at=FIRST - timedelta(days=7))
    totals = []
    for month in MONTHS[:2]:
        send_due(svc, month)
        totals.append(mark_missed(svc, month + WEEK))

    assert [t["cases"] for t in totals] == [0, 2]
    assert sorted(c.reporter_phone for c in cases(svc)) == [A, "+966512345002"]


def test_an_answer_in_between_breaks_the_streak(svc) -> None:
    placement = abroad(svc, A, arrived_at=FIRST - timedelta(days=7))
    send_due(svc, MONTHS[0])
    mark_missed(svc, MONTHS[0] + WEEK)
    send_due(svc, MONTHS[1])
    answer(svc, checkins(svc, placement)[1].id)
    send_due(svc, MONTHS[2])
    counts = mark_missed(svc, MONTHS[2] + WEEK)

    assert counts == {"missed": 1, "cases": 0, "joined": 0, "unfinished_problems": 0}
    assert [c.status for c in checkins(svc, placement)] == ["missed", "answered", "missed"]
    assert cases(svc) == []


def test_a_2_left_without_its_problem_opens_a_case_and_closes_the_menu(svc) -> None:
    placement = abroad(svc, A, arrived_at=FIRST - timedelta(days=7))
    send_due(svc, FIRST)
    [checkin] = checkins(svc)
    answer(svc, checkin.id, "2")

    assert mark_missed(svc, FIRST + PROBLEM_GRACE - timedelta(seconds=1))[
        "unfinished_problems"] == 0
    counts = mark_missed(svc, FIRST + PROBLEM_GRACE + timedelta(seconds=1))

    assert counts["unfinished_problems"] == 1
    [case] = cases(svc)
    assert (case.category, case.placement_id, case.channel) == ("other", placement, "checkin")
    assert checkins(svc)[0].case_id == case.id
    with svc.db.Session() as session:
        assert session.scalar(select(SmsDialogue).where(SmsDialogue.phone == A)) is None
    assert mark_missed(svc, FIRST + 2 * PROBLEM_GRACE)["unfinished_problems"] == 0
