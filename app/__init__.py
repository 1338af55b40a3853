"""Kazi Salama: the Flask gateway that answers Africa's Talking callbacks.

``create_app`` is imported lazily so that pure packages (``menus``, ``app.reference``)
can import from ``app`` without pulling in Flask.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any


def create_app(config: dict[str, Any] | None = None):
    """Build the Flask app; tests pass ``config`` and the environment is not read."""
    from app.factory import build

    return build(config)


@functools.cache
def import_modules(modules: tuple[str, ...]) -> None:
    """Import ``modules`` once per process: feature registries (ports, event handlers,
    reports) fill as their modules load. After the first call it is a cache hit; an
    import that failed is tried again on the next call."""
    for module in modules:
        importlib.import_module(module)
