"""USSD session state in Redis: one encrypted key per session, saved compare-and-set."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from app.crypto import StateCipher

SESSION_KEY = "kazi:ussd:s:{0}"
"""One key per AT ``sessionId``: the engine state, the last ``text`` and the last reply."""

RESUME_KEY = "kazi:ussd:resume:{0}"
"""Per phone number: the last record of a registration in progress, for a later dial."""

KEEP, FORGET, SAME = "", "-", "="
"""What a save does to the resume pointer: leave it, delete it, or set it to this record."""

# Save only if nobody saved since we loaded; also set or clear the resume pointer,
# and apply the hop's own counter increments (KEYS[3..], each with a TTL in ARGV).
# One round trip, the record sealed once for both keys, and the increments happen
# if and only if the hop's reply is the one saved.
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
    end
  end
  return 1
end
return 0
"""

Write = tuple[str, str, int]
"""A write a hop asks to make with its save: ("incr", key, ttl)."""

WRITE_OPS = ("incr",)


@dataclass
class Loaded:
    """A session as loaded: its record and the raw value needed to save it safely."""

    raw: bytes | None
    record: dict[str, Any] | None
    resume_raw: bytes | None = None
    known: dict[str, bytes | None] = field(default_factory=dict)
    """The riding keys' values, read in the same round trip."""


class SessionStore:
    """Load and save USSD sessions; values are encrypted because they hold answers.

    A hop costs two Redis round trips on the app's client: ``load`` (one ``MGET``)
    and ``save`` (the compare-and-set script). Both are safe to repeat, so the
    client's own retry on a dropped connection is enough: a repeated save finds
    its own record and reports a lost compare-and-set, after which the hop reloads
    and returns the reply it saved.
    """

    def __init__(self, redis: Redis, cipher: StateCipher, ttl: int, resume_ttl: int,
                 riders: Callable[[str], Sequence[str]] | None = None) -> None:
        self.redis = redis
        self.cipher = cipher
        self.ttl = ttl
        self.resume_ttl = resume_ttl
        self.riders = riders
        self._cas = redis.register_script(_CAS)

    def load(self, session_id: str, phone: str) -> Loaded:
        """Read a session, the number's resume pointer and the riding keys in one round trip."""
        riders = list(self.riders(phone)) if self.riders else []
        raw, resume_raw, *riding = self.redis.mget(
            SESSION_KEY.format(session_id), RESUME_KEY.format(phone), *riders)
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
        # A Redis that lost the script (restarted, flushed) gets it again from ``Script``.
        return bool(self._cas(keys=keys, args=args))

    def resume_state(self, phone: str) -> dict[str, Any] | None:
        """Give the engine state of a registration a number left unfinished, if kept."""
        raw = self.redis.get(RESUME_KEY.format(phone))
        record = self.open(raw) if raw else None
        return record.get("state") if record else None

    def forget_resume(self, phone: str) -> None:
        self.redis.delete(RESUME_KEY.format(phone))

    def seal(self, value: dict[str, Any]) -> bytes:
        """Encrypt a record for storage."""
        return self.cipher.seal(json.dumps(value, separators=(",", ":")).encode())

    def open(self, raw: bytes) -> dict[str, Any] | None:
        """Decrypt a record; None if it cannot be read (key rotated away, corrupt)."""
        try:
            return json.loads(self.cipher.open(raw))
        except ValueError:
            return None
