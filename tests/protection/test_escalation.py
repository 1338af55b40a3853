"""Escalation: duty officers, then supervisors, then headquarters, each on the clock.

Clocks are short (``critical=2,high=4,normal=6`` seconds) and time moves by
``escalate_due(as_of=...)``, not by sleeping (one test checks the real timer).
"""

from __future__ import annotations

import time
from datetime import timedelta

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.db import aware, utcnow
from app.models import Case, Officer
from app.protection.escalation import ESCALATE_JOB
from tests.protection.conftest import (
    HQ_DUTY,
    HQ_SUPERVISOR,
    JED_DUTY,
    RUH_DUTY,
    RUH_SUPERVISOR,
    escalations,
    events,
    only_case,
    received,
    sms,
)
from workers.escalation import escalate_case, escalate_due
from workers.reconcile import reconcile

SAUDI = "+966512345678"
EVERYONE = (*RUH_DUTY, JED_DUTY, RUH_SUPERVISOR, HQ_DUTY, HQ_SUPERVISOR)


def later(seconds: float):
    return utcnow() + timedelta(seconds=seconds)


def counts(at_api) -> dict[str, int]:
    return {number: len(received(at_api, number)) for number in EVERYONE}


def test_a_critical_case_climbs_every_level_on_its_clock(client, svc, work, at_api,
                                                         roster) -> None:
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    opened = aware(case.opened_at)
    assert aware(case.next_escalation_at) - opened == timedelta(seconds=2)
    assert counts(at_api) == {RUH_DUTY[0]: 1, RUH_DUTY[1]: 1, JED_DUTY: 1, RUH_SUPERVISOR: 0,
                              HQ_DUTY: 0, HQ_SUPERVISOR: 0}

    assert escalate_due(as_of=opened + timedelta(seconds=1.9)) == {}  # not yet
    assert escalate_due(as_of=opened + timedelta(seconds=2)) == {"escalated": 1}
    work()
    [supervisor] = received(at_api, RUH_SUPERVISOR)
    assert supervisor.startswith(f"ESCALATED L1, no ACK in 2s: {case.ref} CRITICAL")
    assert only_case(svc).escalation_level == 1

    assert escalate_due(as_of=opened + timedelta(seconds=4)) == {"escalated": 1}
    work()
    for number in (HQ_DUTY, HQ_SUPERVISOR):
        [alert] = received(at_api, number)
        assert alert.startswith(f"ESCALATED L2, no ACK in 2s: {case.ref}")

    assert escalate_due(as_of=opened + timedelta(seconds=6)) == {"exhausted": 1}
    assert escalate_due(as_of=opened + timedelta(seconds=60)) == {}
    work()
    assert counts(at_api) == dict.fromkeys(EVERYONE, 1)  # one SMS per officer per level
    assert escalations(svc, case.id) == [(0, "KE-RUH", "expired", 3), (1, "KE-RUH", "expired", 1),
                                         (2, "HQ", "expired", 2)]
    assert events(svc, case.id) == ["opened", "alerted", "escalated", "escalated",
                                    "sla_breached"]
    assert only_case(svc).next_escalation_at is None


def test_escalating_twice_or_from_both_timer_and_schedule_sends_once(client, svc, work,
                                                                     at_api, roster) -> None:
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    due = aware(case.next_escalation_at)

    assert escalate_due(as_of=due) == {"escalated": 1}
    assert escalate_due(as_of=due) == {}               # the minute job again
    assert escalate_case(case.id, as_of=due) == "not_due"  # the level-0 timer, late
    work()
    assert len(received(at_api, RUH_SUPERVISOR)) == 1
    assert only_case(svc).escalation_level == 1


def test_the_clock_follows_the_severity(client, svc, work, at_api, roster) -> None:
    sms(client, "HELP", SAUDI)  # high: 4 s per level
    work()
    case = only_case(svc)
    opened = aware(case.opened_at)
    assert escalate_due(as_of=opened + timedelta(seconds=3)) == {}
    assert escalate_due(as_of=opened + timedelta(seconds=4)) == {"escalated": 1}
    assert aware(only_case(svc).next_escalation_at) == opened + timedelta(seconds=8)


def test_raising_the_severity_shortens_the_running_clock(client, svc, work, at_api,
                                                         roster) -> None:
    sms(client, "HELP", SAUDI)
    work()
    opened = aware(only_case(svc).opened_at)
    sms(client, "HELP they beat me", SAUDI)  # merged; now critical
    work()
    assert aware(only_case(svc).next_escalation_at) == opened + timedelta(seconds=2)


def test_the_timer_fires_at_the_due_time(client, svc, work, at_api, roster) -> None:
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    registry = ScheduledJobRegistry(queue=svc.queues["critical"])
    [job_id] = [j for j in registry.get_job_ids() if j.startswith("esc-due-")]
    job = svc.queues["critical"].fetch_job(job_id)
    assert (job.func_name, job.args) == (ESCALATE_JOB, (case.id,))
    scheduled = registry.get_scheduled_time(job_id)
    assert abs((scheduled - aware(case.next_escalation_at)).total_seconds()) <= 1

    time.sleep(max((aware(case.next_escalation_at) - utcnow()).total_seconds(), 0) + 0.1)
    work(scheduled=True)  # the RQ scheduler moving the due timer in
    assert only_case(svc).escalation_level == 1
    assert len(received(at_api, RUH_SUPERVISOR)) == 1


def test_a_level_with_nobody_on_duty_is_skipped_at_once(client, runner, svc, work, at_api,
                                                        roster) -> None:
    for number in (*RUH_DUTY, JED_DUTY):
        result = runner.invoke(args=["officers", "duty", number, "off"])
        assert result.exit_code == 0, result.output
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    assert escalations(svc, case.id) == [(0, "KE-RUH", "skipped", 0),
                                         (1, "KE-RUH", "notified", 1)]
    [alert] = received(at_api, RUH_SUPERVISOR)
    assert alert.startswith(f"SOS {case.ref} CRITICAL:")  # the first alert, not an escalation
    assert received(at_api, RUH_DUTY[0]) == []
    assert events(svc, case.id) == ["opened", "skipped", "escalated"]


def test_headquarters_off_duty_is_still_told_at_the_last_level(client, svc, work, at_api,
                                                               roster) -> None:
    with svc.db.session() as session:
        for officer in session.scalars(select(Officer)):
            officer.on_duty = False
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    assert escalations(svc, case.id)[-1] == (2, "HQ", "notified", 2)
    assert len(received(at_api, HQ_DUTY)) == 1 and len(received(at_api, HQ_SUPERVISOR)) == 1


def test_with_no_officer_anywhere_the_case_waits_unrouted_and_retries(client, runner, svc,
                                                                      work, at_api) -> None:
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    assert escalations(svc, case.id) == [(0, "KE-RUH", "skipped", 0),
                                         (1, "KE-RUH", "skipped", 0), (2, "HQ", "unrouted", 0)]
    assert "unrouted" in events(svc, case.id)
    assert at_api.sent and all(number == SAUDI for number, _, _ in at_api.sent)

    result = runner.invoke(args=["officers", "add", "--name", "Esther Desk", "--phone",
                                 HQ_DUTY, "--country", "KE"])
    assert result.exit_code == 0, result.output
    assert escalate_due(as_of=later(3)) == {"retried": 1}
    work()
    assert len(received(at_api, HQ_DUTY)) == 1
    assert escalations(svc, case.id)[-1] == (2, "HQ", "notified", 1)


def test_an_acknowledged_case_stops_climbing(client, svc, work, at_api, roster) -> None:
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    sms(client, f"ACK {case.ref}", RUH_DUTY[1])
    work()
    assert escalate_due(as_of=later(60)) == {}
    work()
    assert counts(at_api)[RUH_SUPERVISOR] == 0 and counts(at_api)[HQ_DUTY] == 0
    assert escalations(svc, case.id) == [(0, "KE-RUH", "acked", 3)]


def test_the_reconciler_restores_a_lost_timer(client, svc, work, at_api, roster) -> None:
    sms(client, "SOS", SAUDI)
    work()
    case = only_case(svc)
    svc.redis.flushdb()  # the scheduled timer is gone

    assert reconcile()["escalations"] == 1
    # Scheduled for the clock's due time; queued at once if the test's 2-s clock has
    # already run out (a slow machine), as the reconciler does for an overdue clock.
    critical = svc.queues["critical"]
    restored = [*ScheduledJobRegistry(queue=critical).get_job_ids(), *critical.job_ids]
    assert any(j.startswith(f"esc-due-{case.id}-0-") for j in restored)
    assert reconcile()["escalations"] == 0  # live: left alone

    # Overdue when the reconciler runs: enqueued to run now, not later.
    svc.redis.flushdb()
    assert reconcile(now=later(5))["escalations"] == 1
    assert [job.func_name for job in svc.queues["critical"].jobs] == [ESCALATE_JOB]


def test_the_escalate_due_schedule_entry_runs_every_minute_on_critical() -> None:
    from app.schedule import SCHEDULE

    entry = next(e for e in SCHEDULE if e.func == "workers.escalation.escalate_due")
    assert (entry.queue, entry.interval) == ("critical", 60)


def test_escalate_due_takes_an_iso_time_and_skips_closed_cases(client, svc, work,
                                                               roster) -> None:
    sms(client, "SOS", SAUDI)
    work()
    with svc.db.session() as session:
        session.scalar(select(Case)).status = "closed"
    assert escalate_due(as_of=later(30).isoformat()) == {}
    assert escalate_case(only_case(svc).id, as_of=later(30)) == "not_open"
    assert escalate_case(999999) == "gone"
