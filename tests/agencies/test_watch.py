"""app/agencies/watch.py: the daily licence watch expires, records and warns exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.agencies import watch
from app.db import utcnow
from app.models import AgencyCheck, Contact, Licence, LicenceChange, Message
from app.schedule import SCHEDULE
from tests.agencies.helpers import add, count, days, licence, row, run_import, write
from workers.licences import licence_watch

SAVANNA = row("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd", "valid", days(5))
GULF = row("NEA/PEA/2024/0002", "Gulf Star Manpower Services Ltd", "valid", days(300))
A, B, C, D = "+254712345678", "+254722000111", "+254733000222", "+254711000333"


def checked(svc, licence_no: str, phone: str, days_ago: float, lang: str | None = None) -> None:
    with svc.db.session() as session:
        agency_id = session.scalar(select(Licence.agency_id)
                                   .where(Licence.licence_no == licence_no))
        session.add(AgencyCheck(agency_id=agency_id, phone=phone, channel="ussd",
                                checked_at=utcnow() - timedelta(days=days_ago)))
        if lang and not session.scalar(select(Contact).where(Contact.phone == phone)):
            session.add(Contact(phone=phone, lang=lang))


def warnings(svc) -> list[Message]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Message).where(Message.kind == "licence_warning")
                                    .order_by(Message.to_phone)))


@pytest.fixture
def register(svc):
    add(svc, SAVANNA, GULF)
    checked(svc, "NEA/PEA/2024/0001", A, 10, "sw")
    checked(svc, "NEA/PEA/2024/0001", A, 3)  # twice: still one warning
    checked(svc, "NEA/PEA/2024/0001", B, 89)
    checked(svc, "NEA/PEA/2024/0001", C, 91)  # too long ago
    checked(svc, "NEA/PEA/2024/0002", D, 1)  # another agency


def test_the_watch_expires_a_lapsed_licence_and_warns_once(svc, work, at_api, register):
    first = licence_watch(as_of=days(10))
    assert first == {"expired": 1, "changes": 1, "warnings": 2, "held": 0}
    stored = licence(svc, "NEA/PEA/2024/0001")
    assert (stored.status, stored.register_status) == ("expired", "valid")
    assert licence(svc, "NEA/PEA/2024/0002").status == "valid"
    with svc.db.Session() as session:
        change = session.scalars(select(LicenceChange).order_by(LicenceChange.id.desc())).first()
    assert (change.old_status, change.new_status, change.source) == ("valid", "expired",
                                                                     "licence-watch")
    assert change.warned_at is not None
    sent = warnings(svc)
    assert [m.to_phone for m in sent] == [A, B]
    assert sent[0].body.startswith("Kazi Salama ONYO: leseni ya Savanna Recruitment Agency "
                                   "(NEA/PEA/2024/0001), uliyemkagua, ILIISHA")
    assert sent[1].body.startswith("Kazi Salama WARNING: the licence of Savanna Recruitment "
                                   "Agency (NEA/PEA/2024/0001), which you checked, EXPIRED on")
    assert all(len(m.body) <= 160 and m.queue == "default" for m in sent)
    assert sent[0].dedupe_key == f"licence-warn:{change.id}:{A}"
    work()
    assert sorted(number for number, _body, _id in at_api.sent) == [A, B]
    again = licence_watch(as_of=days(10))
    assert again == {"expired": 0, "changes": 0, "warnings": 0, "held": 0}
    work()
    assert len(warnings(svc)) == 2 and len(at_api.sent) == 2


def test_a_change_learned_from_an_import_is_warned_by_the_watch_once(svc, runner, tmp_path,
                                                                     work, at_api, register):
    licence_watch()  # the first appearances need no warning
    assert warnings(svc) == []
    suspended = [row(*SAVANNA[:2], "suspended", SAVANNA[3]), GULF]
    result = run_import(runner, write(tmp_path, suspended))
    assert "(status changes: 1)" in result.output
    work()  # the import asked for a watch run, which warned and the SMS went out
    assert [m.to_phone for m in warnings(svc)] == [A, B]
    assert "IMESIMAMISHWA" in warnings(svc)[0].body
    assert "is now SUSPENDED" in warnings(svc)[1].body
    assert len(at_api.sent) == 2
    assert licence_watch()["warnings"] == 0
    run_import(runner, write(tmp_path, suspended))  # the same file again: nothing new
    work()
    assert len(at_api.sent) == 2


def test_a_ussd_check_is_warned_too(svc, phone, work, at_api):
    add(svc, SAVANNA, GULF)
    p = phone("+254700123456")
    p.dial()
    p.send("1")  # English
    assert p.send("3").startswith("CON Check an agency")
    assert p.send("savanna").startswith("CON Savanna Recruitment Agency\nVALID")
    assert count(svc, AgencyCheck) == 1  # recorded by the hop
    assert licence_watch(as_of=days(10))["warnings"] == 1
    [warning] = warnings(svc)
    assert warning.to_phone == "+254700123456"
    assert warning.body.startswith("Kazi Salama WARNING: the licence of Savanna Recruitment")
    work()
    assert [number for number, _body, _id in at_api.sent] == ["+254700123456"]


def test_people_who_checked_after_the_change_are_not_warned(svc, register):
    licence_watch()
    add(svc, SAVANNA, row(*GULF[:2], "revoked", GULF[3]))
    checked(svc, "NEA/PEA/2024/0002", B, 0)  # told "revoked" already, by the check itself
    licence_watch()
    assert [m.to_phone for m in warnings(svc)] == [D]  # B checked after it was revoked


def test_a_licence_valid_again_warns_nobody(svc, register):
    add(svc, row(*SAVANNA[:2], "suspended", SAVANNA[3]), GULF)
    licence_watch()
    before = len(warnings(svc))
    add(svc, SAVANNA, GULF, source="reinstated.csv")
    assert licence_watch()["warnings"] == 0
    assert len(warnings(svc)) == before
    assert count(svc, LicenceChange, LicenceChange.warned_at.is_(None)) == 0


def test_open_listings_of_the_agency_are_held(svc, register):
    listing_model = pytest.importorskip("app.models.listing")
    agency_id = licence(svc, "NEA/PEA/2024/0001").agency_id
    with svc.db.session() as session:
        for code, status in (("K7MZQ2", "approved"), ("K7MZQ3", "pending"),
                             ("K7MZQ4", "rejected")):
            session.add(listing_model.JobListing(code=code, agency_id=agency_id,
                                                 title="House help",
                                                 occupation="domestic_worker", status=status,
                                                 payload={}))
    assert licence_watch(as_of=days(10))["held"] == 2
    with svc.db.Session() as session:
        statuses = dict(session.execute(select(listing_model.JobListing.code,
                                               listing_model.JobListing.status)).all())
    assert statuses["K7MZQ4"] == "rejected"
    assert statuses["K7MZQ2"] == statuses["K7MZQ3"] != "approved"


def test_the_watch_is_scheduled_daily():
    (entry,) = [e for e in SCHEDULE if e.func == "workers.licences.licence_watch"]
    assert entry.cron == "0 7 * * *" and entry.queue == "default"
