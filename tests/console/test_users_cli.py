"""``kazi users create|link|key|deactivate``."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import AuditEntry, StaffApiKey, User


def account(svc, email: str) -> User | None:
    with svc.db.Session() as session:
        return session.scalar(select(User).where(User.email == email))


def test_create_prints_a_one_time_link_that_sets_the_password(runner, client, svc):
    result = runner.invoke(args=["users", "create", "--email", "Jane@NEA.go.ke",
                                 "--role", "nea_officer"])
    assert result.exit_code == 0, result.output
    assert "created: jane@nea.go.ke, nea_officer" in result.output
    link = re.search(r"(/console/set-password/\S+)", result.output).group(1)
    created = account(svc, "jane@nea.go.ke")
    assert created.password_hash is None and created.role == "nea_officer"
    page = client.get(link)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    client.post(link, data={"csrf_token": token, "password": "a long pass phrase",
                            "confirm": "a long pass phrase"})
    assert account(svc, "jane@nea.go.ke").password_hash.startswith("$argon2id$")
    with svc.db.Session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry.actor == "cli" and entry.details == {"role": "nea_officer", "mission": None}


def test_a_consular_officer_joins_the_mission_of_the_country(runner, svc):
    result = runner.invoke(args=["users", "create", "--email", "jed@mfa.go.ke",
                                 "--role", "consular_officer", "--country", "qa"])
    assert result.exit_code == 0, result.output
    assert "KE-DOH" in result.output
    assert account(svc, "jed@mfa.go.ke").mission_code == "KE-DOH"
    hq = runner.invoke(args=["users", "create", "--email", "hq@mfa.go.ke",
                             "--role", "consular_officer", "--country", "KE"])
    assert hq.exit_code == 0 and account(svc, "hq@mfa.go.ke").mission_code == "HQ"


def test_password_from_stdin(runner, svc):
    result = runner.invoke(args=["users", "create", "--email", "a@nea.go.ke", "--role",
                                 "analyst", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0 and "password set" in result.output
    assert "set-password" not in result.output
    assert account(svc, "a@nea.go.ke").password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "consular_officer"], "needs --country"),
    (["--role", "consular_officer", "--country", "XX"], "unknown country"),
    (["--role", "analyst", "--country", "SA"], "consular officers only"),
    (["--role", "superuser"], "Invalid value for '--role'"),
])
def test_create_refuses_bad_input(runner, svc, args, message):
    result = runner.invoke(args=["users", "create", "--email", "x@nea.go.ke", *args])
    assert result.exit_code != 0 and message in result.output
    assert account(svc, "x@nea.go.ke") is None


def test_create_refuses_a_short_password_and_a_second_account(runner, svc):
    short = runner.invoke(args=["users", "create", "--email", "s@nea.go.ke", "--role",
                                "analyst", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    runner.invoke(args=["users", "create", "--email", "s@nea.go.ke", "--role", "analyst"])
    again = runner.invoke(args=["users", "create", "--email", "s@nea.go.ke", "--role",
                                "analyst"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_key_link_and_deactivate(runner, svc, client):
    runner.invoke(args=["users", "create", "--email", "k@mfa.go.ke", "--role",
                        "consular_officer", "--country", "SA"])
    key = runner.invoke(args=["users", "key", "--email", "k@mfa.go.ke"]).output.strip()
    assert key.startswith("api_key=kzs_")
    with svc.db.Session() as session:
        stored = session.scalar(select(StaffApiKey))
    assert key.removeprefix("api_key=") not in stored.key_hash
    headers = {"Authorization": f"Bearer {key.removeprefix('api_key=')}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    link = runner.invoke(args=["users", "link", "--email", "k@mfa.go.ke",
                               "--base-url", "https://kazi.example/"]).output.strip()
    assert link.startswith("https://kazi.example/console/set-password/")
    done = runner.invoke(args=["users", "deactivate", "--email", "k@mfa.go.ke"])
    assert done.exit_code == 0 and account(svc, "k@mfa.go.ke").active is False
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert runner.invoke(args=["users", "key", "--email", "no@x.ke"]).exit_code != 0
