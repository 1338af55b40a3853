"""The guard every feature registry shares: no reading before ``app.features`` has run.

Event handlers (``app.events``), ports (``app.ports``), keywords (``app.keywords``),
implied dialogues (``app.dialogues``) and reports (``app.reports``) are filled by
decorators as ``app.features`` imports the feature modules. A registry read before
then would answer with whatever happened to be imported, which looks like a missing
feature, not a bug; so its readers call ``check`` and it raises instead.

This module imports nothing of the app: the registries import it, and ``app.features``
imports the registries.
"""

from __future__ import annotations

_complete = False


def complete() -> None:
    """Mark every feature module imported (``app.features`` calls it last)."""
    global _complete
    _complete = True


def check(registry: str) -> None:
    """Raise unless ``app.features`` has filled the registries; ``registry`` names the reader's."""
    if not _complete:
        raise RuntimeError(
            f"the {registry} registry was read before the features were wired: import "
            "app.features first (create_app does, so the app, the CLI and workers have)")
