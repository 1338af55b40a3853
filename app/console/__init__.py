"""The staff console at ``/console``: server-rendered pages for NEA and mission staff.

One blueprint, ``console``; each page file adds its routes to it (accounts, cases,
people, registers, audit log), and ``register`` imports them. Analytics
(``/console/analytics``) and the phone simulator (``/simulator``) have blueprints of
their own. Templates extend ``base.html`` and use ``{{ csrf_field() }}`` in every form.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, request, url_for
from markupsafe import Markup, escape

from app.staff.login import configure_cookies, csrf_token, current_user
from app.staff.roles import has_role, role_label

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation, shown to ``roles`` (nea_admin sees every link)."""

    label: str
    endpoint: str
    roles: tuple[str, ...]


NAV: list[NavItem] = [
    NavItem("Cases", "console.inbox", ("consular_officer",)),
    NavItem("People", "console.people", ("consular_officer",)),
    NavItem("Agencies", "console.agencies", ("nea_officer",)),
    NavItem("Listing review", "console.listing_queue", ("nea_officer",)),
    NavItem("Irregular", "console.worklists", ("nea_officer", "consular_officer")),
    NavItem("Partner events", "console.partner_events", ("nea_officer",)),
    NavItem("Safeguarding", "console.safeguarding", ("nea_officer",)),
    NavItem("Analytics", "analytics.index", ("analyst", "nea_officer", "consular_officer")),
    NavItem("Audit log", "console.audit_log", ()),
    NavItem("Phone simulator", "simulator.phone", ()),
]
"""The console's top navigation; links to endpoints that don't exist are left out."""


def console_nav() -> list[dict]:
    """Give the navigation links the signed-in user may follow."""
    from flask import current_app

    user = current_user()
    if user is None:
        return []
    endpoints = current_app.view_functions
    items = []
    for item in NAV:
        if item.endpoint not in endpoints:
            continue
        if user.role != "nea_admin" and user.role not in item.roles:
            continue
        if item.endpoint == "simulator.phone" and not _simulator_open(user):
            continue
        url = url_for(item.endpoint)
        items.append({"label": item.label, "url": url,
                      "current": request.path == url or request.path.startswith(url + "/")})
    return items


def _simulator_open(user) -> bool:
    from app.console.simulator import allowed

    return allowed(user)


ERRORS = {
    400: ("The request was refused", "The form has expired or did not come from this site. "
                                     "Go back, reload the page and try again."),
    403: ("Not for your role", "Your account's role does not open this page. Ask an NEA "
                               "administrator if you need it."),
    404: ("Not found", "There is no such record, or it is not one you may see."),
}
"""Console error pages: plain words, no detail of what exists."""


def _error_page(exc):
    from flask import render_template

    title, message = ERRORS.get(exc.code, (exc.name, exc.description))
    if exc.code == 400 and exc.description and "form" not in exc.description:
        message = exc.description
    return render_template("error.html", title=title, message=message), exc.code


for _code in ERRORS:
    bp.register_error_handler(_code, _error_page)


def csrf_field() -> Markup:
    """Give the hidden CSRF input every console form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(csrf_token()))


def register(app: Flask) -> None:
    """Attach the console, analytics and the phone simulator to ``app``."""
    # Imported here, not above: each page file imports ``bp`` from this package.
    from app.console import (  # noqa: F401 - routes on ``bp``
        accounts,
        analytics,
        audit_log,
        cases,
        people,
        registers,
        simulator,
    )

    configure_cookies(app)
    app.register_blueprint(bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(simulator.bp)
    app.jinja_env.globals.update(
        current_user=current_user, csrf_field=csrf_field, csrf_token=csrf_token,
        console_nav=console_nav, has_role=has_role, role_label=role_label,
    )
