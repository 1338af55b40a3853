"""Partner request signatures: HMAC-SHA256 over ``timestamp + "." + raw body``.

A partner sends ``X-Kazi-Partner: <id>``, ``X-Kazi-Timestamp: <unix seconds>`` and
``X-Kazi-Signature: sha256=<hex>``. The timestamp is inside the signature, so an old
request cannot be replayed with a fresh one, and it must be within ``WINDOW`` of our
clock either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

WINDOW = 300
"""Seconds a request's timestamp may be from our clock, in the past or the future."""

SCHEME = "sha256="
"""The only signature scheme there is; the prefix leaves room for another."""

SECRET_BYTES = 32
"""Random bytes in a partner secret (shown as 64 hex characters)."""

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def new_secret() -> str:
    """Make a partner secret."""
    return secrets.token_hex(SECRET_BYTES)


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    """Give the ``X-Kazi-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body,
                      hashlib.sha256).hexdigest()
    return SCHEME + digest


def signed_headers(partner_id: int | str, secret: str, body: bytes, timestamp: int) -> dict:
    """Give every header a partner sends with ``body`` (for clients, tests and benchmarks)."""
    return {"X-Kazi-Partner": str(partner_id), "X-Kazi-Timestamp": str(timestamp),
            "X-Kazi-Signature": signature(secret, timestamp, body),
            "Content-Type": "application/json"}


def parse_timestamp(value: str | None) -> int | None:
    """Give the header's unix seconds, or None if it is not a plain whole number."""
    if value is None or not _TIMESTAMP.match(value.strip()):
        return None
    return int(value.strip())


def fresh(timestamp: int, now: float) -> bool:
    """Tell whether ``timestamp`` is within ``WINDOW`` seconds of ``now``."""
    return abs(now - timestamp) <= WINDOW


def verify(secret: str, timestamp: str, body: bytes, header: str | None) -> bool:
    """Check a signature header in constant time."""
    header = (header or "").strip()
    given = header[len(SCHEME):] if header[:len(SCHEME)].lower() == SCHEME else ""
    if not _HEX.match(given):
        given = "0" * 64  # still compare, so a malformed header costs the same time
        ok = False
    else:
        ok = True
    expected = signature(secret, timestamp, body)[len(SCHEME):]
    return hmac.compare_digest(expected, given.lower()) and ok
