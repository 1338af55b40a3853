"""``kazi agencies issue-key``: one key, printed once, only its hash stored."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.models import AgencyApiKey
from tests.agencies.helpers import add, row


def test_issue_key_prints_the_key_once_and_stores_its_hash(runner, svc):
    add(svc, row())
    result = runner.invoke(args=["agencies", "issue-key", "nea/pea/2024/1"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("api_key=")
    key = lines[0].removeprefix("api_key=")
    with svc.db.Session() as session:
        stored = session.scalars(select(AgencyApiKey)).all()
    assert len(stored) == 1
    assert stored[0].key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (stored[0].prefix + stored[0].key_hash)[len(stored[0].prefix):]


def test_issue_key_for_an_unknown_licence_fails(runner, svc):
    result = runner.invoke(args=["agencies", "issue-key", "NEA/PEA/2024/0999"])
    assert result.exit_code != 0 and "api_key=" not in result.output
