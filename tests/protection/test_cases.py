"""app/protection/cases.py: ``open_case``, the one way in that other features call."""

from __future__ import annotations

import inspect

from sqlalchemy import select

from app.models import Case, CaseEvent
from app.protection import cases
from app.protection.cases import REF_ALPHABET, REF_LENGTH, open_case
from tests.protection.conftest import HQ_DUTY, RUH_DUTY, all_cases, messages, migrant, received

MIGRANT = "+254712345678"


def test_the_signature_other_features_rely_on() -> None:
    params = inspect.signature(open_case).parameters
    assert list(params)[:2] == ["session", "svc"]
    assert {name: p.default for name, p in params.items() if p.kind is p.KEYWORD_ONLY} == {
        "reporter_phone": inspect.Parameter.empty, "channel": inspect.Parameter.empty,
        "text": None, "category": None, "severity": None, "country": None,
        "subject_phone": None, "subject_name": None, "person_id": None,
        "placement_id": None, "lang": "en", "source_ref": inspect.Parameter.empty,
    }


def test_a_check_in_danger_case_is_critical_linked_and_sends_no_receipt(svc, work, at_api,
                                                                        roster) -> None:
    links = migrant(svc, MIGRANT, country="SA")
    with svc.db.session() as session:
        case = open_case(session, svc, reporter_phone=MIGRANT, channel="checkin",
                         text="Check-in reply 3: in danger", severity="critical",
                         country="SA", person_id=links["person"],
                         placement_id=links["placement"], lang="sw",
                         source_ref="checkin:1:3")
        ref = case.ref
    work()
    [case] = all_cases(svc)
    assert (case.ref, case.severity, case.channel, case.mission_code) == (
        ref, "critical", "checkin", "KE-RUH")
    assert (case.agency_id, case.employer_id) == (links["agency"], links["employer"])
    assert len(ref) == REF_LENGTH and set(ref) <= set(REF_ALPHABET)
    assert messages(svc, "case_received") == []  # the check-in dialogue says its own words
    assert len(received(at_api, RUH_DUTY[0])) == 1


def test_the_same_source_ref_is_a_replay(svc, roster) -> None:
    for _ in range(2):
        with svc.db.session() as session:
            open_case(session, svc, reporter_phone=MIGRANT, channel="sms", text="HELP",
                      source_ref="sms:77")
    assert len(all_cases(svc)) == 1
    with svc.db.Session() as session:
        assert session.scalars(select(CaseEvent.kind)).all() == ["opened", "alerted"]
    assert len(messages(svc, "officer_alert")) == 1  # HQ's duty officer, once


def test_two_missed_check_ins_open_a_normal_case_that_stays_normal(svc, roster) -> None:
    with svc.db.session() as session:
        open_case(session, svc, reporter_phone=MIGRANT, channel="checkin",
                  text="Two check-ins missed in a row", severity="normal", country="QA",
                  source_ref="checkin:9:missed")
    [case] = all_cases(svc)
    assert (case.severity, case.category, case.indicators) == ("normal", None, None)
    assert case.mission_code == "KE-DOH"


def test_a_lower_severity_never_lowers_what_the_words_say(svc, roster) -> None:
    with svc.db.session() as session:
        open_case(session, svc, reporter_phone=MIGRANT, channel="staff",
                  text="She says they beat her", severity="normal", source_ref="staff:1")
    [case] = all_cases(svc)
    assert (case.severity, case.category, case.mission_code) == ("critical", "abuse", "HQ")
    assert messages(svc, "officer_alert")[0].to_phone == HQ_DUTY


def test_references_are_unique_and_typed_forgivingly(svc) -> None:
    with svc.db.session() as session:
        refs = {cases.new_ref(session) for _ in range(200)}
        assert len(refs) == 200
        session.add(Case(ref="K7MZQ2", reporter_phone=MIGRANT, mission_code="HQ",
                         severity="high", channel="sms"))
        session.flush()
        assert cases.by_ref(session, " k7m-zq2 ").ref == "K7MZQ2"
        assert cases.by_ref(session, "K7MZQ") is None


def test_long_source_refs_fit_their_column() -> None:
    ref = "ussd:" + "x" * 200
    fitted = cases.fit_ref(ref)
    assert len(fitted) <= 100 and fitted.startswith("ussd:sha1:")
    assert cases.fit_ref(ref) == fitted and cases.fit_ref("sms:1") == "sms:1"
