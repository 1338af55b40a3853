"""The clients the app and workers share, built once from configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus

from app.crypto import PiiCipher
from app.db import Database
from app.i18n import LANGUAGES, keys
from app.jobs import Job
from app.redis_conn import connect
from app.sms.backends import SmsBackend, backend_from_config
from menus import build_flow
from menus.engine import Flow

QUEUES = ("critical", "default", "bulk")
"""RQ queues in priority order: distress first, campaigns last."""

LIVE = {
    JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED,
    JobStatus.RATE_LIMITED,
}
"""Job states in which the work will still happen without help."""

ENQUEUE_ATTEMPTS = 2
"""Tries per deferred job: a second try covers one timed-out Redis round trip."""


def checked_flow(max_chars: int, locales: Mapping[str, set[str]] | None = None) -> Flow:
    """Build the journeys and refuse to serve them if they are broken.

    A dangling transition, an unreachable screen or a text missing from a locale
    (``locales``: each language's text ids, by default the shipped catalogs) stops
    the app or worker from starting, with the list ``kazi menus check`` would print,
    rather than showing a phone a broken screen.
    """
    flow = build_flow(max_chars)
    if locales is None:
        locales = {lang: keys(lang) for lang in LANGUAGES}
    problems = flow.problems(locales)
    if problems:
        raise RuntimeError("the USSD/SMS journeys are broken (kazi menus check lists them):\n"
                           + "\n".join(problems))
    return flow


@dataclass
class Services:
    """Everything a request or a job needs, passed around instead of globals."""

    config: Mapping[str, Any]
    db: Database
    redis: Redis
    queues: dict[str, Queue]
    sms: SmsBackend
    cipher: PiiCipher
    flow: Flow

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Services:
        redis = connect(
            config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2,
            health_check_interval=30,
        )
        queues = {name: Queue(name, connection=redis) for name in QUEUES}
        services = cls(
            config=config,
            db=Database(config["DATABASE_URL"]),
            redis=redis,
            queues=queues,
            sms=backend_from_config(config),
            cipher=PiiCipher(config["PII_KEYS"]),
            flow=checked_flow(config["USSD_MAX_CHARS"]),
        )
        services.db.dispatch = services.enqueue_all
        return services

    def enqueue_all(self, jobs: list[Job]) -> None:
        """Enqueue deferred job descriptions, in order, each on its own.

        A Redis hiccup on one job is retried once (the job id makes that safe) and
        never costs the jobs after it; a job that still fails is left to the
        reconciler, which finds its work pending in SQL. The first error is raised
        once every job has had its chance.
        """
        failed: Exception | None = None
        for job in jobs:
            for attempt in range(ENQUEUE_ATTEMPTS):
                try:
                    self.enqueue(job)
                    break
                except RedisError as exc:
                    if attempt + 1 == ENQUEUE_ATTEMPTS:
                        failed = failed or exc
            if isinstance(failed, RedisConnectionError):
                break  # Redis is down, not slow: the rest would fail the same way
        if failed is not None:
            raise failed

    def enqueue(self, job: Job) -> RqJob | None:
        """Enqueue one job now; a live job with the same id is left alone.

        A job id names the work (``sms:42``), so enqueuing it twice is a no-op while
        the first is queued, scheduled or running. A finished or failed job of that
        id is replaced: that is how the reconciler retries work still pending in SQL.
        """
        queue = self.queues[job.queue or "default"]
        job_id = job.rq_id
        options: dict[str, Any] = {
            "job_id": job_id,
            "unique": bool(job_id),
            "retry": job.retry,
            "job_timeout": job.timeout,
            "result_ttl": job.result_ttl,
            "failure_ttl": job.failure_ttl,
        }
        if job.rate_limit:
            options["rate_limit"] = job.rate_limit
        for _ in range(2):
            try:
                if job.delay:
                    return queue.enqueue_in(
                        timedelta(seconds=job.delay), job.func, *job.args, **options
                    )
                return queue.enqueue(job.func, *job.args, **options)
            except DuplicateJobError:
                try:
                    existing = RqJob.fetch(job_id, connection=self.redis)
                except NoSuchJobError:
                    continue
                if existing.get_status(refresh=False) in LIVE:
                    return None
                existing.delete()
        return None


def services() -> Services:
    """Give the current app's services."""
    return current_app.extensions["kazi"]
