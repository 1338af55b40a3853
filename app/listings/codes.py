"""The public code of a job listing: 6 characters a person can read out and type.

The alphabet has no 0/O and no 1/I, so a code read off a poster cannot be
mistyped between look-alikes. A typed 0, O, 1 or I is therefore never silently
mapped to another character: a guess could match a *different* listing and show
a fake offer as approved. ``parse`` reports such a code as impossible instead.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""32 characters: A-Z and 2-9 without O, I, 0 and 1 (32**6, about 1.07 billion codes)."""

LENGTH = 6
"""Characters in a code."""

LOOK_ALIKES = frozenset("01OI")
"""Characters a code never holds; typing one means the code was misread."""

_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_code() -> str:
    """Draw a random code from ``ALPHABET`` with ``secrets`` (the caller checks uniqueness)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def clean(text: str) -> str:
    """Upper-case a typed code and drop spaces, dashes, dots and underscores."""
    return _SEPARATORS.sub("", text or "").upper()


class CodeError(ValueError):
    """A typed code cannot be a listing code: ``reason`` is ``format`` or ``look_alike``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse(text: str) -> str:
    """Give the code a person typed (``k7m zq2`` -> ``K7MZQ2``) or raise ``CodeError``."""
    code = clean(text)
    if len(code) != LENGTH or not code.isalnum() or not code.isascii():
        raise CodeError("format")
    if any(ch in LOOK_ALIKES for ch in code):
        raise CodeError("look_alike")
    return code


def is_code(text: str) -> bool:
    """Tell whether ``text`` is exactly a well-formed code (no cleaning)."""
    return len(text) == LENGTH and all(ch in ALPHABET for ch in text)
