"""``kazi partners add``: prints partner_id and secret once, each on its own line."""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import select

from app.models import Partner
from app.partners.signing import signed_headers


def test_partners_add_prints_the_id_and_secret_once(svc, runner, client):
    result = runner.invoke(args=["partners", "add", "--name", "Immigration JKIA",
                                 "--kind", "immigration"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"partner_id=\d+", lines[0])
    assert re.fullmatch(r"secret=[0-9a-f]{64}", lines[1])
    partner_id, secret = lines[0].split("=", 1)[1], lines[1].split("=", 1)[1]
    with svc.db.Session() as session:
        partner = session.get(Partner, int(partner_id))
        assert (partner.name, partner.kind, partner.active) == ("Immigration JKIA",
                                                                "immigration", True)
        assert secret.encode() not in partner.secret_enc  # stored encrypted
        assert svc.cipher.decrypt(partner.secret_enc) == secret
    # The printed pair signs requests the API accepts.
    body = json.dumps({"id": "evt-1", "type": "immigration.arrival",
                       "occurred_at": "2026-01-01T00:00:00Z",
                       "person": {"national_id": "12345678"}}).encode()
    response = client.post("/api/v1/events", data=body,
                           headers=signed_headers(partner_id, secret, body, int(time.time())))
    assert response.status_code == 202, response.get_json()
    listed = runner.invoke(args=["partners", "list"])
    assert "Immigration JKIA" in listed.output and secret not in listed.output


def test_partners_add_refuses_an_unknown_kind(svc, runner):
    result = runner.invoke(args=["partners", "add", "--name", "X", "--kind", "army"])
    assert result.exit_code != 0
    with svc.db.Session() as session:
        assert session.scalars(select(Partner)).all() == []


def test_partners_add_needs_a_name(svc, runner):
    result = runner.invoke(args=["partners", "add", "--name", "  ", "--kind", "police"])
    assert result.exit_code != 0 and "name" in result.output
