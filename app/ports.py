"""The engine's window on data: lookups only, grouped by feature (``port.people``…).

A feature registers a port class with ``@port("name")`` (``app.features`` imports it);
the engine reaches it as ``ctx.port.name.method(...)``. Ports read; they never write
(writes are events).

A port may name Redis keys that ride along with every USSD session load
(``@port("name", rides=(KEY, ...))``): the gateway reads them in the same round trip
as the session and hands their values to the port (and to event handlers, as
``Hop.known``), so a small fresh fact (the register's version, a number's rule
rotation) costs no round trip of its own. A key may be a function of the services
and the phone number. A port built without them (SMS dialogues, jobs) reads the keys
itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app import registry
from app.extensions import Services

Known = Mapping[str, bytes | None]
"""Values of riding keys as read with the session (a key Redis lacks is None)."""

Rider = str | Callable[[Services, str], str]
"""A riding key: fixed, or made from the services and the phone number."""

_PORTS: dict[str, Callable[[Services, Known], Any]] = {}
_RIDES: dict[str, tuple[Rider, ...]] = {}


def port(name: str, rides: tuple[Rider, ...] = ()) -> Callable[[type], type]:
    """Register a port class under ``name``; it is built as ``cls(svc, known)``."""

    def register(cls: type) -> type:
        _PORTS[name] = cls
        _RIDES[name] = tuple(rides)
        return cls

    return register


def riding_keys(svc: Services, phone: str) -> list[str]:
    """Give every key the ports want read with a USSD session load of ``phone``, once each."""
    registry.check("port")
    keys = (rider if isinstance(rider, str) else rider(svc, phone)
            for riders in _RIDES.values() for rider in riders)
    return list(dict.fromkeys(keys))


class Ports:
    """Every registered port for one hop, built on first use."""

    def __init__(self, svc: Services, known: Known | None = None) -> None:
        self.svc = svc
        self.known: Known = known or {}
        registry.check("port")

    def __getattr__(self, name: str) -> Any:
        if name not in _PORTS:
            raise AttributeError(name)
        value = _PORTS[name](self.svc, self.known)
        setattr(self, name, value)
        return value
