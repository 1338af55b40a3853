"""Personal data at rest: Fernet encryption with key rotation and an HMAC blind index."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class PiiCipher:
    """Encrypt with the first ``PII_KEYS`` key, decrypt with any, index with HMAC."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("PII_KEYS must hold at least one Fernet key")
        self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        # Rotation puts a new key first and keeps old ones after it, so the blind
        # index hangs off the last (oldest) key: lookups survive a rotation, and
        # retiring that key is the moment to re-index (docs/runbook-keys.md).
        self._index_key = hashlib.sha256(b"kazi-blind-index:" + keys[-1].strip().encode()).digest()

    def encrypt(self, text: str) -> bytes:
        """Encrypt ``text`` with the newest key."""
        return self._fernet.encrypt(text.encode())

    def decrypt(self, token: bytes) -> str:
        """Decrypt a token made with any configured key."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise ValueError("cannot decrypt: unknown key or corrupt data") from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token made with any configured key with the newest one."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise ValueError("cannot decrypt: unknown key or corrupt data") from None

    def blind_index(self, kind: str, value: str) -> str:
        """Give a keyed hash of ``value`` for exact-match lookups without decrypting."""
        return _blind_index(self._index_key, kind, value)


@functools.lru_cache(maxsize=16384)  # a number's index is asked for on every hop it makes
def _blind_index(key: bytes, kind: str, value: str) -> str:
    normal = "".join(value.split()).upper()
    return hmac.new(key, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()


class StateCipher:
    """Encrypt short-lived session state (minutes) with AES-GCM: much cheaper than Fernet.

    The key comes from the first ``PII_KEYS`` key; after a rotation, sessions sealed
    with the old key simply fail to open and start afresh, which a USSD session can.
    """

    LABEL = b"kazi-session:"
    """What the AES key is derived from, with a ``PII_KEYS`` key."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._aeads = [self._aead(keys[0])]

    @classmethod
    def _aead(cls, key: str) -> AESGCM:
        return AESGCM(hashlib.sha256(cls.LABEL + key.strip().encode()).digest())

    def seal(self, data: bytes) -> bytes:
        """Encrypt ``data`` with a fresh random nonce, kept in front of the ciphertext."""
        nonce = os.urandom(12)
        return nonce + self._aeads[0].encrypt(nonce, data, None)

    def open(self, token: bytes) -> bytes:
        """Decrypt a sealed token with whichever of the keys sealed it, or raise ValueError."""
        for aead in self._aeads:
            try:
                return aead.decrypt(token[:12], token[12:], None)
            except (InvalidTag, ValueError):
                continue
        raise ValueError("cannot open: unknown key or corrupt data")


def new_key() -> str:
    """Make a fresh Fernet key."""
    return Fernet.generate_key().decode()
