"""app/checkins/campaign.py: who gets a check-in, when, in what words, and exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq.job import Job
from rq.rate_limit import RateLimitRegistry
from sqlalchemy import select

from app.checkins import campaign
from app.checkins.batches import RATE_LIMIT_KEY
from app.checkins.campaign import send_due
from app.i18n import translate
from app.models import CheckIn, Message, SmsDialogue
from app.sms.gsm import is_gsm7
from tests.checkins.helpers import abroad, checkins, count, messages
from workers.reconcile import reconcile

# 09:00 UTC: noon in Riyadh, 13:00 in Dubai, 04:00 in New York.
AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
A, B, C = "+966512345001", "+966512345002", "+12025550103"


def test_first_check_in_goes_seven_days_after_arrival_not_before(svc, at_api, work) -> None:
    due = abroad(svc, A, arrived_at=AS_OF - timedelta(days=7))
    early = abroad(svc, B, arrived_at=AS_OF - timedelta(days=6, hours=23))

    counts = send_due(svc, AS_OF)
    work()

    assert counts["created"] == 1 and counts["batches"] == 1
    [checkin] = checkins(svc)
    assert (checkin.placement_id, checkin.sequence, checkin.status) == (due, 1, "sent")
    assert checkins(svc, early) == []
    assert [number for number, _, _ in at_api.sent] == [A]
    [message] = messages(svc, A)
    assert message.status == "sent" and message.kind == "checkin" and message.queue == "bulk"
    assert checkin.message_id == message.id


def test_then_monthly_and_a_late_start_sends_only_the_current_one(svc, at_api, work) -> None:
    arrived = AS_OF - timedelta(days=7)
    placement = abroad(svc, A, arrived_at=arrived)
    # Arrival recorded late: three months of check-ins are past, only the latest goes.
    old = abroad(svc, B, arrived_at=AS_OF - timedelta(days=7) - timedelta(days=95))

    assert send_due(svc, AS_OF)["created"] == 2  # A's 1st (due 24 Nov), B's 4th (21 Nov)
    assert send_due(svc, AS_OF + timedelta(days=26))["created"] == 0
    assert send_due(svc, datetime(2026, 12, 21, 9, 0, tzinfo=UTC))["created"] == 1  # B's 5th
    a_month_on = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    assert send_due(svc, a_month_on - timedelta(minutes=1))["created"] == 0
    assert send_due(svc, a_month_on)["created"] == 1  # A's 2nd
    work()

    assert [(c.sequence, c.due_at.month, c.due_at.day) for c in checkins(svc, placement)] == [
        (1, 11, 24), (2, 12, 24)]
    assert [c.sequence for c in checkins(svc, old)] == [4, 5]
    assert len(at_api.sent) == 4


def test_only_people_arrived_or_employed_get_check_ins(svc, at_api, work) -> None:
    arrived = AS_OF - timedelta(days=30)
    for n, status in enumerate(("applied", "departed", "arrived", "employed", "ended",
                                "returned")):
        abroad(svc, f"+96651234510{n}", arrived_at=arrived, status=status)
    abroad(svc, "+966512345199", arrived_at=None)  # type: ignore[arg-type]

    assert send_due(svc, AS_OF)["created"] == 2
    work()

    assert sorted(number for number, _, _ in at_api.sent) == ["+966512345102", "+966512345103"]


def test_check_ins_wait_for_waking_hours_in_the_destination(svc, at_api, work) -> None:
    arrived = AS_OF - timedelta(days=10)
    riyadh = abroad(svc, A, arrived_at=arrived, country="SA")
    new_york = abroad(svc, C, arrived_at=arrived, country="US")

    counts = send_due(svc, AS_OF)  # 12:00 in Riyadh, 04:00 in New York
    assert (counts["created"], counts["outside_hours"]) == (1, 1)
    assert [c.placement_id for c in checkins(svc)] == [riyadh]

    evening = AS_OF + timedelta(hours=8)  # 20:00 in Riyadh, 12:00 in New York
    counts = send_due(svc, evening)
    assert (counts["created"], counts["outside_hours"]) == (1, 0)
    work()

    assert [c.placement_id for c in checkins(svc)] == [riyadh, new_york]
    assert [number for number, _, _ in at_api.sent] == [A, C]


def test_paused_numbers_are_skipped_until_they_start_again(svc, at_api, work) -> None:
    arrived = AS_OF - timedelta(days=8)
    abroad(svc, A, arrived_at=arrived, paused=True)
    abroad(svc, B, arrived_at=arrived)

    counts = send_due(svc, AS_OF)
    assert (counts["created"], counts["paused"]) == (1, 1)

    with svc.db.session() as session:
        from sqlalchemy import update

        from app.models import Contact
        session.execute(update(Contact).where(Contact.phone == A).values(checkins_paused=False))
    assert send_due(svc, AS_OF + timedelta(minutes=15))["created"] == 1
    work()

    assert [number for number, _, _ in at_api.sent] == [B, A]


def test_a_second_run_for_the_same_moment_sends_nothing(svc, at_api, work) -> None:
    for n in range(5):
        abroad(svc, f"+96651234520{n}", arrived_at=AS_OF - timedelta(days=9))

    first = send_due(svc, AS_OF)
    work()
    second = send_due(svc, AS_OF)
    work()

    assert (first["created"], second["created"], second["checked"]) == (5, 0, 0)
    assert count(svc, CheckIn) == count(svc, Message) == 5
    assert count(svc, SmsDialogue) == 0  # a reply opens the dialogue (test_replies.py)
    assert len(at_api.sent) == 5


def test_a_run_already_in_progress_is_not_doubled(svc, at_api) -> None:
    abroad(svc, A, arrived_at=AS_OF - timedelta(days=9))
    svc.redis.set(campaign.LOCK_KEY, "another run", ex=60)

    assert send_due(svc, AS_OF)["locked"] == 1
    assert count(svc, CheckIn) == 0


def test_the_sms_is_one_gsm7_sms_in_the_persons_language(svc, at_api, work) -> None:
    arrived = AS_OF - timedelta(days=8)
    abroad(svc, A, arrived_at=arrived, lang="sw")
    abroad(svc, B, arrived_at=arrived, person_lang="sw")
    abroad(svc, C, arrived_at=arrived, country="AE")

    send_due(svc, AS_OF)
    work()

    by_number = {number: body for number, body, _ in at_api.sent}
    assert by_number[A] == by_number[B] != by_number[C]
    assert by_number[A].startswith(translate("sw", "checkin.ask"))
    assert by_number[C].startswith(translate("en", "checkin.ask"))
    for body in by_number.values():
        assert len(body) <= 160 and is_gsm7(body)
        assert "1 " in body and "2 " in body and "3 " in body
    assert "1 I am fine\n2 I have a problem\n3 I am in danger" in by_number[C]
    assert "1 Niko salama\n2 Nina tatizo\n3 Niko hatarini" in by_number[A]


def test_a_number_in_another_dialogue_waits_for_the_next_run(svc, at_api) -> None:
    abroad(svc, A, arrived_at=AS_OF - timedelta(days=8))
    with svc.db.session() as session:
        session.add(SmsDialogue(phone=A, ref="other", state_enc=b"x", step=0,
                                expires_at=AS_OF + timedelta(hours=1)))

    assert send_due(svc, AS_OF)["created"] == 0
    assert send_due(svc, AS_OF + timedelta(hours=2))["created"] == 1


def test_a_campaign_goes_out_in_batched_rate_limited_bulk_requests(svc, at_api, work) -> None:
    svc.config["CHECKIN_SEND_CONCURRENCY"] = 2
    people = 2000
    numbers = [f"+2547{n:08d}" for n in range(people)]
    arrived = AS_OF - timedelta(days=8)
    with svc.db.session() as session:
        from app.models import Contact, Placement
        session.add_all(Placement(phone=n, country="SA", status="employed", arrived_at=arrived)
                        for n in numbers)
        session.add_all(Contact(phone=n, lang="sw") for n in numbers[::3])

    counts = send_due(svc, AS_OF)
    # 1,333 in English and 667 in Kiswahili: batches of 500 with one body each.
    assert (counts["created"], counts["batches"]) == (people, 5)

    # Five send jobs on bulk, at most two queued or running at once; the others wait.
    assert svc.queues["bulk"].count == 2
    registry = RateLimitRegistry(RATE_LIMIT_KEY, svc.redis)
    assert registry.get_rate_limited_job_count() == 3
    job = Job.fetch(svc.queues["bulk"].job_ids[0], connection=svc.redis)
    assert job.func_name == "workers.sms.send_batch" and job.rate_limit_key == RATE_LIMIT_KEY

    work()

    sent = [number for number, _, _ in at_api.sent]
    assert sorted(sent) == sorted(numbers)  # every recipient exactly once
    requests = at_api.requests
    # One AT request per batch: 5 requests for 2,000 people.
    assert len(requests) == 5 < people
    assert sorted(len(r["to"]) for r in requests) == [167, 333, 500, 500, 500]
    assert all(len({body for number, body, _ in at_api.sent if number in r["to"]}) == 1
               for r in requests)
    assert all(r["bulkSMSMode"] == "1" and r["enqueue"] == "1" for r in requests)
    assert {m.status for m in messages(svc)} == {"sent"}
    assert send_due(svc, AS_OF)["created"] == 0


def test_an_emptied_redis_loses_no_check_in_and_sends_none_twice(svc, at_api, work) -> None:
    svc.config["CHECKIN_PAGE_SIZE"] = 3
    for n in range(7):
        abroad(svc, f"+96651234530{n}", arrived_at=AS_OF - timedelta(days=9))
    send_due(svc, AS_OF)
    svc.redis.flushdb()  # the three batch jobs are gone; the rows are pending in SQL

    assert reconcile(now=datetime.now(UTC))["messages"] == 0  # their jobs may be on the way
    later = datetime.now(UTC) + timedelta(seconds=31)
    assert reconcile(now=later)["messages"] == 3
    assert reconcile(now=later)["messages"] == 0  # the jobs are live (queued or waiting)
    work()

    assert len(at_api.sent) == 7 and len(at_api.requests) == 3
    assert reconcile(now=later)["messages"] == 0


def test_every_path_counts_months_and_writes_rows_as_due_py_does(svc, at_api) -> None:
    """PostgreSQL writes a page on the server, SQLite in Python: same rows, same counts."""
    from app.checkins.due import current_sequence, due_at
    from app.db import aware

    svc.config["SMS_BATCH_SIZE"] = 2
    arrivals = {
        "+966512345601": datetime(2026, 1, 24, 9, 0, tzinfo=UTC),  # first on 31 Jan
        "+966512345602": datetime(2024, 1, 22, 13, 0, tzinfo=UTC),  # through 29 Feb 2024
        "+966512345603": AS_OF - timedelta(days=7),  # due this very moment
        "+966512345604": datetime(2026, 10, 17, 9, 0, 0, 1, tzinfo=UTC),  # a month on + 1 µs
        "+966512345605": datetime(2026, 4, 23, 9, 0, tzinfo=UTC),  # 30 Apr, 30 Oct, 30 Nov
        "+966512345606": datetime(2025, 8, 24, 23, 30, tzinfo=UTC),  # 31 Aug, late evening
    }
    placement_of = {phone: abroad(svc, phone, arrived_at=arrived, lang=lang)
                    for (phone, arrived), lang in zip(arrivals.items(),
                                                      ("sw", None, "sw", "xx", None, None),
                                                      strict=True)}
    shared = abroad(svc, "+966512345601", arrived_at=arrivals["+966512345601"])  # busy number
    done = abroad(svc, "+966512345607", arrived_at=datetime(2026, 9, 1, 8, 0, tzinfo=UTC))
    with svc.db.session() as session:  # its current check-in went out, dated long ago
        session.add(CheckIn(placement_id=done, phone="+966512345607", status="sent",
                            sequence=current_sequence(datetime(2026, 9, 1, 8, 0, tzinfo=UTC),
                                                      AS_OF),
                            due_at=AS_OF - timedelta(days=40)))

    counts = send_due(svc, AS_OF)

    assert {k: counts[k] for k in ("checked", "created", "not_due", "already_sent",
                                   "busy_number", "batches")} == {
        "checked": 8, "created": 6, "not_due": 0, "already_sent": 1, "busy_number": 1,
        "batches": 3}  # two in Kiswahili, four in English: batches of two
    assert checkins(svc, shared) == []
    sent = {c.placement_id: c for c in checkins(svc) if c.placement_id != done}
    with svc.db.Session() as session:
        by_id = {m.id: m for m in session.scalars(select(Message))}
        assert session.scalars(select(SmsDialogue)).all() == []
    batches: dict[int, list[Message]] = {}
    for phone, placement in placement_of.items():
        checkin = sent[placement]
        sequence = current_sequence(arrivals[phone], AS_OF)
        assert (checkin.sequence, aware(checkin.due_at)) == (
            sequence, due_at(arrivals[phone], sequence)), phone
        assert (checkin.phone, checkin.status, aware(checkin.sent_at)) == (phone, "sent", AS_OF)
        message = by_id[checkin.message_id]
        assert (message.to_phone, message.kind, message.queue, message.status,
                message.attempts, message.dedupe_key) == (
            phone, "checkin", "bulk", "pending", 0, f"checkin:{placement}:{sequence}")
        lang = "sw" if phone in ("+966512345601", "+966512345603") else "en"
        assert message.body.startswith(translate(lang, "checkin.ask")), phone
        batches.setdefault(checkin.batch, []).append(message)
    # A batch is named by its first message and holds one body.
    assert sorted(len(b) for b in batches.values()) == [2, 2, 2]
    assert all(batch == min(m.id for m in b) and len({m.body for m in b}) == 1
               for batch, b in batches.items())
    # The send jobs are the batches, languages in order, ids ascending.
    jobs = [Job.fetch(job_id, connection=svc.redis)
            for job_id in [*svc.queues["bulk"].job_ids,
                           *RateLimitRegistry(RATE_LIMIT_KEY, svc.redis)
                           .get_rate_limited_job_ids()]]
    assert sorted(tuple(job.args[0]) for job in jobs) == sorted(
        tuple(sorted(m.id for m in b)) for b in batches.values())
