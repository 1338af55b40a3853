"""The audit log: append-only in the database, readable by admins, fed by every sensitive read."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from app.models import AuditEntry
from app.staff.audit import audit


def entries(svc) -> list[AuditEntry]:
    with svc.db.Session() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_the_database_refuses_to_update_or_delete_an_entry(app, svc):
    audit("case.view", "case:ABC234", {"via": "test"})
    [entry] = entries(svc)
    for statement in (update(AuditEntry).values(action="case.nothing"),
                      delete(AuditEntry)):
        with pytest.raises(DatabaseError, match="append-only"):
            with svc.db.session() as session:
                session.execute(statement)
    [after] = entries(svc)
    assert (after.action, after.target) == ("case.view", "case:ABC234")


def test_truncate_is_refused_on_postgresql(app, svc):
    if svc.db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    audit("case.view", "case:ABC234")
    with pytest.raises(DatabaseError, match="append-only"):
        with svc.db.session() as session:
            session.execute(text("TRUNCATE audit_entries"))
    assert len(entries(svc)) == 1


def test_an_entry_says_who_what_when_and_from_where(console, world, svc):
    console("nea_admin").get(f"/console/cases/{world.riyadh_case}",
                             headers={"User-Agent": "MissionPC/1.0"},
                             environ_base={"REMOTE_ADDR": "10.1.2.3"})
    entry = [e for e in entries(svc) if e.action == "case.view"][0]
    assert entry.actor == "admin@nea.go.ke" and entry.role == "nea_admin"
    assert entry.user_id is not None and entry.at is not None
    assert (entry.ip, entry.user_agent) == ("10.1.2.3", "MissionPC/1.0")


def test_every_sensitive_read_is_audited(console, world, svc):
    reads = {
        f"/console/cases/{world.riyadh_case}": ("case.view", f"case:{world.riyadh_case}"),
        f"/console/people/{world.person_id}": ("person.view", f"person:{world.person_id}"),
        "/console/cases": ("cases.list", None),
        "/console/people": ("people.list", None),
        f"/console/agencies/{world.agency_id}": ("agency.view", f"agency:{world.agency_id}"),
        "/console/worklists": ("worklist.view", "mission:all"),
        "/console/partner-events": ("partner_events.list", None),
        "/console/listings/review": ("listings.review_queue", None),
        "/console/audit": ("audit.view", None),
    }
    admin = console("nea_admin")
    for path, (action, target) in reads.items():
        before = len(entries(svc))
        assert admin.get(path).status_code == 200
        new = entries(svc)[before:]
        assert [(e.action, e.target) for e in new] == [(action, target)], path


def test_admins_read_the_log_with_filters(console, world, svc):
    console("consular_officer").get(f"/console/cases/{world.riyadh_case}")
    admin = console("nea_admin")
    html = admin.get("/console/audit?action=case.").get_data(as_text=True)
    assert "ruh@mfa.go.ke" in html and f"case:{world.riyadh_case}" in html
    html = admin.get("/console/audit?actor=nobody@nea.go.ke").get_data(as_text=True)
    assert f"case:{world.riyadh_case}" not in html


def test_the_audit_page_has_no_way_to_change_an_entry(console, world):
    html = console("nea_admin").get("/console/audit").get_data(as_text=True)
    main = html.split('<main id="main">')[1]
    assert 'method="post"' not in main.split("</main>")[0]
