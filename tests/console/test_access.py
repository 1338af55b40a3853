"""Who may open what: every console route for every role, as one table.

Anonymous visitors are sent to the login page (302); a role without the right
gets 403; a record outside a consular officer's mission is 404, as if it did not
exist. POSTs carry a valid CSRF token, so only the role decides.
"""

from __future__ import annotations

import pytest

from app.console.analytics import ROLES as ANALYTICS_ROLES

ROLES = ("anonymous", "nea_admin", "nea_officer", "consular_officer", "analyst")


def row(anonymous, nea_admin, nea_officer, consular_officer, analyst):
    return dict(zip(ROLES, (anonymous, nea_admin, nea_officer, consular_officer, analyst),
                    strict=True))


CASES = row(302, 200, 403, 200, 403)
REGISTERS = row(302, 200, 200, 403, 403)
ACTION = row(302, 303, 403, 303, 403)
REVIEW = row(302, 303, 303, 403, 403)

TABLE: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/console/", row(302, 302, 302, 302, 302)),
    ("GET", "/console/login", row(200, 302, 302, 302, 302)),
    ("POST", "/console/logout", row(302, 302, 302, 302, 302)),
    ("GET", "/console/cases", CASES),
    ("GET", "/console/cases?status=all&severity=high&age=1h&country=SA", CASES),
    ("GET", "/console/cases/{riyadh_case}", CASES),
    ("GET", "/console/cases/{doha_case}", row(302, 200, 403, 404, 403)),
    ("POST", "/console/cases/{riyadh_case}/ack", ACTION),
    ("POST", "/console/cases/{riyadh_case}/note", ACTION),
    ("POST", "/console/cases/{riyadh_case}/close", ACTION),
    ("POST", "/console/cases/{riyadh_case}/sms", ACTION),
    ("POST", "/console/cases/{riyadh_case}/reassign", ACTION),
    ("POST", "/console/cases/{doha_case}/ack", row(302, 303, 403, 404, 403)),
    ("POST", "/console/cases/{riyadh_case}/delete", row(302, 404, 403, 404, 403)),
    ("GET", "/console/people", CASES),
    ("GET", "/console/people?q=KS", CASES),
    ("GET", "/console/people/{person_id}", CASES),
    ("GET", "/console/people/{doha_person_id}", row(302, 200, 403, 404, 403)),
    ("GET", "/console/agencies", REGISTERS),
    ("GET", "/console/agencies/{agency_id}", REGISTERS),
    ("GET", "/console/listings/review", REGISTERS),
    ("POST", "/console/listings/{listing_code}/review", REVIEW),
    ("GET", "/console/worklists", row(302, 200, 200, 200, 403)),
    ("GET", "/console/partner-events", REGISTERS),
    ("GET", "/console/safeguarding", REGISTERS),
    ("GET", "/console/audit", row(302, 200, 403, 403, 403)),
    ("GET", "/console/analytics",
     {role: 302 if role == "anonymous" else
      200 if role == "nea_admin" or role in ANALYTICS_ROLES else 403 for role in ROLES}),
    # Development mode: the simulator is open to anyone (production: see test_simulator).
    ("GET", "/simulator", row(200, 200, 200, 200, 200)),
    ("GET", "/simulator/inbox", row(200, 200, 200, 200, 200)),
    ("POST", "/simulator/ussd", row(200, 200, 200, 200, 200)),
    ("POST", "/simulator/sms", row(200, 200, 200, 200, 200)),
]

FORMS = {
    "note": {"text": "Called the employer."},
    "close": {"text": "Wages paid; passport returned."},
    # The case's "SMS the reporter" and the simulator's "SMS to the service" share a name.
    "sms": {"text": "We are calling you today.", "nonce": "n1",
            "phoneNumber": "+254712345678", "message": "JOB ABC123"},
    "reassign": {"mission_code": "HQ"},
    "review": {"decision": "approve", "reason": "Checked with the employer."},
    "ussd": {"phoneNumber": "+254712345678", "action": "dial"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "expected"), TABLE,
                         ids=[f"{m} {p}" for m, p, _ in TABLE])
def test_route_by_role(console, world, role, method, path, expected):
    user = console(None if role == "anonymous" else role)
    url = path.format(**vars(world))
    if method == "GET":
        response = user.get(url)
    else:
        response = user.post(url, FORMS.get(url.rsplit("/", 1)[-1], {}))
    assert response.status_code == expected[role], (role, method, url)
    if expected[role] == 302 and role == "anonymous" and "/simulator" not in url:
        assert "/console/login" in response.location


def test_the_table_covers_every_console_route(app):
    """A new route must get a row: the table fails until someone decides who may use it."""
    covered = {path.split("?")[0] for _, path, _ in TABLE}
    templates = {
        "/console/cases/<ref>": "/console/cases/{riyadh_case}",
        "/console/cases/<ref>/<action>": "/console/cases/{riyadh_case}/ack",
        "/console/people/<int:person_id>": "/console/people/{person_id}",
        "/console/agencies/<int:agency_id>": "/console/agencies/{agency_id}",
        "/console/listings/<code>/review": "/console/listings/{listing_code}/review",
    }
    public = {"/console/set-password/<token>", "/console/static/<path:filename>"}
    missing = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith(("/console", "/simulator")) or path in public:
            continue
        if path.startswith("/console/analytics/"):
            continue  # exports: covered by the analytics tests
        if templates.get(path, path) not in covered:
            missing.append(path)
    assert missing == []


@pytest.mark.parametrize("role", ["nea_officer", "consular_officer", "analyst"])
def test_only_nea_admin_opens_the_simulator_in_production(app, console, role):
    app.config["KAZI_ENV"] = "production"
    assert console(None).get("/simulator").status_code == 302
    assert console(role).get("/simulator").status_code == 403
    assert console(role).post("/simulator/ussd", FORMS["ussd"]).status_code == 403
    assert console("nea_admin").get("/simulator").status_code == 200
