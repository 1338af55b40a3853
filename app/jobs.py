"""What a job is: the value every feature gives to describe one of its RQ jobs.

A feature writes one small function per job next to the code that defers it
(``outbox.send_job(message_id, queue)``), and both the deferring code and the
reconciler call it, so each job id is built in exactly one place. The function is
named by its dotted path (``"workers.sms.send_message"``): the app never imports
``workers/``, RQ does in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rq import Retry


@dataclass(frozen=True)
class Job:
    """One job to enqueue: ``app.db.defer`` (after commit) or ``Services.enqueue`` (now)."""

    func: str
    """Dotted path of the job function, e.g. ``workers.sms.send_message``."""
    args: tuple[Any, ...] = ()
    queue: str = "default"
    """RQ queue: ``critical``, ``default`` or ``bulk``."""
    job_id: str | None = None
    """Names the work (``sms:42``): a live job with the same id is never enqueued twice."""
    retry: Retry | None = None
    delay: int | None = None
    """Seconds to wait before the job may run; None or 0 runs it as soon as a worker is free."""
    timeout: int = 60
    """Seconds one run may take before RQ stops it."""
    result_ttl: int = 300
    failure_ttl: int = 7 * 86400
    rate_limit: Any = None
    """An RQ ``RateLimit`` shared by a family of jobs (check-in batches), or None."""

    @property
    def rq_id(self) -> str | None:
        """The id RQ stores: RQ allows only letters, digits, ``_`` and ``-`` (``sms-42``)."""
        return self.job_id.replace(":", "-") if self.job_id else None


def default_retry() -> Retry:
    """Retry transient failures with growing gaps (seconds)."""
    return Retry(max=5, interval=[5, 30, 120, 600, 1800])
