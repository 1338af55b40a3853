"""What the benchmarks share: paths, database and Redis setup, ``kazi worker``
processes, the machine's description, and where their figures go.

The HTTP server under test (gunicorn), the raw HTTP client and the CPU readings are
in ``bench.server``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = [
    "DOCS", "RESULTS", "ROOT", "SERVICE_CODE", "RedisSentinel", "SetupError", "Workers",
    "append_docs", "flush_redis", "gateway_env", "libpq_url", "machine_info",
    "new_fernet_key", "percentile", "prepare_database", "stop_on_sigterm", "write_result",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
SERVICE_CODE = "*384*2026#"
"""The USSD code the gateway is started with and the bench phones dial."""


# ---------------------------------------------------------------------------- setup


class SetupError(RuntimeError):
    """The benchmark cannot run: said plainly, exit non-zero."""


def prepare_database(url: str, force: bool) -> None:
    """Create the bench database if missing, empty its schema and migrate it."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise SetupError(f"--database-url must be PostgreSQL, got {parsed.drivername}")
    name = parsed.database or ""
    if "bench" not in name and not force:
        raise SetupError(f"refusing to drop the schema of database {name!r}: its name has no "
                         "'bench' in it (pass --force if you mean it)")
    conninfo = dict(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                    user=parsed.username or "postgres", connect_timeout=3)
    if parsed.password:
        conninfo["password"] = parsed.password
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, **conninfo)
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SetupError(f"PostgreSQL does not answer at {conninfo['host']}:{conninfo['port']}: "
                         f"{reason}") from None
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **conninfo) as conn:
        user = conninfo["user"]
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute(f'CREATE SCHEMA public AUTHORIZATION "{user}"')
    from app.migrate import upgrade

    upgrade(url)


def flush_redis(url: str) -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        if client.connection_pool.connection_kwargs.get("db", 0) == 0:
            raise SetupError("refusing to flush Redis db 0; give the bench its own db (e.g. /14)")
        client.flushdb()
    except RedisError as exc:
        raise SetupError(f"Redis does not answer at {url}: {exc}") from None
    finally:
        client.close()


def new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def gateway_env(database_url: str, redis_url: str, pii_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AT_", "CALLBACK_TOKEN", "KAZI_", "USSD_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, PII_KEYS=pii_key,
               SECRET_KEY="bench-secret-" + pii_key[:8], KAZI_ENV="development",
               USSD_SERVICE_CODE=SERVICE_CODE, PYTHONUNBUFFERED="1")
    return env


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


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    return {
        "nproc": os.cpu_count(),
        "nproc_available": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: pkg(name) for name in
                     ("flask", "gunicorn", "redis", "sqlalchemy", "psycopg", "cryptography")},
    }


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


def write_result(path: Path, report: dict[str, Any]) -> None:
    """Write a run's figures as JSON (``bench/results/`` is not in git)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def append_docs(text: str, path: Path = DOCS) -> None:
    """Append a section to ``docs/benchmarks.md`` (or ``path``); append only: others write
    there too."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
