"""The app factory: configuration, logging, services, then every feature (``app.features``)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from app import config as settings
from app import features
from app.extensions import Services


def build(config: dict[str, Any] | None = None) -> Flask:
    """Create the app from ``config`` (tests) or from the environment (everything else)."""
    app = Flask(__name__, instance_relative_config=False)
    raw = settings.from_env() if config is None else {**settings.DEFAULTS, **config}
    app.config.update(settings.finalise(raw))
    configure_logging(app)
    register_extensions(app)
    features.register(app)
    return app


def configure_logging(app: Flask) -> None:
    """Log to stderr at INFO; personal data is never passed to a logger."""
    # Alembic announces each plugin at INFO on every command: noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")


def register_extensions(app: Flask) -> None:
    """Attach the database, Redis, queues, SMS backend, cipher and menu flow."""
    from app.callbacks import CallbackFreeSessions

    app.extensions["kazi"] = Services.from_config(app.config)
    app.session_interface = CallbackFreeSessions()

