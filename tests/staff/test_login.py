"""Signing in (app/staff and the console's pages): argon2id, lockout, the address throttle,
CSRF, idle timeout, logout, one-time links, cookies."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import AuditEntry, User
from app.staff.accounts import password_token
from app.staff.login import IDLE_TIMEOUT
from tests.console.conftest import ACCOUNTS, PASSWORD, Console

ADMIN = ACCOUNTS["nea_admin"][0]


def user(svc, email: str) -> User:
    with svc.db.Session() as session:
        return session.scalar(select(User).where(User.email == email))


def actions(svc) -> list[str]:
    with svc.db.Session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_passwords_are_stored_as_argon2id(svc, staff):
    stored = user(svc, ADMIN).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_lands_on_the_role_home_and_is_audited(client, svc, staff):
    response = Console(client).login(ADMIN)
    assert response.status_code == 302 and response.location == "/console/"
    assert client.get("/console/").location == "/console/cases"
    assert client.get("/console/cases").status_code == 200
    assert "user.login" in actions(svc)


def test_login_goes_back_where_it_was_asked_but_never_off_site(client, staff):
    page = client.get("/console/people")
    assert page.location == "/console/login?next=/console/people"
    helper = Console(client)
    response = client.post("/console/login", data={
        "csrf_token": helper.csrf(), "email": ADMIN, "password": PASSWORD,
        "next": "/console/people"})
    assert response.location == "/console/people"
    helper.logout()
    response = client.post("/console/login", data={
        "csrf_token": helper.csrf(), "email": ADMIN, "password": PASSWORD,
        "next": "//evil.example/steal"})
    assert response.location == "/console/"


def test_a_wrong_password_is_refused_the_same_as_an_unknown_email(client, svc, staff):
    wrong = Console(client).login(ADMIN, "not the password at all")
    unknown = Console(client).login("nobody@nea.go.ke", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data(as_text=True) == unknown.get_data(as_text=True).replace(
        "nobody@nea.go.ke", ADMIN)
    assert actions(svc).count("user.login_failed") == 2


def test_five_failures_lock_the_account_for_fifteen_minutes(client, svc, staff):
    helper = Console(client)
    for _ in range(5):
        assert helper.login(ADMIN, "wrong password!").status_code == 401
    locked = user(svc, ADMIN)
    assert locked.locked_until is not None
    # Even the right password is refused while locked.
    assert helper.login(ADMIN).status_code == 401
    with svc.db.session() as session:
        session.get(User, locked.id).locked_until = utcnow() - timedelta(seconds=1)
    assert helper.login(ADMIN).status_code == 302
    assert user(svc, ADMIN).failed_logins == 0


def test_one_address_trying_many_accounts_is_made_to_wait(client, svc, staff):
    from app.staff.throttle import IP_FAILURES, IP_KEY

    helper = Console(client)
    for n in range(IP_FAILURES):  # spread over accounts: no account locks
        assert helper.login(f"guess{n}@nea.go.ke", "wrong password!").status_code == 401
    # Now even the right password from this address waits, and says so.
    refused = helper.login(ADMIN)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert user(svc, ADMIN).locked_until is None  # the account itself is not locked
    assert "user.login_throttled" in actions(svc)
    key = IP_KEY.format("127.0.0.1")
    assert 0 < svc.redis.ttl(key) <= 15 * 60
    svc.redis.delete(key)  # the window passed
    assert helper.login(ADMIN).status_code == 302


def test_a_right_password_resets_the_failure_count(client, svc, staff):
    helper = Console(client)
    for _ in range(4):
        helper.login(ADMIN, "wrong password!")
    assert helper.login(ADMIN).status_code == 302
    helper.logout()
    for _ in range(4):
        helper.login(ADMIN, "wrong password!")
    assert user(svc, ADMIN).locked_until is None


def test_forms_without_the_csrf_token_are_refused(console, world, svc):
    admin = console("nea_admin")
    for token in (None, "forged"):
        data = {"text": "x"} if token is None else {"text": "x", "csrf_token": token}
        response = admin.client.post(f"/console/cases/{world.riyadh_case}/note", data=data)
        assert response.status_code == 400
    assert "case.note" not in actions(svc)
    # The login form is protected too.
    response = Console(admin.client.application.test_client()).client.post(
        "/console/login", data={"email": ADMIN, "password": PASSWORD})
    assert response.status_code == 400


def test_csrf_token_is_per_session(console, world):
    admin, officer = console("nea_admin"), console("consular_officer")
    response = officer.client.post(f"/console/cases/{world.riyadh_case}/note",
                                   data={"text": "x", "csrf_token": admin.csrf()})
    assert response.status_code == 400


def test_thirty_idle_minutes_end_the_session(console):
    admin = console("nea_admin")
    assert admin.get("/console/cases").status_code == 200
    with admin.client.session_transaction() as session:
        session["seen"] = time.time() - IDLE_TIMEOUT - 1
    response = admin.get("/console/cases")
    assert response.status_code == 302 and "expired=1" in response.location
    assert admin.get("/console/cases").status_code == 302
    assert "without activity" in admin.get(response.location).get_data(as_text=True)


def test_activity_keeps_the_session_alive(console):
    admin = console("nea_admin")
    with admin.client.session_transaction() as session:
        session["seen"] = time.time() - IDLE_TIMEOUT + 60
    before = time.time()
    assert admin.get("/console/cases").status_code == 200
    with admin.client.session_transaction() as session:
        assert session["seen"] >= before  # moved to the time of that request


def test_logout_ends_every_session_of_the_user(console, app, svc):
    first = console("nea_admin")
    second = console("nea_admin")
    stolen = first.client.get_cookie("kazi_console").value
    assert first.logout().location == "/console/login"
    assert first.get("/console/cases").status_code == 302
    assert second.get("/console/cases").status_code == 302
    # The old cookie, replayed, opens nothing.
    replay = app.test_client()
    replay.set_cookie("kazi_console", stolen)
    assert replay.get("/console/cases").status_code == 302
    assert "user.logout" in actions(svc)


def test_a_deactivated_account_is_signed_out_at_once(console, svc):
    admin = console("nea_admin")
    with svc.db.session() as session:
        session.scalar(select(User).where(User.email == ADMIN)).active = False
    assert admin.get("/console/cases").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, staff):
    response = Console(client).login(ADMIN)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_in_production(config):
    from app import create_app

    production = create_app({**config, "KAZI_ENV": "production", "CALLBACK_TOKEN": "t"})
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    production.extensions["kazi"].db.dispose()
    production.extensions["kazi"].redis.close()


def test_the_set_password_link_works_once(app, client, svc, staff):
    with app.test_request_context():
        token = password_token(user(svc, ADMIN))
    link = f"/console/set-password/{token}"
    helper = Console(client)
    assert client.get(link).status_code == 200
    short = client.post(link, data={"csrf_token": helper.csrf(), "password": "short",
                                    "confirm": "short"})
    assert short.status_code == 422
    done = client.post(link, data={"csrf_token": helper.csrf(),
                                   "password": "a brand new passphrase",
                                   "confirm": "a brand new passphrase"})
    assert done.status_code == 302
    assert client.get(link).status_code == 404
    assert helper.login(ADMIN, "a brand new passphrase").status_code == 302
    assert "user.set_password" in actions(svc)


def test_the_set_password_link_expires_after_a_day(app, client, svc, staff, monkeypatch):
    with app.test_request_context():
        token = password_token(user(svc, ADMIN))
    later = time.time() + 24 * 3600 + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert client.get(f"/console/set-password/{token}").status_code == 404


def test_a_forged_link_is_refused(client, staff):
    assert client.get("/console/set-password/eyJ1IjoxfQ.forged.sig").status_code == 404
