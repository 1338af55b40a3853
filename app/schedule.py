"""The schedule: recurring jobs, enqueued by RQ's cron from exactly one leader.

A job is named by its dotted path (``workers.reconcile.reconcile``) and resolved
the way RQ resolves it, so the app never imports ``workers/`` itself.

Every ``kazi worker`` runs a cron scheduler in a child process, so the schedule
survives any one host. Only the holder of ``kazi:cron:leader`` enqueues; the
others stand by and take over when the leader's key expires (it dies) or is
released (it stops). Taking over picks up each job's last enqueue time from
RQ's cron registry, so a daily job does not run again just because the leader
changed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronJob, CronScheduler
from rq.cron_job_registry import get_registry_key

from app.redis_conn import connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One recurring job: the function to run, its queue, and how often."""

    func: str
    """Dotted path of the job function, e.g. ``workers.reconcile.reconcile``."""
    queue: str
    """RQ queue: ``critical``, ``default`` or ``bulk``."""
    interval: int | None = None
    """Seconds between runs (give this or ``cron``)."""
    cron: str | None = None
    """A crontab line in the host's local time (give this or ``interval``)."""
    timeout: int = 300
    """Seconds one run may take before RQ stops it."""
    name: str = ""
    """Distinct name when one function is scheduled twice; defaults to ``func``."""

    @property
    def key(self) -> str:
        """The name RQ's cron registry keeps this entry's last run under."""
        return self.name or self.func

    @property
    def ttl(self) -> int | None:
        """Drop a run still queued when the next is due, so a busy queue does not pile up."""
        return self.interval


SCHEDULE: tuple[Entry, ...] = (
    Entry("workers.reconcile.reconcile", "critical", interval=60, timeout=120),
    # Every minute: any case whose escalation clock ran out goes up a level.
    Entry("workers.escalation.escalate_due", "critical", interval=60, timeout=120),
    # Daily, in the morning (host time), so the warnings reach people awake.
    Entry("workers.licences.licence_watch", "default", cron="0 7 * * *", timeout=1800),
    # Every 15 min, so each destination's waking window (08:00-20:00 local) is met early.
    Entry("workers.checkins.send_due", "default", interval=900, timeout=1800),
    Entry("workers.checkins.mark_missed", "default", interval=900, timeout=600),
    # Nightly (host time): a permit that expired yesterday makes its holder irregular today.
    Entry("workers.irregular.recompute_irregular", "default", cron="30 0 * * *", timeout=1800),
    Entry("workers.irregular.rewarn_police_alerts", "default", interval=600, timeout=300),
)
"""Every recurring job; a feature adds its line here."""

LEADER_KEY = "kazi:cron:leader"
"""Redis key held (``SET NX EX``) by the one cron scheduler allowed to enqueue."""

LEADER_TTL = 90
"""Seconds the leader key lives unless renewed: how soon a standby replaces a dead leader."""

TICK = 15
"""Longest sleep between scheduler loops; the leader renews its key at least this often."""

_HOLD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaderLock:
    """A Redis key that one holder at a time owns, renewed while it lives."""

    def __init__(self, connection: Redis, key: str = LEADER_KEY, ttl: int = LEADER_TTL,
                 token: str | None = None) -> None:
        self.connection = connection
        self.key = key
        self.ttl = ttl
        self.token = token or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._hold = connection.register_script(_HOLD)
        self._release = connection.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take the key if it is free or renew it if it is ours; False if another holds it."""
        return bool(self._hold(keys=[self.key], args=[self.token, self.ttl]))

    def release(self) -> bool:
        """Give the key up now (only if still ours), so a standby need not wait for expiry."""
        return bool(self._release(keys=[self.key], args=[self.token]))


class Scheduler(CronScheduler):
    """RQ's cron scheduler that enqueues only while it holds the leader key."""

    def __init__(self, connection: Redis, schedule: tuple[Entry, ...] = SCHEDULE,
                 lock: LeaderLock | None = None, **kwargs) -> None:
        super().__init__(connection, **kwargs)
        self.lock = lock or LeaderLock(connection)
        self.leading: bool | None = None  # None until the first loop decides
        for entry in schedule:
            self.add(entry)

    def add(self, entry: Entry) -> CronJob | None:
        """Register one schedule entry; an entry whose function will not import is skipped."""
        module, _, attr = entry.func.rpartition(".")
        try:
            func = getattr(importlib.import_module(module), attr)
        except Exception as exc:  # noqa: BLE001 - one broken entry must not stop the others
            self.log.error("schedule: cannot import %s (%s); skipped", entry.func, exc)
            return None
        return self.register(func, entry.queue, interval=entry.interval, cron=entry.cron,
                             job_timeout=entry.timeout, ttl=entry.ttl, name=entry.key)

    def enqueue_jobs(self) -> list[CronJob]:
        """Enqueue the jobs that are due, if this scheduler leads."""
        try:
            leading = self.lock.hold()
        except RedisError as exc:
            self.log.warning("schedule: Redis unavailable (%s); not enqueuing", type(exc).__name__)
            leading = False
        if leading and not self.leading:
            self.catch_up()
            self.log.info("schedule: %s leads; %d job(s)", self.name, len(self.get_jobs()))
        elif not leading and self.leading is not False:
            self.log.info("schedule: another scheduler leads; %s stands by", self.name)
        self.leading = leading
        if not leading:
            return []
        try:
            return super().enqueue_jobs()
        except RedisError as exc:
            self.log.warning("schedule: enqueue failed (%s)", type(exc).__name__)
            return []

    def catch_up(self) -> None:
        """Take each job's last enqueue time from Redis, wherever it ran.

        A job that ran under the previous leader is then due only after that run,
        and one the previous leader missed is due at once.
        """
        for job in self.get_jobs():
            score = self.connection.zscore(get_registry_key(), job.name)
            if score is None:
                continue
            last = datetime.fromtimestamp(score, UTC)
            if job.latest_enqueue_time is None or last > job.latest_enqueue_time:
                job.set_enqueue_time(last)

    def calculate_sleep_interval(self) -> float:
        """Sleep until the next job is due, but never longer than ``TICK``."""
        if not self.leading:
            return TICK  # a standby's own due times are stale: they would never let it sleep
        return min(super().calculate_sleep_interval(), TICK)

    def heartbeat(self) -> None:
        """Tell RQ this scheduler lives; a Redis outage is waited out, not fatal."""
        try:
            super().heartbeat()
        except RedisError as exc:
            self.log.warning("schedule: heartbeat failed (%s)", type(exc).__name__)

    def start(self) -> None:
        """Run until SIGINT or SIGTERM, then hand leadership on at once."""
        try:
            super().start()
        finally:
            # Best effort: if Redis is gone the key simply expires.
            with contextlib.suppress(Exception):
                self.lock.release()


def run(redis_url: str, schedule: tuple[Entry, ...] = SCHEDULE) -> None:
    """Run a cron scheduler until stopped; it installs signal handlers, so give it a process."""
    # Until the scheduler installs its own handlers, a stop signal simply ends this
    # process (not the handlers a forking parent left behind).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with connect(redis_url) as connection:
        Scheduler(connection, schedule).start()

