"""USSD session state in Redis: one encrypted key per session, saved compare-and-set."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.retry import Retry

from app.crypto import StateCipher

SESSION_KEY = "kazi:ussd:s:{0}"
"""One key per AT ``sessionId``: the engine state, the last ``text`` and the last reply."""

RESUME_KEY = "kazi:ussd:resume:{0}"
"""Per phone number: the last record of a registration in progress, for a later dial."""

KEEP, FORGET, SAME = "", "-", "="
"""What a save does to the resume pointer: leave it, delete it, or set it to this record."""

# Save only if nobody saved since we loaded; also set or clear the resume pointer,
# and apply the hop's own writes (KEYS[3..], each with an op and a value in ARGV).
# One round trip, the record sealed once for both keys, and the writes happen if
# and only if the hop's reply is the one saved.
_CAS = """
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  if ARGV[4] == '-' then
    redis.call('DEL', KEYS[2])
  elseif ARGV[4] == '=' then
    redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[5]))
  end
  for k = 3, #KEYS do
    local op, value = ARGV[4 + 2 * (k - 2)], ARGV[5 + 2 * (k - 2)]
    if op == 'incr' then
      redis.call('INCR', KEYS[k])
      redis.call('EXPIRE', KEYS[k], tonumber(value))
    elseif op == 'rpush' then
      redis.call('RPUSH', KEYS[k], value)
    end
  end
  return 1
end
return 0
"""

Write = tuple[str, str, bytes | str | int]
"""A write a hop asks to make with its save: ("incr", key, ttl) or ("rpush", key, value)."""

WRITE_OPS = ("incr", "rpush")


@dataclass
class Loaded:
    """A session as loaded: its record and the raw value needed to save it safely."""

    raw: bytes | None
    record: dict[str, Any] | None
    resume_raw: bytes | None = None
    known: dict[str, bytes | None] = field(default_factory=dict)
    """The riding keys' values, read in the same round trip."""


def _round_trip(conn: AbstractConnection, args: tuple[Any, ...]) -> Any:
    """Send ``args`` and read the reply; on any failure but an error reply, close ``conn``.

    An error reply is read whole, so the connection stays usable; after anything
    else a reply may still be on its way, and no later hop must read it as its own.
    """
    try:
        conn.send_command(*args)
        return conn.read_response()
    except ResponseError:
        raise
    except BaseException:
        conn.disconnect()
        raise


class SessionStore:
    """Load and save USSD sessions; values are encrypted because they hold answers.

    A hop's two round trips (``load``, ``save``) go over one connection this process
    keeps for them (redis-py's ``single_connection_client``, guarded by its lock),
    which skips a pool's checkout and return on every command: a fifth of a hop's
    Redis CPU. It is made on first use in each process, so a fork never shares it and
    a Redis that is down at start costs nothing. A pool checks a connection before
    lending it; this one is not lent, so a command that finds it dropped (Redis
    restarted, an idle timeout) is sent once more on a new one. Both commands are
    safe to repeat: ``load`` reads, and a repeated save finds its own record and
    reports a lost compare-and-set, after which the hop reloads and returns the
    reply it saved.

    Both commands go straight to that connection (``send_command``, then
    ``read_response``) instead of through ``Redis.execute_command``, which costs
    about 20 µs of CPU a command on top of the round trip (its argument checks,
    observability hooks and retry closure): a tenth of what a check hop adds to the
    bare baseline (``docs/benchmarks.md``, "Agency lookup").
    """

    def __init__(self, redis: Redis, cipher: StateCipher, ttl: int, resume_ttl: int,
                 riders: Callable[[str], Sequence[str]] | None = None) -> None:
        self.redis = redis
        self.cipher = cipher
        self.ttl = ttl
        self.resume_ttl = resume_ttl
        self.riders = riders
        self._cas = redis.register_script(_CAS)
        self._hop_client: tuple[int, Redis] | None = None
        self._hop_lock = threading.Lock()

    def _client(self) -> Redis:
        """Give this process's connection for hops (made on first use, per process)."""
        made = self._hop_client
        if made is not None and made[0] == os.getpid():
            return made[1]
        with self._hop_lock:
            made = self._hop_client
            if made is None or made[0] != os.getpid():
                shared = self.redis.connection_pool
                pool = ConnectionPool(
                    connection_class=shared.connection_class,
                    **{**shared.connection_kwargs,
                       "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))})
                client = Redis(connection_pool=pool, single_connection_client=True)
                made = self._hop_client = (os.getpid(), client)
        return made[1]

    def load(self, session_id: str, phone: str) -> Loaded:
        """Read a session, the number's resume pointer and the riding keys in one round trip."""
        riders = list(self.riders(phone)) if self.riders else []
        raw, resume_raw, *riding = self._command(
            "MGET", SESSION_KEY.format(session_id), RESUME_KEY.format(phone), *riders)
        return Loaded(raw, self.open(raw) if raw else None, resume_raw,
                      dict(zip(riders, riding, strict=True)))

    def resumable(self, loaded: Loaded) -> dict[str, Any] | None:
        """Give the engine state kept by the resume pointer loaded with a session."""
        record = self.open(loaded.resume_raw) if loaded.resume_raw else None
        return record.get("state") if record else None

    def save(self, session_id: str, phone: str, loaded: Loaded, record: dict[str, Any],
             resume: str = KEEP, writes: Sequence[Write] = ()) -> bool:
        """Save ``record`` unless another hop saved first; True when it was saved.

        ``resume`` says what to do with the number's resume pointer: ``SAME`` keeps
        this record for a later dial, ``FORGET`` drops it, ``KEEP`` leaves it alone.
        ``writes`` are made in the same script, only when the record is saved.
        """
        keys = [SESSION_KEY.format(session_id), RESUME_KEY.format(phone)]
        args: list[Any] = [loaded.raw or b"", self.seal(record), self.ttl, resume,
                           self.resume_ttl]
        for op, key, value in writes:
            if op not in WRITE_OPS:
                raise ValueError(f"unknown session write {op!r}")
            keys.append(key)
            args += [op, value]
        try:
            saved = self._command("EVALSHA", self._cas.sha, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or flushed Redis: EVAL sends and caches it
            saved = self._command("EVAL", _CAS, len(keys), *keys, *args)
        return bool(saved)

    def _command(self, *args: Any) -> Any:
        """Send one command on this process's hop connection and give its reply.

        A connection found dropped (Redis restarted, an idle timeout) is remade and
        the command sent once more, as the client's ``Retry`` would.
        """
        client = self._client()
        with client.single_connection_lock:
            try:
                return _round_trip(client.connection, args)
            except RedisConnectionError:
                return _round_trip(client.connection, args)

    def resume_state(self, phone: str) -> dict[str, Any] | None:
        """Give the engine state of a registration a number left unfinished, if kept."""
        raw = self.redis.get(RESUME_KEY.format(phone))
        record = self.open(raw) if raw else None
        return record.get("state") if record else None

    def forget_resume(self, phone: str) -> None:
        self.redis.delete(RESUME_KEY.format(phone))

    def seal(self, value: dict[str, Any]) -> bytes:
        """Encrypt a record for storage."""
        return self.cipher.seal(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))

    def open(self, raw: bytes) -> dict[str, Any] | None:
        """Decrypt a record; None if it cannot be read (key rotated away, corrupt)."""
        try:
            return orjson.loads(self.cipher.open(raw))
        except ValueError:
            return None
