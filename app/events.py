"""Commit what the engine's events mean: one handler per event name, across features.

Feature modules register handlers with ``@handles("EventName")``, and ``app.features``
imports them (``EVENT_HANDLERS``); the USSD gateway (and the SMS dialogue runner) call
``apply`` inside one transaction per hop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app import registry
from app.extensions import Services
from app.sessions import Write
from menus.engine import Event


@dataclass
class Hop:
    """Where an event came from: the number, the session (or SMS) id and the live state."""

    svc: Services
    session: Session
    phone: str
    ref: str
    state: dict[str, Any]
    channel: str = "ussd"
    known: Mapping[str, bytes | None] = field(default_factory=dict)
    """Riding keys read with the USSD session (``app.ports``); empty elsewhere."""
    writes: list[Write] | None = None
    """Redis writes to make with the USSD session's save, if the caller makes them;
    None where there is no such save (SMS dialogues): a handler then writes itself."""

    @property
    def lang(self) -> str:
        return self.state.get("lang") or "en"


Handler = Callable[[Hop, Event], str | None]
"""Commits one event. It may give the screen to show instead of the one the step
reached, when the step could not be done; the engine moves there (``engine.divert``)."""
_HANDLERS: dict[str, Handler] = {}


def handles(name: str) -> Callable[[Handler], Handler]:
    """Register the function that commits event ``name``."""

    def register(func: Handler) -> Handler:
        if name in _HANDLERS and _HANDLERS[name] is not func:
            raise ValueError(f"event {name} already has a handler")
        _HANDLERS[name] = func
        return func

    return register


def apply(hop: Hop, events: tuple[Event, ...]) -> str | None:
    """Commit each event's meaning into ``hop.session``; results go into ``hop.state``.

    Gives the screen a handler asked to show instead, if any (the last one asked).
    """
    if events:
        registry.check("event handler")
    instead = None
    for event in events:
        handler = _HANDLERS.get(event.name)
        if handler is None:  # a journey emitting an event nobody handles is a bug
            raise ValueError(f"unhandled event {event.name}")
        instead = handler(hop, event) or instead
    return instead


def known() -> set[str]:
    """Name every event that has a handler."""
    registry.check("event handler")
    return set(_HANDLERS)
