"""workers/checkins.py: the jobs the scheduler runs every 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.schedule import SCHEDULE
from tests.checkins.helpers import abroad, checkins
from workers.checkins import mark_missed, send_due

AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_schedule_runs_both_jobs_every_15_minutes_off_the_critical_queue() -> None:
    entries = {e.func: e for e in SCHEDULE}
    for func in ("workers.checkins.send_due", "workers.checkins.mark_missed"):
        assert entries[func].interval == 900 and entries[func].queue == "default"


def test_send_due_runs_as_a_job_and_its_batches_follow(svc, at_api, work) -> None:
    abroad(svc, "+966512345001", arrived_at=AS_OF - timedelta(days=7))
    svc.queues["default"].enqueue(send_due, AS_OF.isoformat())

    assert work() == 2  # send_due, then the batch it deferred
    assert [c.status for c in checkins(svc)] == ["sent"]
    assert [number for number, _, _ in at_api.sent] == ["+966512345001"]


def test_mark_missed_runs_as_a_job(svc, at_api, work) -> None:
    abroad(svc, "+966512345001", arrived_at=AS_OF - timedelta(days=7))
    svc.queues["default"].enqueue(send_due, AS_OF)
    work()
    job = svc.queues["default"].enqueue(mark_missed, (AS_OF + timedelta(days=8)).isoformat())
    work()

    assert job.return_value()["missed"] == 1
    assert [c.status for c in checkins(svc)] == ["missed"]
