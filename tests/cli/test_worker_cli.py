"""``kazi worker`` (a real subprocess), the cron schedule's leader lock and ``kazi reconcile``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import select

from app.models import Contact, Message
from app.schedule import LEADER_KEY, SCHEDULE, TICK, Entry, LeaderLock, Scheduler
from app.sms.outbox import SEND_JOB

ROOT = Path(__file__).resolve().parents[2]
KAZI = [sys.executable, "-c", "from app.cli import main; main()"]
EVERY_MINUTE = Entry("tests.cli.test_worker_cli.tick", "critical", interval=60)
DAILY = Entry("tests.cli.test_worker_cli.tick", "default", cron="0 7 * * *", name="daily-tick")
HANG_GUARD = 300
"""Seconds before a wait for a worker gives up: only ever reached when something is broken."""
GO_KEY = "kazi:test:go"


def probe(phone: str) -> dict:
    """A job that needs the app: it writes through ``workers.services()``."""
    from flask import has_app_context

    from workers import services

    had_app_context = has_app_context()
    svc = services()
    with svc.db.session() as session:
        session.add(Contact(phone=phone, lang="sw"))
    return {"had_app_context": had_app_context, "pid": os.getpid(),
            "database": svc.config["DATABASE_URL"]}


def tick() -> str:
    return "tick"


def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def wait_for_go() -> str:
    """A job that runs until the test pushes to ``GO_KEY``."""
    from rq import get_current_job

    assert get_current_job().connection.blpop([GO_KEY], timeout=HANG_GUARD) is not None
    return "woke"


def worker_env(config: dict) -> dict[str, str]:
    """The environment of a worker on the test database and Redis, with the outbox backend."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AT_", "KAZI_")) and k not in ("CALLBACK_TOKEN",)}
    env.update(DATABASE_URL=config["DATABASE_URL"], REDIS_URL=config["REDIS_URL"],
               PII_KEYS=config["PII_KEYS"], SECRET_KEY=config["SECRET_KEY"],
               PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


def test_burst_worker_runs_a_job_inside_the_app_context(config, svc, tmp_path):
    job = svc.queues["default"].enqueue(probe, "+254700000001")
    done = subprocess.run([*KAZI, "worker", "--burst"], env=worker_env(config), cwd=tmp_path,
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stdout + done.stderr
    job = Job.fetch(job.id, connection=svc.redis)
    assert job.get_status() == JobStatus.FINISHED, job.latest_result()
    result = job.return_value()
    assert result["had_app_context"] is True  # the worker's context, not the env fallback
    assert result["pid"] != os.getpid()
    assert result["database"] == config["DATABASE_URL"]
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.lang).where(Contact.phone == "+254700000001")) == "sw"


def test_burst_worker_takes_queues_in_the_order_given(config, svc, tmp_path):
    bulk = svc.queues["bulk"].enqueue(tick)
    default = svc.queues["default"].enqueue(tick)
    done = subprocess.run([*KAZI, "worker", "--burst", "bulk"], env=worker_env(config),
                          cwd=tmp_path, capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stderr
    assert Job.fetch(bulk.id, connection=svc.redis).get_status() == JobStatus.FINISHED
    assert Job.fetch(default.id, connection=svc.redis).get_status() == JobStatus.QUEUED


def test_bulk_jobs_run_in_the_worker_itself_and_other_jobs_in_a_horse(config, svc, tmp_path):
    bulk = svc.queues["bulk"].enqueue(probe, "+254700000002")
    default = svc.queues["default"].enqueue(probe, "+254700000003")
    proc = subprocess.Popen([*KAZI, "worker", "--burst"], env=worker_env(config), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 0, output
    bulk_result = Job.fetch(bulk.id, connection=svc.redis).return_value()
    default_result = Job.fetch(default.id, connection=svc.redis).return_value()
    assert bulk_result["pid"] == proc.pid  # no horse: the worker ran it
    assert default_result["pid"] not in (proc.pid, os.getpid())  # a forked horse
    assert bulk_result["had_app_context"] is default_result["had_app_context"] is True
    with svc.db.Session() as session:
        assert set(session.scalars(select(Contact.phone))) == {"+254700000002", "+254700000003"}


def test_an_in_process_job_past_its_timeout_fails_and_the_worker_goes_on(app, svc):
    from app.cli.worker import AppWorker

    slow = svc.queues["bulk"].enqueue(sleepy, HANG_GUARD, job_timeout=1)
    after = svc.queues["bulk"].enqueue(tick)
    worker = AppWorker([svc.queues["bulk"]], connection=svc.redis, app=app)
    started = time.monotonic()
    worker.work(burst=True)
    assert time.monotonic() - started < HANG_GUARD  # RQ's SIGALRM cut the job short
    assert slow.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in slow.latest_result().exc_string
    assert after.get_status() == JobStatus.FINISHED
    assert after.return_value() == "tick"


def test_a_stop_command_for_an_in_process_job_never_kills_the_worker(config, svc, tmp_path):
    from rq.command import send_stop_job_command

    job = svc.queues["bulk"].enqueue(wait_for_go)
    # Its own process group: RQ's horse killer, if it ran, would take down that group.
    proc = subprocess.Popen([*KAZI, "worker", "--burst", "bulk"], env=worker_env(config),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, process_group=0)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + HANG_GUARD
        while job.get_status(refresh=True) != JobStatus.STARTED:
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.05)
        send_stop_job_command(svc.redis, job.id)
        # The job runs until the worker has handled the command, so it cannot end first.
        while "no work horse to kill" not in "".join(lines):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the worker never handled the command"
            time.sleep(0.05)
        svc.redis.rpush(GO_KEY, "go")
        proc.wait(HANG_GUARD)
        reader.join(HANG_GUARD)
        output = "".join(lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == 0, output  # not -9: the worker outlived the command
    assert "no work horse to kill" in output
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert job.return_value() == "woke"


def test_worker_refuses_an_unknown_queue(runner):
    result = runner.invoke(args=["worker", "--burst", "urgent"])
    assert result.exit_code == 2
    assert "unknown queue(s) urgent" in result.output


def test_a_stop_signal_while_the_worker_starts_is_honoured_before_any_job(app, svc):
    from app.cli.worker import AppWorker

    job = svc.queues["default"].enqueue(tick)
    before = signal.getsignal(signal.SIGTERM)
    worker = AppWorker([svc.queues["default"]], connection=svc.redis, app=app)
    worker._note_signal(signal.SIGTERM, None)  # as if SIGTERM came before RQ's handlers
    assert worker.work(burst=True, with_scheduler=True) is False
    assert job.get_status() == JobStatus.QUEUED
    assert signal.getsignal(signal.SIGTERM) is before  # our handlers did not leak out


def test_a_stop_whose_raise_was_swallowed_still_stops_the_worker_before_any_job(app, svc):
    from rq.exceptions import StopRequested

    from app.cli.worker import AppWorker

    job = svc.queues["default"].enqueue(tick)
    worker = AppWorker([svc.queues["default"]], connection=svc.redis, app=app)
    try:
        worker.request_stop(signal.SIGTERM, None)  # RQ's handler: raises StopRequested
    except StopRequested:
        pass  # what a broad ``except Exception`` on the main thread's way would do
    # Not burst: without the stop it would run the job, then idle for a second.
    assert worker.work(burst=False, max_idle_time=1) is False
    assert job.get_status() == JobStatus.QUEUED


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_child_forked_while_the_worker_starts_still_stops_on_a_signal(app, svc, signum):
    """RQ forks its scheduler before installing its handlers, while the worker's early-stop
    handler is in: a stop sent to that child before its own handlers are in must end it,
    or the stopping worker waits on it for ever."""
    from app.cli.worker import AppWorker

    worker = AppWorker([svc.queues["default"]], connection=svc.redis, app=app)
    previous = signal.signal(signum, worker._note_signal)
    ready_r, ready_w = os.pipe()
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - the child: it exits 0 only if the signal is lost
            os.write(ready_w, b"!")  # running Python (a signal in fork() itself is dropped)
            time.sleep(HANG_GUARD)
            os._exit(0)
        assert os.read(ready_r, 1) == b"!"
        os.kill(child, signum)
        _pid, status = os.waitpid(child, 0)
    finally:
        signal.signal(signum, previous)
        os.close(ready_r)
        os.close(ready_w)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signum
    assert worker._early_signal is None  # the worker's own note is untouched


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def start_leading_worker(config: dict, svc, cwd: Path) -> subprocess.Popen:
    """Start ``kazi worker`` in its own process group; return once its cron leads."""
    proc = subprocess.Popen([*KAZI, "worker"], env=worker_env(config), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            process_group=0)
    deadline = time.monotonic() + HANG_GUARD
    while svc.redis.get(LEADER_KEY) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate(timeout=HANG_GUARD)
            raise AssertionError(f"the cron scheduler never took the leader key:\n{output}")
        time.sleep(0.1)
    return proc


@pytest.mark.parametrize("how", ["sigterm-to-worker", "sigint-to-group"])
def test_worker_runs_the_cron_scheduler_and_stops_with_it(config, svc, tmp_path, how):
    proc = start_leading_worker(config, svc, tmp_path)
    try:
        holder = svc.redis.get(LEADER_KEY).decode()
        assert holder.split(":")[1] != str(proc.pid)  # a child process leads, not the worker
        if how == "sigterm-to-worker":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
        output, _ = proc.communicate(timeout=HANG_GUARD)
        assert proc.returncode == 0, output
        assert "leads" in output and "shutdown complete" in output
        deadline = time.monotonic() + HANG_GUARD
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(proc.pid), "the cron or RQ scheduler child outlived the worker"
        assert svc.redis.get(LEADER_KEY) is None  # handed on at once, not left to expire
    finally:
        if proc.poll() is None or _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(HANG_GUARD)
        proc.stdout.close()  # else a failure here warns of an unclosed file in a later test


def test_the_schedule_runs_reconcile_every_minute_on_critical():
    entry = next(e for e in SCHEDULE if e.func == "workers.reconcile.reconcile")
    assert (entry.queue, entry.interval) == ("critical", 60)


def test_only_the_leader_enqueues(svc):
    first = Scheduler(svc.redis, (EVERY_MINUTE,))
    second = Scheduler(svc.redis, (EVERY_MINUTE,))
    assert [job.name for job in first.enqueue_jobs()] == [EVERY_MINUTE.key]
    assert second.enqueue_jobs() == []
    assert first.enqueue_jobs() == []  # not due again for 60 s
    assert (first.leading, second.leading) == (True, False)
    assert svc.queues["critical"].count == 1
    assert svc.redis.get(LEADER_KEY).decode() == first.lock.token


def test_the_leader_renews_its_key_and_a_standby_cannot_release_it(svc):
    leader = LeaderLock(svc.redis, ttl=90)
    standby = LeaderLock(svc.redis, ttl=90)
    assert leader.hold() and not standby.hold()
    svc.redis.expire(LEADER_KEY, 5)
    assert leader.hold()
    assert svc.redis.ttl(LEADER_KEY) > 80
    assert standby.release() is False
    assert svc.redis.get(LEADER_KEY).decode() == leader.token


def test_a_standby_takes_over_when_the_leader_dies_without_running_early(svc):
    leader = Scheduler(svc.redis, (EVERY_MINUTE,), lock=LeaderLock(svc.redis, ttl=1))
    standby = Scheduler(svc.redis, (EVERY_MINUTE,))
    assert len(leader.enqueue_jobs()) == 1
    assert standby.enqueue_jobs() == []
    while svc.redis.exists(LEADER_KEY):  # the leader stopped renewing: its key expires
        time.sleep(0.05)
    # The standby leads now, but the job ran under a second ago: not again yet.
    assert standby.enqueue_jobs() == []
    assert standby.leading is True
    assert svc.redis.get(LEADER_KEY).decode() == standby.lock.token
    assert leader.enqueue_jobs() == [] and leader.leading is False
    assert svc.queues["critical"].count == 1


def test_a_new_leader_runs_a_job_that_is_overdue(svc):
    leader = Scheduler(svc.redis, (EVERY_MINUTE,))
    assert len(leader.enqueue_jobs()) == 1
    leader.lock.release()
    # As if the job last ran two minutes ago.
    svc.redis.zadd("rq:cron_jobs", {EVERY_MINUTE.key: time.time() - 120})
    successor = Scheduler(svc.redis, (EVERY_MINUTE,))
    assert [job.name for job in successor.enqueue_jobs()] == [EVERY_MINUTE.key]
    assert svc.queues["critical"].count == 2


def test_a_new_leader_does_not_rerun_a_daily_job_the_old_leader_ran(svc):
    svc.redis.zadd("rq:cron_jobs", {DAILY.key: time.time() - 1})  # it just ran elsewhere
    successor = Scheduler(svc.redis, (DAILY,))
    [job] = successor.get_jobs()
    job.next_enqueue_time = datetime.now(UTC) - timedelta(minutes=5)  # stale, as on a standby
    assert successor.enqueue_jobs() == []
    assert job.next_enqueue_time > datetime.now(UTC)
    assert svc.queues["default"].count == 0


def test_a_new_leader_runs_a_daily_job_the_old_leader_missed(svc):
    svc.redis.zadd("rq:cron_jobs", {DAILY.key: time.time() - 2 * 86400})
    successor = Scheduler(svc.redis, (DAILY,))
    assert [job.name for job in successor.enqueue_jobs()] == [DAILY.key]
    assert svc.queues["default"].count == 1


def test_a_standby_sleeps_even_when_its_own_due_times_have_passed(svc):
    assert LeaderLock(svc.redis).hold()  # someone else leads
    standby = Scheduler(svc.redis, (DAILY, EVERY_MINUTE))
    for job in standby.get_jobs():
        job.next_enqueue_time = datetime.now(UTC) - timedelta(hours=1)
    assert standby.enqueue_jobs() == []
    assert standby.calculate_sleep_interval() == TICK


def test_an_entry_that_does_not_import_is_skipped_not_fatal(svc):
    scheduler = Scheduler(svc.redis, (Entry("workers.nowhere.nothing", "default", interval=60),
                                      EVERY_MINUTE))
    assert [job.name for job in scheduler.get_jobs()] == [EVERY_MINUTE.key]


def test_reconcile_command_requeues_a_pending_message(runner, svc):
    with svc.db.session() as session:
        message = Message(to_phone="+254712345678", body="hello", kind="test", queue="default",
                          dedupe_key="test:reconcile", status="pending", attempts=0)
        session.add(message)
    assert svc.queues["default"].count == 0  # written straight to SQL: no job yet
    result = runner.invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output
    assert "messages=1" in result.output.splitlines()
    jobs = svc.queues["default"].jobs
    assert [(job.func_name, job.args) for job in jobs] == [(SEND_JOB, (message.id,))]
