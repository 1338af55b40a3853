"""Failed sign-ins counted per address: an address that fails too often must wait.

The account lockout (``app.staff.accounts``, 5 in a row) protects one account; this
stops one address from trying many accounts, or locking everyone out. The count lives
in Redis for ``IP_WINDOW`` from the first failure. Without Redis the throttle is
skipped (logged), so a Redis outage never locks staff out of the console.
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

IP_FAILURES = 20
"""Failed sign-ins from one address, within ``IP_WINDOW``, after which it must wait.

A mission office shares one address, hence a limit well above one person's typing
mistakes.
"""

IP_WINDOW = 15 * 60
"""Seconds a failed sign-in counts against its address."""

IP_KEY = "kazi:console:login-failures:{0}"

# INCR, then a TTL only if the key has none: the window starts at the first failure and
# later failures do not extend it. One script, so the count never exists without its
# TTL; ``EXPIRE ... NX`` would say the same in one command, but needs Redis 7.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


def _key(address: str | None) -> str:
    return IP_KEY.format(address or "unknown")


def blocked(redis: Redis, address: str | None) -> bool:
    """Tell whether ``address`` has used up its failed sign-ins (no Redis: never)."""
    try:
        count = redis.get(_key(address))
    except RedisError as exc:
        log.warning("login throttle unavailable (%s)", type(exc).__name__)
        return False
    return count is not None and int(count) >= IP_FAILURES


def count_failure(redis: Redis, address: str | None) -> None:
    """Count one failed sign-in against ``address`` (no Redis: not counted, logged)."""
    try:
        redis.eval(_COUNT, 1, _key(address), IP_WINDOW)
    except RedisError as exc:
        log.warning("login throttle unavailable (%s)", type(exc).__name__)
