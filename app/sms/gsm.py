"""The GSM 03.38 alphabet: what a phone can show without switching to UCS-2."""

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""Characters of the basic GSM-7 table; each costs one septet."""

EXTENSION = "^{}\\[~]|€\f"
"""Characters of the extension table; each costs two septets (escape + char)."""

_BASIC = frozenset(BASIC) - {"\x1b"}
_ALL = _BASIC | frozenset(EXTENSION)

BASIC_CHARS = _BASIC
"""The basic table's characters, without the escape: one septet each, on any phone."""


def is_gsm7(text: str) -> bool:
    """Tell whether every character of ``text`` is in the GSM-7 alphabet."""
    return all(ch in _ALL for ch in text)


def bad_chars(text: str) -> list[str]:
    """List the characters of ``text`` outside GSM-7, in order, once each."""
    return list(dict.fromkeys(ch for ch in text if ch not in _ALL))


def septets(text: str) -> int:
    """Count the septets ``text`` costs in GSM-7 (extension characters cost two)."""
    return sum(2 if ch in EXTENSION else 1 for ch in text)
