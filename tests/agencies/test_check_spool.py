"""USSD agency checks: answered from memory, recorded through Redis, stored by a drain."""

from __future__ import annotations

import dataclasses
import json

import pytest
from redis import Redis
from sqlalchemy import select

from app.agencies import checks
from app.agencies.checks import CHECKS_KEY, TAKING_KEY, drain_checks, seal_check
from app.agencies.search import current_index
from app.models import AgencyCheck
from tests.agencies.helpers import add, agency_named, count, days, row
from workers.reconcile import reconcile

A, B = "+254712345678", "+254722000111"
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


def test_an_sms_check_redis_refuses_is_still_answered_and_recorded(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    cut_off = dataclasses.replace(svc, redis=dead_redis())
    with svc.db.session() as session:
        result, rule = checks.check(cut_off, session, agency_id, A, "sms")
    assert (result.name, result.status, rule) == ("Savanna Recruitment Agency Ltd", "valid", 0)
    with svc.db.Session() as session:
        stored = session.scalar(select(AgencyCheck))
    assert (stored.agency_id, stored.phone, stored.channel) == (agency_id, A, "sms")


def test_a_ussd_check_is_recorded_only_with_the_reply_it_saved(svc, client):
    """A hop that loses its save (Redis gone) shows "busy", and records nothing."""
    add(svc, SAVANNA)
    form = {"sessionId": "ATUid_spool", "phoneNumber": A, "serviceCode": "*384*55#"}
    assert client.post("/ussd", data={**form, "text": ""}).status_code == 200
    client.post("/ussd", data={**form, "text": "1"})
    screen = client.post("/ussd", data={**form, "text": "1*3"}).get_data(as_text=True)
    assert screen.startswith("CON Check an agency")
    sessions = client.application.extensions["kazi.sessions"]
    saving = sessions._cas
    # The load still works; the save (and the writes riding on it) cannot reach Redis.
    unreachable = dead_redis().register_script(saving.script)
    sessions._cas = lambda keys, args, client=None: unreachable(keys=keys, args=args)
    try:
        busy = client.post("/ussd", data={**form, "text": "1*3*savanna"})
    finally:
        sessions._cas = saving
    assert busy.get_data(as_text=True).startswith("END Sorry, Kazi Salama is busy")
    assert svc.redis.llen(CHECKS_KEY) == 0 and svc.redis.get(checks.rule_key(svc, A)) is None
    answer = client.post("/ussd", data={**form, "text": "1*3*savanna"}).get_data(as_text=True)
    assert answer.startswith("CON Savanna Recruitment Agency\nVALID")
    assert svc.redis.llen(CHECKS_KEY) == 1 and svc.redis.get(checks.rule_key(svc, A)) == b"1"
    assert drain_checks(svc) == 1 and count(svc, AgencyCheck) == 1


def test_an_sms_check_goes_straight_to_sql(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    with svc.db.session() as session:
        checks.check(svc, session, agency_id, A, "sms")
    assert count(svc, AgencyCheck) == 1 and svc.redis.llen(CHECKS_KEY) == 0
    assert svc.redis.get(checks.rule_key(svc, A)) == b"1"


def test_a_batch_a_killed_drain_took_is_stored_by_the_next(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    # A drain moved this batch to "taking" and died before its commit.
    svc.redis.rpush(TAKING_KEY, seal_check(svc, agency_id, A, "ussd"))
    svc.redis.rpush(CHECKS_KEY, seal_check(svc, agency_id, B, "ussd"),
                    seal_check(svc, 424_242, B, "ussd"),  # an agency that is gone
                    b"not a sealed check")
    assert drain_checks(svc, batch=2) == 2
    with svc.db.Session() as session:
        stored = session.execute(select(AgencyCheck.phone, AgencyCheck.agency_id)
                                 .order_by(AgencyCheck.id)).all()
    assert [tuple(r) for r in stored] == [(A, agency_id), (B, agency_id)]
    assert svc.redis.llen(CHECKS_KEY) == 0 and svc.redis.llen(TAKING_KEY) == 0


def test_a_check_keeps_the_moment_it_was_made(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    sealed = seal_check(svc, agency_id, A, "ussd")
    item = json.loads(checks.spool_cipher(svc).open(sealed))
    item["t"] -= 86400 * 10  # made ten days ago, stored now
    svc.redis.rpush(CHECKS_KEY, checks.spool_cipher(svc).seal(json.dumps(item).encode()))
    drain_checks(svc)
    with svc.db.Session() as session:
        checked_at = session.scalar(select(AgencyCheck.checked_at))
    assert abs(checked_at.timestamp() - item["t"]) < 1


def test_only_one_drain_runs_at_a_time(svc):
    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    svc.redis.rpush(CHECKS_KEY, seal_check(svc, agency_id, A, "ussd"))
    svc.redis.set(checks.DRAIN_LOCK, "another drain")
    assert drain_checks(svc) == 0 and svc.redis.llen(CHECKS_KEY) == 1
    svc.redis.delete(checks.DRAIN_LOCK)
    assert drain_checks(svc) == 1


def test_the_reconciler_stores_waiting_checks_every_minute(svc, phone):
    add(svc, SAVANNA)
    p = phone(A)
    p.dial()
    p.send("1")
    p.send("3")  # Check an agency
    assert p.send("savanna").startswith("CON Savanna Recruitment Agency\nVALID")
    assert count(svc, AgencyCheck) == 0
    assert reconcile()["agency_checks"] == 1
    assert count(svc, AgencyCheck) == 1


def test_a_check_sealed_before_a_key_rotation_is_stored_after_it(svc):
    from app.crypto import SpoolCipher, new_key

    add(svc, SAVANNA)
    agency_id = agency_named(svc, "Savanna Recruitment Agency Ltd").id
    sealed = seal_check(svc, agency_id, A, "ussd")
    assert A.encode() not in sealed
    old = list(svc.config["PII_KEYS"])
    rotated = SpoolCipher([new_key(), *old])  # a new first key; the old one still opens
    assert json.loads(rotated.open(sealed))["p"] == A
    gone = SpoolCipher([new_key()])
    with pytest.raises(ValueError):
        gone.open(sealed)
