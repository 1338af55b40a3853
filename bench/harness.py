"""What the benchmarks share: paths, services they start, and where their figures go.

The database, Redis, gunicorn and raw-HTTP pieces are still defined in
``bench.ussd_gateway`` (the first benchmark, which grew them); they are named here so
the other benchmarks import every shared piece from this one module.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.ussd_gateway import (
    Gunicorn,
    HttpError,
    RawHttp,
    SetupError,
    cpu_seconds,
    flush_redis,
    gateway_env,
    machine_busy_seconds,
    machine_info,
    new_fernet_key,
    percentile,
    prepare_database,
)

__all__ = [
    "DOCS", "RESULTS", "ROOT", "Gunicorn", "HttpError", "RawHttp", "RedisSentinel",
    "SetupError", "Workers", "append_docs", "cpu_seconds", "flush_redis", "gateway_env",
    "libpq_url", "machine_busy_seconds", "machine_info", "new_fernet_key", "percentile",
    "prepare_database", "stop_on_sigterm", "write_result",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"


# ---------------------------------------------------------------------------- services


class Workers:
    """``kazi worker`` processes, each in its own process group."""

    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.count, self.env, self.log_dir = count, env, log_dir
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Any] = []

    def __enter__(self) -> Workers:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for n in range(self.count):
            log = open(self.log_dir / f"worker-{n}.log", "wb")  # noqa: SIM115 - closed in stop
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [sys.executable, "-c", "from app.cli import main; main()", "worker"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait_ready(self, redis_url: str, timeout: float = 60) -> None:
        from redis import Redis
        from rq import Worker

        connection = Redis.from_url(redis_url)
        deadline = time.monotonic() + timeout
        while len(Worker.all(connection=connection)) < self.count:
            if any(p.poll() is not None for p in self.procs):
                raise SetupError("a kazi worker exited at start; see bench/results/*.log")
            if time.monotonic() > deadline:
                raise SetupError("kazi workers did not start in time")
            time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for log in self.logs:
            log.close()
        self.procs, self.logs = [], []


class RedisSentinel:
    """A key set at the start; gone later means another process emptied the bench's
    Redis db mid-run, and queued jobs (so the figures) were lost."""

    def __init__(self, redis_url: str, name: str) -> None:
        self.redis_url, self.key = redis_url, f"kazi:bench:{name}:sentinel"

    def plant(self) -> None:
        from redis import Redis

        Redis.from_url(self.redis_url).set(self.key, "1")

    def check(self, phase: str) -> None:
        from redis import Redis

        if not Redis.from_url(self.redis_url).exists(self.key):
            raise SetupError(f"Redis {self.redis_url} was emptied by another process during "
                             f"the {phase} phase (queued jobs lost, then rescued by the "
                             "reconciler): the figures would be wrong. Give the bench a Redis "
                             "db nobody else uses (--redis-url) and run it again.")


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg itself takes it."""
    return url.replace("postgresql+psycopg", "postgresql")


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """Make SIGTERM unwind the with-blocks, so gunicorn and the workers stop too."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


# ------------------------------------------------------------------------------ figures


def write_result(path: Path, report: dict[str, Any]) -> None:
    """Write a run's figures as JSON (``bench/results/`` is not in git)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def append_docs(text: str) -> None:
    """Append a section to ``docs/benchmarks.md``; append only: others write there too."""
    with DOCS.open("a", encoding="utf-8") as fh:
        fh.write(text)
