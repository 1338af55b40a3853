"""REDIS_URL: plain URLs as redis-py reads them, and redis+sentinel:// for Sentinel groups."""

from __future__ import annotations

import re

import pytest
from redis.sentinel import SentinelConnectionPool

from app.embedded_redis import _free_port, ensure_redis, redis_answers
from app.redis_conn import MasterConnection, SentinelMaster, connect, parse_sentinel_url


def test_a_sentinel_url_names_the_sentinels_the_service_and_the_database() -> None:
    parsed = parse_sentinel_url(
        "redis+sentinel://:s3cr%40t@10.0.0.1:26379,10.0.0.2,10.0.0.3:26380/kazi/2"
        "?sentinel_password=watch&ssl=true")
    assert parsed.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26380)]
    assert (parsed.service, parsed.db) == ("kazi", 2)
    assert (parsed.username, parsed.password) == (None, "s3cr@t")
    assert (parsed.sentinel_username, parsed.sentinel_password, parsed.ssl) == (None, "watch",
                                                                               True)


def test_a_sentinel_url_without_a_database_uses_0_and_no_login() -> None:
    parsed = parse_sentinel_url("redis+sentinel://sentinel-1:26379/mymaster")
    assert (parsed.sentinels, parsed.service, parsed.db) == ([("sentinel-1", 26379)],
                                                             "mymaster", 0)
    assert (parsed.username, parsed.password, parsed.ssl) == (None, None, False)


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel:///kazi/0", "no Sentinel host"),
    ("redis+sentinel://h:26379", "/SERVICE"),
    ("redis+sentinel://h:26379/kazi/0/extra", "/SERVICE"),
    ("redis+sentinel://h:26379/kazi/zero", "not a number"),
    ("redis+sentinel://h:port/kazi", "not a number"),
    ("redis://h:6379/0", "not a redis+sentinel"),
])
def test_a_wrong_sentinel_url_says_what_is_wrong(url, says) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_sentinel_url(url)


def test_a_plain_url_is_redis_pys_own(redis_url) -> None:
    with connect(redis_url, socket_timeout=2) as client:
        assert client.ping()
        assert not isinstance(client.connection_pool, SentinelConnectionPool)


def test_a_sentinel_url_gives_a_master_client_that_closes_everything() -> None:
    # No Sentinel needs to answer to build the client: it asks on first use.
    client = connect("redis+sentinel://127.0.0.1:1,127.0.0.1:2/kazi/3", socket_timeout=0.5)
    assert isinstance(client, SentinelMaster)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.connection_class is MasterConnection
    assert pool.connection_kwargs["db"] == 3 and pool.connection_kwargs["socket_timeout"] == 0.5
    sentinels = client.sentinel.sentinels
    assert [c.connection_pool.connection_kwargs["port"] for c in sentinels] == [1, 2]
    client.close()


def test_no_embedded_redis_stands_in_for_a_sentinel_group_that_does_not_answer() -> None:
    url = f"redis+sentinel://127.0.0.1:{_free_port()}/kazi/0"
    assert redis_answers(url, timeout=0.2) is False
    with pytest.raises(RuntimeError, match="Sentinel group"):
        ensure_redis(url)
