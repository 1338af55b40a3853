"""``kazi checkins send-due [--as-of]`` and ``kazi checkins mark-missed [--as-of]``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import CheckIn
from tests.checkins.helpers import abroad, checkins, count

AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_send_due_as_of_prints_counts_and_is_idempotent(runner, svc, at_api, work) -> None:
    abroad(svc, "+966512345001", arrived_at=AS_OF - timedelta(days=7))
    abroad(svc, "+12025550103", arrived_at=AS_OF - timedelta(days=7), country="US")

    result = runner.invoke(args=["checkins", "send-due", "--as-of", "2026-11-24T12:00:00+03:00"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "as_of=2026-11-24T09:00:00+00:00" in lines
    assert "created=1" in lines and "outside_hours=1" in lines
    work()
    assert [number for number, _, _ in at_api.sent] == ["+966512345001"]
    again = runner.invoke(args=["checkins", "send-due", "--as-of", "2026-11-24T09:00:00Z"])
    assert "created=0" in again.output.splitlines() and count(svc, CheckIn) == 1


def test_send_due_refuses_a_date_that_is_not_iso(runner, svc) -> None:
    result = runner.invoke(args=["checkins", "send-due", "--as-of", "last tuesday"])
    assert result.exit_code == 2 and "not an ISO date-time" in result.output


def test_mark_missed_as_of(runner, svc, at_api) -> None:
    abroad(svc, "+966512345001", arrived_at=AS_OF - timedelta(days=7))
    runner.invoke(args=["checkins", "send-due", "--as-of", AS_OF.isoformat()])

    result = runner.invoke(args=["checkins", "mark-missed", "--as-of", "2026-12-01T09:00:00Z"])

    assert result.exit_code == 0 and "missed=1" in result.output.splitlines()
    assert checkins(svc)[0].status == "missed"
