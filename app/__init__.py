"""Kazi Salama: the Flask gateway that answers Africa's Talking callbacks.

``create_app`` is imported lazily so that pure packages (``menus``, ``app.reference``)
can import from ``app`` without pulling in Flask. What the app is made of is wired in
``app.features``.
"""

from __future__ import annotations

from typing import Any


def create_app(config: dict[str, Any] | None = None):
    """Build the Flask app; tests pass ``config`` and the environment is not read."""
    from app.factory import build

    return build(config)
