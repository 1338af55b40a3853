"""Open Redis from ``REDIS_URL``: a plain server, or the master a Sentinel group names.

``REDIS_URL`` takes redis-py's own forms (``redis://``, ``rediss://``, ``unix://``)
and one more, for Redis run with Sentinel for high availability::

    redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB][?OPTIONS]

- ``HOST:PORT`` pairs are the Sentinels (port 26379 when left out), ``SERVICE`` the
  master's name in their ``sentinel monitor`` line, ``DB`` the database (0).
- ``USER``/``PASSWORD`` are the Redis master's credentials. ``sentinel_password``
  (and ``sentinel_username``) in the query authenticate to the Sentinels themselves,
  when they have ``requirepass`` set.
- ``ssl=true`` in the query speaks TLS to the master and its replicas.

Every connection then asks the Sentinels where the master is, each time it connects
(``MasterConnection``), so the gateway, the workers and their cron follow a promoted
replica without a restart. Rebuilding the pool in a forked process (RQ's scheduler)
copies the pool's connection class and keyword arguments, which for Sentinel
carry the Sentinel manager with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.sentinel import Sentinel, SentinelManagedConnection, SentinelManagedSSLConnection

__all__ = ["SENTINEL_SCHEME", "MasterConnection", "SentinelMaster", "SentinelURL", "connect",
           "is_sentinel", "parse_sentinel_url"]

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SentinelURL:
    """What a ``redis+sentinel://`` URL says: the Sentinels, the service and how to log in."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int
    username: str | None
    password: str | None
    sentinel_username: str | None
    sentinel_password: str | None
    ssl: bool


def is_sentinel(url: str) -> bool:
    """Tell whether ``url`` names a Sentinel group rather than one server."""
    return urlsplit(url).scheme == SENTINEL_SCHEME


def parse_sentinel_url(url: str) -> SentinelURL:
    """Read a ``redis+sentinel://`` URL; a ValueError says what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username = password = None
    if credentials:
        user, _, secret = credentials.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    sentinels = []
    for item in filter(None, hosts.split(",")):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        try:
            sentinels.append((host, int(port) if port else SENTINEL_PORT))
        except ValueError:
            raise ValueError(f"Sentinel port {port!r} is not a number") from None
    if not sentinels:
        raise ValueError("no Sentinel host:port before the service name")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise ValueError("the path must be /SERVICE or /SERVICE/DB")
    try:
        db = int(path[1]) if len(path) == 2 else 0
    except ValueError:
        raise ValueError(f"database {path[1]!r} is not a number") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return SentinelURL(sentinels, path[0], db, username, password,
                       query.get("sentinel_username"), query.get("sentinel_password"),
                       query.get("ssl", "").lower() in _TRUE)


class _FollowsMaster:
    """Connection behaviour for a Sentinel-managed master, over redis-py's own.

    - Every (re)connect asks the Sentinels where the master is. redis-py does so only
      when a pool lends a connection; a connection remade on retry, or by a client that
      keeps one connection, would go back to the old address, now a replica.
    - A read that fails or is interrupted closes the connection, as on every other
      redis-py connection, so no later command reads a reply that was not its own.
    - A write refused because the server is now a replica is a lost connection, so
      the client's retry reconnects to the new master. redis-py does this for
      ``READONLY`` replies; it is done here as well for a write inside a Lua script,
      whose error Redis 6 wraps (``ERR Error running script ... -READONLY ...``).
    """

    connection_pool: Any

    def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        if not self._sock and self.connection_pool.is_master:  # type: ignore[attr-defined]
            self.host, self.port = self.connection_pool.get_master_address()
        super().connect_check_health(*args, **kwargs)  # type: ignore[misc]

    def _connect_retry(self) -> None:
        # redis-py's own path asks the Sentinels, then connects through
        # connect_check_health, which (above) asks them again: ask once.
        if self._sock or not self.connection_pool.is_master:  # type: ignore[attr-defined]
            return super()._connect_retry()  # type: ignore[misc]
        self.connect_check_health(check_health=self.connection_pool.check_connection,
                                  retry_socket_connect=False)

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        # redis-py's Sentinel connection defaults to False here, unlike every other
        # (redis/redis-py#4292): a read cut off (a worker told to stop while it waits
        # on BZPOPMIN) left its reply on the socket, the connection went back to the
        # pool, and the next command read that reply and then waited for ever.
        kwargs.setdefault("disconnect_on_error", True)
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        except ResponseError as exc:
            if self.connection_pool.is_master and "READONLY" in str(exc):
                self.disconnect()  # type: ignore[attr-defined]
                raise RedisConnectionError("the master is now a replica") from exc
            raise


class MasterConnection(_FollowsMaster, SentinelManagedConnection):
    """A connection to whichever server the Sentinels name as master."""


class MasterSSLConnection(_FollowsMaster, SentinelManagedSSLConnection):
    """The same over TLS."""


class SentinelMaster(Redis):
    """The master's client. Closing it closes its pool and its Sentinel connections too.

    (A client made by ``master_for`` does not own its pool, so a plain ``close()``
    would leave every socket open.)
    """

    sentinel: Sentinel | None = None

    def close(self) -> None:
        super().close()
        self.connection_pool.disconnect()
        if self.sentinel is not None:
            for client in self.sentinel.sentinels:
                client.close()


def connect(url: str, **kwargs: Any) -> Redis:
    """Give a Redis client for ``url``; ``kwargs`` (timeouts and the like) go to each connection.

    For a Sentinel URL the client is ``Sentinel.master_for``: every connection finds
    the current master through the Sentinels, which get the same timeouts.
    """
    if not is_sentinel(url):
        return Redis.from_url(url, **kwargs)
    parsed = parse_sentinel_url(url)
    timeouts = {k: kwargs[k] for k in ("socket_timeout", "socket_connect_timeout")
                if k in kwargs}
    sentinel_kwargs = {**timeouts,
                       "username": parsed.sentinel_username,
                       "password": parsed.sentinel_password}
    sentinel = Sentinel(parsed.sentinels, sentinel_kwargs=sentinel_kwargs, **timeouts)
    login = {"username": parsed.username, "password": parsed.password, "db": parsed.db,
             "connection_class": MasterSSLConnection if parsed.ssl else MasterConnection}
    client = sentinel.master_for(parsed.service, redis_class=SentinelMaster,
                                 **{**kwargs, **login})
    client.sentinel = sentinel
    return client
