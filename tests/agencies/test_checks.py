"""app/agencies/checks.py: answers, reports, risk signals and SMS texts that fit one SMS."""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from datetime import date

import pytest
from redis import Redis
from sqlalchemy import select

from app.agencies import checks
from app.agencies.index import Match, current_index
from app.i18n import LANGUAGES, translate
from app.models import Agency, AgencyCheck, AgencyComplaint
from app.sms.gsm import is_gsm7, septets
from tests.agencies.helpers import add, agency_named, count, days, row

LONG = "Bartholomew Kipchirchir Overseas Recruitment Agency International Ltd"


def answer(status: str, complaints: int = 1234, name: str = LONG) -> checks.Answer:
    return checks.Answer(1, name, "NEA/PEA/2024/1234", status, status, date(2026, 12, 31),
                         date(2026, 11, 24), complaints)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("status", ["valid", "suspended", "revoked", "expired"])
def test_every_sms_answer_fits_one_sms_and_keeps_the_warning(lang, status):
    for rule in range(3):
        key, values = checks.sms_answer(lang, answer(status), rule)
        text = translate(lang, key, **values)
        assert septets(text) <= 160 and is_gsm7(text), text
        assert checks.status_text(lang, status, "2026-12-31") in text
        assert checks.rule_text(lang, rule) in text
        assert text.startswith("Bartholomew")
    short = translate(lang, *checks.sms_answer(lang, answer(status, 3, "Amani Ltd"), 0)[:1],
                      **checks.sms_answer(lang, answer(status, 3, "Amani Ltd"), 0)[1])
    assert "Amani NEA/PEA/2024/1234:" in short  # the licence number whenever it fits


@pytest.mark.parametrize("lang", LANGUAGES)
def test_not_found_and_lists_fit_one_sms(lang):
    for rule in range(3):
        key, values = checks.sms_not_found(lang, "x" * 60, date(2026, 11, 24), rule)
        assert septets(translate(lang, key, **values)) <= 160
    matches = [Match(n, LONG, f"NEA/PEA/2024/{n:04d}", "valid", None, 1.0) for n in range(12)]
    key, values = checks.sms_several(lang, matches, 12)
    text = translate(lang, key, **values)
    assert septets(text) <= 160 and "2024/0000" in text, text


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("status", ["suspended", "revoked", "expired"])
def test_every_licence_warning_fits_one_sms(lang, status):
    text = checks.sms_warning(lang, status, LONG, "NEA/PEA/2024/1234", date(2026, 12, 31),
                              "*384*2026#")
    assert septets(text) <= 160 and is_gsm7(text), text
    assert "NEA/PEA/2024/1234" in text and "*384*2026#" in text


def test_a_report_is_filed_once_and_counted_on_the_agency(svc):
    add(svc, row())
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    with svc.db.session() as session:
        first = checks.report(session, agency_id, "+254712345678", "fee", "ussd", "ref-1")
        again = checks.report(session, agency_id, "+254712345678", "fee", "ussd", "ref-1")
        other = checks.report(session, agency_id, None, "passport", "sms", "ref-2")
        assert first is again and other is not first
        assert checks.report(session, 999_999, None, "fee", "ussd", "ref-3") is None
        with pytest.raises(ValueError):
            checks.report(session, agency_id, None, "bribe", "ussd", "ref-4")
    assert count(svc, AgencyComplaint) == 2
    assert agency_named(svc, "Savanna Recruitment Agency Ltd").complaints_count == 2
    assert checks.complaint_ref(42) == "AC00042"


def test_risk_signals_come_from_the_agency_counters():
    agency = Agency(name="x", name_key="x", complaints_count=6, placements_count=200,
                    listings_total=40, listings_rejected=10, police_alerts=1)
    assert checks.risk(agency) == checks.Risk(6, 3.0, 0.25, 1)
    assert checks.risk(Agency(name="y", name_key="y")) == checks.Risk(0, None, None, 0)


def test_an_answer_applies_expiry_on_the_day_asked(svc):
    add(svc, row(expires_on=days(3)))
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    with svc.db.Session() as session:
        assert checks.answer(session, agency_id).status == "valid"
        later = checks.answer(session, agency_id, today=date.fromisoformat(days(4)))
        assert later.status == "expired" and later.register_status == "valid"
        assert checks.answer(session, 999_999) is None
        assert session.scalar(select(Agency.complaints_count)) == 0


def test_an_answer_as_session_data_has_every_field():
    data = answer("valid").as_data()
    assert set(data) == {f.name for f in fields(checks.Answer)}
    assert (data["expires_on"], data["register_updated"]) == ("2026-12-31", "2026-11-24")


A = "+254712345678"
SAVANNA = row("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd", "valid", days(100))


def dead_redis() -> Redis:
    """A real client on a port nobody listens on: every command fails as in an outage."""
    return Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)


def test_the_answer_from_memory_matches_the_answer_from_sql(svc):
    add(svc, SAVANNA, row("NEA/PEA/2023/0004", "Nuru Employment Agency Ltd", "valid", days(-3)))
    index = current_index(svc.db, svc.redis)
    with svc.db.Session() as session:
        for name in ("Savanna Recruitment Agency Ltd", "Nuru Employment Agency Ltd"):
            agency_id = agency_named(svc, name).id
            assert checks.indexed_answer(index, agency_id) == checks.answer(session, agency_id)
    assert checks.indexed_answer(index, 999_999) is None


def test_a_check_redis_refuses_is_still_answered_and_recorded(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    cut_off = dataclasses.replace(svc, redis=dead_redis())
    with svc.db.session() as session:
        result, rule = checks.check(cut_off, session, agency_id, A, "sms")
    assert (result.name, result.status, rule) == ("Savanna Recruitment Agency Ltd", "valid", 0)
    with svc.db.Session() as session:
        stored = session.scalar(select(AgencyCheck))
    assert (stored.agency_id, stored.phone, stored.channel) == (agency_id, A, "sms")


def test_a_check_goes_straight_to_sql(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    with svc.db.session() as session:
        checks.check(svc, session, agency_id, A, "sms")
    assert count(svc, AgencyCheck) == 1
    assert svc.redis.get(checks.rule_key(svc, A)) == b"1"
