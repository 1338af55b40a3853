"""Chaos: a worker SIGKILLed mid-escalation, Redis emptied after the callback answered,
AT failing for a while. Each ends with exactly one officer SMS per escalation level.

The killed worker is a real ``kazi worker --burst`` process (its own database and
Redis connections, the real AT SDK to the local AT server), killed with its work
horse by SIGKILL while AT holds its request open. Recovery is what production
does: RQ's maintenance notices the dead job, the reconciler puts the message that
was being sent back to pending and re-enqueues it, and a fresh worker sends it.

Clocks are long here (10 min for critical) so no real timer fires during a test;
escalation is driven with ``as_of``. Nothing here races the wall clock: the send
in flight is held open until the worker is dead, and every wait is for a condition,
capped only by ``HANG_GUARD`` so a broken run still ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from app.db import aware, utcnow
from app.models import InboundSms, Message
from app.protection.escalation import ESCALATE_JOB
from app.sms.inbound import GRACE as INBOUND_GRACE
from app.sms.outbox import STUCK_AFTER
from tests.protection.conftest import (
    HQ_DUTY,
    HQ_SUPERVISOR,
    JED_DUTY,
    RUH_DUTY,
    RUH_SUPERVISOR,
    only_case,
    received,
    sms,
)
from workers.escalation import escalate_due
from workers.inbound import handle_inbound
from workers.reconcile import reconcile

ROOT = Path(__file__).resolve().parents[2]
KAZI = [sys.executable, "-c", "from app.cli import main; main()"]
SAUDI = "+966512345678"
LEVEL0 = (*RUH_DUTY, JED_DUTY)
LEVEL1 = (RUH_SUPERVISOR,)
LEVEL2 = (HQ_DUTY, HQ_SUPERVISOR)
CHAOS_SLA = "critical=600,high=1200,normal=1800"
HANG_GUARD = 300
"""Seconds before a wait gives up: only ever reached when something is broken."""


@pytest.fixture
def config(config: dict) -> dict:
    return {**config, "ESCALATION_SLA_SECONDS": CHAOS_SLA}


def worker_env(config: dict, at_url: str) -> dict[str, str]:
    """A worker on the test database and Redis, sending through the local AT server."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AT_", "KAZI_", "ESCALATION_")) and k != "CALLBACK_TOKEN"}
    env.update(DATABASE_URL=config["DATABASE_URL"], REDIS_URL=config["REDIS_URL"],
               PII_KEYS=config["PII_KEYS"], SECRET_KEY=config["SECRET_KEY"],
               AT_USERNAME=config["AT_USERNAME"], AT_API_KEY=config["AT_API_KEY"],
               AT_API_URL=at_url, ESCALATION_SLA_SECONDS=CHAOS_SLA,
               USSD_SERVICE_CODE=config["USSD_SERVICE_CODE"], PYTHONPATH=str(ROOT),
               PYTHONUNBUFFERED="1")
    return env


def children(pid: int) -> list[int]:
    """Give the processes whose parent is ``pid`` (read from ``/proc``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_worker(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse, and wait until both are gone.

    RQ puts the horse in a session of its own (``os.setsid``), so killing the
    worker's process group alone would leave the horse finishing its send and
    writing its retry into Redis after this test, into the next test's data.
    """
    horses = children(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in horses:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(HANG_GUARD)
    deadline = time.monotonic() + HANG_GUARD
    while any(alive(pid) for pid in horses):
        assert time.monotonic() < deadline, f"work horse(s) {horses} outlived SIGKILL"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Tell whether ``pid`` still runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_mid_send(config: dict, at_api, cwd: Path) -> None:
    """Run a real worker until AT holds one of its sends open, then SIGKILL it."""
    seen = len(at_api.requests)
    at_api.hold()  # the request in flight gets no answer and never reaches a phone
    proc = subprocess.Popen([*KAZI, "worker", "--burst"], env=worker_env(config, at_api.url),
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            process_group=0)
    try:
        at_api.wait_for(lambda: len(at_api.requests) > seen or proc.poll() is not None,
                        timeout=HANG_GUARD)
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        kill_worker(proc)
    finally:
        if proc.poll() is None:
            kill_worker(proc)
        proc.stdout.close()
        at_api.release()
    assert proc.returncode == -signal.SIGKILL


def recover(svc, config: dict, at_api, cwd: Path, work) -> dict[str, int]:
    """What production does after a dead worker: RQ maintenance, reconcile, a new worker."""
    for queue in svc.queues.values():  # as RQ does once the dead job's lease has expired
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    counts = reconcile(now=utcnow() + STUCK_AFTER + timedelta(seconds=1))
    done = subprocess.run([*KAZI, "worker", "--burst"], env=worker_env(config, at_api.url),
                          cwd=cwd, capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    work(scheduled=True)  # anything RQ had put off for a later retry
    return counts


def officer_sms(at_api) -> dict[str, int]:
    return {n: len(received(at_api, n)) for n in (*LEVEL0, *LEVEL1, *LEVEL2)}


def test_a_worker_killed_mid_escalation_sends_one_sms_per_officer_per_level(
        client, svc, work, at_api, roster, config, tmp_path) -> None:
    sms(client, "SOS madam beats me", SAUDI)  # 200: stored; the job waits on critical

    # Level 0: the worker handles the SMS (case + alerts committed), dies sending.
    kill_mid_send(config, at_api, tmp_path)
    case = only_case(svc)
    assert at_api.sent == []
    with svc.db.Session() as session:
        assert session.scalar(select(Message.status).where(Message.status == "sending"))
    counts = recover(svc, config, at_api, tmp_path, work)
    assert counts["stuck_reset"] == 1
    assert officer_sms(at_api) == {**dict.fromkeys(LEVEL0, 1), **dict.fromkeys(LEVEL1, 0),
                                   **dict.fromkeys(LEVEL2, 0)}

    # Level 1: the escalation job itself runs in a worker that dies sending.
    due = aware(only_case(svc).next_escalation_at)
    svc.queues["critical"].enqueue(ESCALATE_JOB, case.id, due.isoformat())
    kill_mid_send(config, at_api, tmp_path)
    assert only_case(svc).escalation_level == 1
    recover(svc, config, at_api, tmp_path, work)
    assert officer_sms(at_api)[RUH_SUPERVISOR] == 1

    # Level 2, then every job run once more: still one each.
    assert escalate_due(as_of=aware(only_case(svc).next_escalation_at)) == {"escalated": 1}
    work()
    recover(svc, config, at_api, tmp_path, work)
    assert officer_sms(at_api) == dict.fromkeys((*LEVEL0, *LEVEL1, *LEVEL2), 1)
    assert len(received(at_api, SAUDI)) == 1  # the receipt, once
    failed_in_flight = len(at_api.requests) - len(at_api.sent)
    assert failed_in_flight == 2  # the two requests the killed workers had open


def test_redis_emptied_after_the_callback_answered_loses_nothing(client, svc, work, at_api,
                                                                  roster) -> None:
    sms(client, "SOS", SAUDI)
    svc.redis.flushdb()  # FLUSHDB on our db (FLUSHALL would hit other tenants' dbs)
    assert work() == 0
    assert reconcile()["inbound"] == 0  # within its grace period a job may still be coming
    assert reconcile(now=utcnow() + INBOUND_GRACE + timedelta(seconds=1))["inbound"] == 1
    work()

    case = only_case(svc)
    assert officer_sms(at_api) == {**dict.fromkeys(LEVEL0, 1), **dict.fromkeys(LEVEL1, 0),
                                   **dict.fromkeys(LEVEL2, 0)}
    again = reconcile(now=utcnow() + INBOUND_GRACE * 2)
    assert (again["messages"], again["inbound"], again["escalations"]) == (0, 0, 0)
    work(scheduled=True)
    assert officer_sms(at_api)[RUH_DUTY[0]] == 1
    assert case.status == "open"


def test_redis_emptied_between_the_case_and_its_sms_loses_nothing(client, svc, work, at_api,
                                                                  roster) -> None:
    sms(client, "SOS", SAUDI)
    with svc.db.Session() as session:
        inbound_id = session.scalar(select(InboundSms.id))
    handle_inbound(inbound_id)  # the case, alerts and timer committed and enqueued
    svc.redis.flushdb()         # ... then Redis loses them all

    counts = reconcile()
    # Three alerts, the receipt and the dialogue's question; and the escalation timer.
    assert (counts["messages"], counts["escalations"]) == (5, 1)
    work()
    assert officer_sms(at_api) == {**dict.fromkeys(LEVEL0, 1), **dict.fromkeys(LEVEL1, 0),
                                   **dict.fromkeys(LEVEL2, 0)}

    # Lost again before the clock ran out: the timer comes back and escalates once.
    svc.redis.flushdb()
    due = aware(only_case(svc).next_escalation_at)
    assert reconcile()["escalations"] == 1
    assert escalate_due(as_of=due) == {"escalated": 1}
    svc.redis.flushdb()
    assert reconcile()["messages"] == 1
    work()
    assert escalate_due(as_of=due) == {}
    work()
    assert officer_sms(at_api)[RUH_SUPERVISOR] == 1
    assert sum(officer_sms(at_api).values()) == 4


def test_an_at_outage_is_retried_until_each_officer_has_one_sms(client, svc, work, at_api,
                                                                roster) -> None:
    at_api.fail_next(6, 500)  # AT down for the first six requests
    sms(client, "SOS they beat me", SAUDI)
    work()
    with svc.db.Session() as session:
        pending = session.scalars(select(Message)).all()
    # Three alerts and the receipt, each tried once and waiting for its retry.
    assert [(m.kind, m.status, m.attempts) for m in pending] == [
        *[("officer_alert", "pending", 1)] * 3, ("case_received", "pending", 1)]
    assert at_api.sent == []

    def statuses() -> list[str]:
        with svc.db.Session() as session:
            return list(session.scalars(select(Message.status)))

    rounds = 0
    while set(statuses()) != {"sent"} and rounds < 6:
        rounds += 1
        work(scheduled=True)  # RQ's retry, when it scheduled one
        reconcile(now=utcnow() + timedelta(hours=1))  # or the reconciler, after the backoff
        work()
    assert rounds == 2  # 4 fail, then 2 fail and 2 go, then the last 2 go
    assert officer_sms(at_api) == {**dict.fromkeys(LEVEL0, 1), **dict.fromkeys(LEVEL1, 0),
                                   **dict.fromkeys(LEVEL2, 0)}
    assert len(received(at_api, SAUDI)) == 1
    assert len(at_api.requests) == 4 + 6
