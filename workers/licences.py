"""The licence watch job: ``app.agencies.watch`` expires and warns."""

from __future__ import annotations

from app.agencies import watch
from workers import services


def licence_watch(as_of: str | None = None) -> dict[str, int]:
    return watch.licence_watch(services(), as_of)
