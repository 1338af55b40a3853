"""Every feature of the gateway, wired in one place: what handles what, and where it lives.

The feature modules below register themselves with decorators as they are imported:

- ``@handles("EventName")`` (``app.events``): commits what a journey's event means;
- ``@port("name")`` (``app.ports``): a lookup the menu engine reads as ``port.name``;
- ``@keyword("WORD", ...)`` (``app.keywords``): routes an incoming SMS by its first word;
- ``@implied`` (``app.dialogues``): opens an SMS dialogue for a question sent to many;
- ``@report`` / ``@aggregate`` (``app.reports``): ``kazi report NAME``, the reports API
  and the console's charts.

The tuples say which modules add to which registry (``tests/test_features.py`` keeps
them true), so one grep for a module's name finds where it is wired. A new feature
adds its module here. ``register`` attaches every route and ``kazi`` command.

``create_app`` imports this module, so the gateway, every ``kazi`` command and every
worker (``kazi worker`` and ``workers.services()`` build their app through it) run
with every feature registered. The registries refuse to be read before this module
has run (``app.registry``). The registries must never import this module: the
feature modules import them.
"""

from __future__ import annotations

from flask import Flask

import app.agencies.journey
import app.agencies.sms
import app.api
import app.checkins.replies
import app.cli
import app.console
import app.health
import app.keywords
import app.listings.check
import app.mydata
import app.placements.declaration
import app.placements.migrant
import app.placements.no_news
import app.protection.intake
import app.protection.officers
import app.registration
import app.reports.agencies
import app.reports.agency_risk
import app.reports.aggregates
import app.reports.cases
import app.reports.checkins
import app.reports.clusters
import app.reports.departures
import app.reports.irregular
import app.reports.placements
import app.reports.red_flags
import app.reports.sla
import app.reports.stock
import app.sms_callbacks
import app.ussd
from app import registry

EVENT_HANDLERS = (
    app.registration,
    app.listings.check,
    app.agencies.journey,
    app.checkins.replies,
    app.protection.intake,
    app.placements.declaration,
    app.placements.migrant,
    app.placements.no_news,
)
"""Modules with ``@handles`` functions: the engine's events, committed per hop."""

PORTS = (
    app.registration,
    app.listings.check,
    app.agencies.journey,
    app.placements.declaration,
)
"""Modules with ``@port`` classes: what the menu engine may read."""

KEYWORDS = (
    app.keywords,
    app.listings.check,
    app.agencies.sms,
    app.checkins.replies,
    app.protection.intake,
    app.protection.officers,
    app.placements.migrant,
    app.mydata,
)
"""Modules with ``@keyword`` handlers: the words an incoming SMS may start with."""

IMPLIED_DIALOGUES = (
    app.checkins.replies,
)
"""Modules with ``@implied`` openers: questions sent without a stored dialogue per number."""

REPORTS = (
    app.reports.irregular,
    app.reports.clusters,
    app.reports.stock,
    app.reports.departures,
    app.reports.placements,
    app.reports.cases,
    app.reports.sla,
    app.reports.checkins,
    app.reports.red_flags,
    app.reports.agencies,
    app.reports.agency_risk,
)
"""Modules with ``@report`` or ``@aggregate`` functions, one report each, in the order
the API and the dashboard list them."""


def register(flask_app: Flask) -> None:
    """Attach every route and every ``kazi`` command to ``flask_app``."""
    flask_app.register_blueprint(app.health.bp)
    flask_app.register_blueprint(app.ussd.bp)
    flask_app.register_blueprint(app.sms_callbacks.bp)
    app.api.register(flask_app)  # /api/v1: lists its route modules
    app.console.register(flask_app)  # /console, /console/analytics, /simulator
    app.cli.register(flask_app)  # ``kazi ...``: lists its command modules


app.reports.aggregates.arrange(REPORTS)
registry.complete()
