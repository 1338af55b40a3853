"""The engine's window on data: lookups only, grouped by feature (``port.people``…).

A feature registers a port class with ``@port("name")``; the engine reaches it as
``ctx.port.name.method(...)``. Ports read; they never write (writes are events).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from app.extensions import Services

PORT_MODULES = (
    "app.registration",
    "app.listings.check",
    "app.agencies.journey",
    "app.placements.declaration",
)
"""Modules that register ports; each feature adds its own line."""

_PORTS: dict[str, Callable[[Services], Any]] = {}


def port(name: str) -> Callable[[type], type]:
    """Register a port class under ``name``."""

    def register(cls: type) -> type:
        _PORTS[name] = cls
        return cls

    return register


class Ports:
    """Every registered port for one hop, built on first use."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        # Always: one port module imported elsewhere first must not hide the others.
        for module in PORT_MODULES:
            importlib.import_module(module)

    def __getattr__(self, name: str) -> Any:
        if name not in _PORTS:
            raise AttributeError(name)
        value = _PORTS[name](self.svc)
        setattr(self, name, value)
        return value
