"""SMS intake: HELP, SOS, MSAADA and their slips, from any number, escalated at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import features, keywords  # noqa: F401 - features wires every keyword
from app.db import utcnow
from app.i18n import translate
from app.models import Case, Contact, InboundSms, Message, Person, SmsDialogue
from app.protection import intake
from app.sms.gsm import is_gsm7
from app.sms.outbox import SEND_JOB
from tests.protection.conftest import (
    HQ_DUTY,
    HQ_SUPERVISOR,
    JED_DUTY,
    RUH_DUTY,
    all_cases,
    escalations,
    events,
    messages,
    migrant,
    only_case,
    received,
    sms,
)
from workers.inbound import handle_inbound

SAUDI = "+966512345678"
KENYAN = "+254712345678"
UKRAINE = "+380501234567"
RIYADH_DESK = (*RUH_DUTY, JED_DUTY)
"""Saudi Arabia is covered by Riyadh (primary) and Jeddah: both duty rosters hear first."""


# routing ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "HELP", "help", "Help!!", " help. ", "HELP me please", "HeLp!!!", "S.O.S", "s.o.s.",
    "S O S", "s-o-s they beat me", "SOS", "sos!", "S0S", "HLP", "HELLP", "HELPP", "Halp",
    "MSAADA", "msaada!", "Msaada, nisaidie", "MSADA", "MSAADAA", "SAIDIA", "Nisaidie",
    "HATARI", "danger",
])
def test_distress_words_reach_the_help_line(text) -> None:
    handler, _ = keywords.route(text)
    assert handler is intake.distress


@pytest.mark.parametrize(("text", "rest"), [("S.O.S they beat me", "they beat me"),
                                            ("H.E.L.P: locked in", "locked in")])
def test_a_spelled_out_keyword_keeps_the_words_after_it(text, rest) -> None:
    assert keywords.route(text) == (intake.distress, rest)


@pytest.mark.parametrize("text", ["non-stop", "I O U", "A.B.C", "helpful tips", "so so"])
def test_the_spelled_out_rule_does_not_catch_other_text(text) -> None:
    assert keywords.route(text)[0] is keywords.unknown


def test_typed_keyword_reads_the_first_word_as_typed() -> None:
    assert intake.typed_keyword("S.O.S now") == "SOS"
    assert intake.typed_keyword("msaada!! sasa") == "MSAADA"
    assert intake.typed_keyword("") == ""


# intake from abroad -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang", "severity"), [
    ("HELP", "en", "high"),
    ("help!!", "en", "high"),
    ("S.O.S", "en", "critical"),
    ("MSAADA", "sw", "high"),
    ("msada", "sw", "high"),
    ("Hatari!", "sw", "critical"),
])
def test_help_from_a_foreign_number_is_escalated_at_once(client, svc, work, at_api, roster,
                                                         text, lang, severity) -> None:
    sms(client, text, SAUDI)
    work()

    case = only_case(svc)
    assert (case.country, case.mission_code, case.channel) == ("SA", "KE-RUH", "sms")
    assert (case.severity, case.lang, case.status) == (severity, lang, "open")
    assert case.reporter_phone == SAUDI and case.reporter_is_subject is True
    for officer in RIYADH_DESK:
        [alert] = received(at_api, officer)
        assert alert.startswith(f"SOS {case.ref} {severity.upper()}:")
        assert "Saudi Arabia" in alert and SAUDI in alert and f"ACK {case.ref}" in alert
        assert len(alert) <= 160 and is_gsm7(alert)
    assert received(at_api, HQ_DUTY) == []  # headquarters only if nobody acknowledges
    receipt, question = received(at_api, SAUDI)
    assert receipt == translate(lang, "sms.case_received", case_ref=case.ref, help_desk="Riyadh")
    # The words said nothing: a short dialogue asks what happened (the country is known).
    assert question.startswith(translate(lang, "helpsms.category").split("\n")[0])
    assert escalations(svc, case.id) == [(0, "KE-RUH", "notified", 3)]
    assert events(svc, case.id) == ["opened", "alerted"]


def test_the_officers_hear_the_first_words_in_one_gsm7_sms(client, svc, work, at_api,
                                                          roster) -> None:
    words = ("HELP madam took my passport and she beats me every day, I am locked in the "
             "house in Riyadh \U0001F62D and I have not eaten since yesterday, please come")
    sms(client, words, SAUDI)
    work()

    case = only_case(svc)
    [alert] = received(at_api, RUH_DUTY[0])
    assert len(alert) <= 160 and is_gsm7(alert)
    assert '"HELP madam took my passport and she beats me' in alert
    assert "..." in alert  # cut to fit, never split into a second SMS
    assert (case.category, case.severity) == ("abuse", "critical")
    assert set(case.indicators.split(",")) >= {
        "physical_sexual_violence", "restriction_of_movement", "retention_of_documents"}
    assert case.first_text == words
    # Category and country are known: no dialogue, only the receipt.
    assert len(received(at_api, SAUDI)) == 1


def test_the_case_and_all_its_sms_commit_in_the_jobs_one_transaction(client, svc, roster,
                                                                     monkeypatch) -> None:
    sms(client, "HELP", SAUDI)
    with svc.db.Session() as session:
        inbound_id = session.scalar(select(InboundSms.id))

    def broken(*args, **kwargs):
        raise RuntimeError("dialogue store down")

    monkeypatch.setattr(intake.dialogues, "start", broken)
    with pytest.raises(RuntimeError):
        handle_inbound(inbound_id)
    # Nothing half-done: no case, no alert, the SMS still waits to be handled.
    assert all_cases(svc) == [] and messages(svc) == []
    monkeypatch.undo()

    assert handle_inbound(inbound_id) == "help"
    case = only_case(svc)
    # Before any worker runs: every SMS is in SQL, pending, and its job is queued.
    pending = messages(svc)
    assert {m.status for m in pending} == {"pending"}
    assert sorted(m.kind for m in pending) == [
        "case_received", "help_dialogue", "officer_alert", "officer_alert", "officer_alert"]
    assert [m.kind for m in pending][:3] == ["officer_alert"] * 3  # officers first
    sends = [job for job in svc.queues["critical"].jobs if job.func_name == SEND_JOB]
    assert sorted(job.args[0] for job in sends) == sorted(m.id for m in pending)
    assert case.next_escalation_at is not None


def test_a_duplicate_callback_is_a_no_op(client, svc, work, at_api, roster) -> None:
    sms(client, "SOS", SAUDI, at_id="ATXid_dup1")
    sms(client, "SOS", SAUDI, at_id="ATXid_dup1")
    work()
    sms(client, "SOS", SAUDI, at_id="ATXid_dup1")  # AT retrying after we answered
    work()

    with svc.db.Session() as session:
        assert session.scalar(select(func.count()).select_from(InboundSms)) == 1
    assert len(all_cases(svc)) == 1
    for officer in RIYADH_DESK:
        assert len(received(at_api, officer)) == 1
    assert len(received(at_api, SAUDI)) == 2  # the receipt and the dialogue's question


# country, mission, links ----------------------------------------------------------------


def test_a_kenyan_number_is_escalated_to_hq_then_the_dialogue_fills_the_case(
        client, svc, work, at_api, roster) -> None:
    sms(client, "Msaada", KENYAN)
    work()

    case = only_case(svc)
    assert (case.country, case.mission_code, case.category) == (None, "HQ", None)
    [hq_alert] = received(at_api, HQ_DUTY)
    assert "country unknown" in hq_alert
    assert received(at_api, RUH_DUTY[0]) == []
    receipt, question = received(at_api, KENYAN)
    assert "Nairobi" in receipt and receipt.startswith("Kazi Salama: tumepokea")
    assert question.startswith("Kuna nini?")

    sms(client, "wananipiga na wamechukua simu yangu", KENYAN)  # words, not a number
    work()

    case = only_case(svc)
    assert (case.category, case.severity) == ("abuse", "critical")
    assert {"physical_sexual_violence", "isolation"} <= set(case.indicators.split(","))
    [_, update] = received(at_api, HQ_DUTY)
    assert update.startswith(f"UPDATE {case.ref} now CRITICAL") and "wananipiga" in update
    assert received(at_api, KENYAN)[-1].startswith("Uko nchi gani?")

    sms(client, "Saudia", KENYAN)  # the Kiswahili name, typed
    work()

    case = only_case(svc)
    assert (case.country, case.mission_code, case.status) == ("SA", "KE-RUH", "open")
    for officer in RIYADH_DESK:
        [alert] = received(at_api, officer)
        assert alert.startswith(f"SOS {case.ref} CRITICAL: abuse/violence, Saudi Arabia")
    assert received(at_api, KENYAN)[-1] == translate("sw", "helpsms.saved", case_ref=case.ref)
    assert escalations(svc, case.id) == [(0, "HQ", "rerouted", 1), (0, "KE-RUH", "notified", 3)]
    assert events(svc, case.id) == ["opened", "alerted", "message", "category", "severity",
                                    "country", "rerouted", "alerted"]
    with svc.db.Session() as session:
        assert session.scalar(select(SmsDialogue)) is None  # finished


def test_a_number_answer_gives_the_category(client, svc, work, at_api, roster) -> None:
    sms(client, "HELP", SAUDI)
    work()
    sms(client, "9", SAUDI)  # not on the list: asked again, nothing changes
    work()
    assert only_case(svc).category is None
    assert received(at_api, SAUDI)[-1] == translate("en", "err.help_category")

    sms(client, "2", SAUDI)
    work()

    case = only_case(svc)
    assert (case.category, case.severity, case.indicators) == (
        "passport_held", "high", "retention_of_documents")
    assert received(at_api, SAUDI)[-1] == translate("en", "helpsms.saved", case_ref=case.ref)


def test_the_placement_gives_the_country_and_the_links(client, svc, work, at_api,
                                                       roster) -> None:
    links = migrant(svc, KENYAN, country="QA", lang="sw")
    sms(client, "HELP hawajanilipa mshahara", KENYAN)  # a Kenyan SIM roaming in Qatar
    work()

    case = only_case(svc)
    assert (case.country, case.mission_code, case.category) == ("QA", "KE-DOH", "unpaid_wages")
    assert (case.person_id, case.placement_id) == (links["person"], links["placement"])
    assert (case.agency_id, case.employer_id) == (links["agency"], links["employer"])
    assert case.lang == "sw"  # the person's language beats the keyword's
    # Doha has nobody on the roster: both its levels are skipped at once, HQ is told now.
    assert escalations(svc, case.id) == [(0, "KE-DOH", "skipped", 0),
                                         (1, "KE-DOH", "skipped", 0), (2, "HQ", "notified", 2)]
    # The first alert anyone gets reads as one, even at headquarters.
    assert received(at_api, HQ_DUTY)[0].startswith(f"SOS {case.ref} HIGH: unpaid wages, Qatar.")
    assert len(received(at_api, HQ_SUPERVISOR)) == 1
    assert len(received(at_api, KENYAN)) == 1  # category and country known: no dialogue


@pytest.mark.parametrize(("number", "country", "mission"), [
    (UKRAINE, "UA", "HQ"),            # no mission covers Ukraine: headquarters
    ("+97433123456", "QA", "KE-DOH"),
    ("+447400123456", "GB", "KE-LON"),
    ("+96550012345", "KW", "KE-KWI"),
    ("+97336001234", "BH", "KE-KWI"),  # Kuwait covers Bahrain
])
def test_the_number_routes_to_the_covering_mission(client, svc, work, number, country,
                                                   mission) -> None:
    sms(client, "SOS", number)
    work()
    case = only_case(svc)
    assert (case.country, case.mission_code) == (country, mission)


def test_an_uncovered_country_is_alerted_at_headquarters(client, svc, work, at_api,
                                                         roster) -> None:
    sms(client, "SOS they took us to the front line", UKRAINE)
    work()

    case = only_case(svc)
    assert (case.mission_code, case.category, case.severity) == ("HQ", "forced_work",
                                                                 "critical")
    [alert] = received(at_api, HQ_DUTY)
    assert alert.startswith(f"SOS {case.ref} CRITICAL: forced/military work, Ukraine.")
    assert escalations(svc, case.id) == [(0, "HQ", "notified", 1)]


# language -------------------------------------------------------------------------------


@pytest.mark.parametrize(("known", "text", "lang"), [
    (None, "MSAADA", "sw"), (None, "SAIDIA", "sw"), (None, "HELP", "en"),
    ("en", "MSAADA", "en"), ("sw", "HELP", "sw"), ("sw", "SOS", "sw"),
])
def test_the_reporter_hears_in_their_language(client, svc, work, at_api, known, text,
                                              lang) -> None:
    if known:
        with svc.db.session() as session:
            session.add(Contact(phone=SAUDI, lang=known))
    sms(client, text, SAUDI)
    work()
    case = only_case(svc)
    assert case.lang == lang
    assert received(at_api, SAUDI)[0] == translate(lang, "sms.case_received", case_ref=case.ref,
                                                   help_desk="Riyadh")


def test_a_registered_persons_language_is_used(client, svc, work, at_api) -> None:
    with svc.db.session() as session:
        session.add(Person(phone=SAUDI, full_name="Amina Otieno", lang="sw",
                           consent_version="v1", consent_channel="ussd", consent_at=utcnow(),
                           status="active"))
    sms(client, "HELP", SAUDI)
    work()
    assert only_case(svc).lang == "sw"


# a second report ------------------------------------------------------------------------


def test_a_second_report_within_30_minutes_updates_the_open_case(client, svc, work, at_api,
                                                                 roster) -> None:
    sms(client, "HELP", SAUDI)
    work()
    first = only_case(svc)
    assert first.severity == "high"
    with svc.db.session() as session:  # as if it came 20 minutes ago
        session.execute(update(Case).values(opened_at=utcnow() - timedelta(minutes=20)))

    sms(client, "SOS now they locked me in", SAUDI)
    work()

    case = only_case(svc)
    assert case.id == first.id
    assert case.severity == "critical"  # raised, and the clock shortened to match
    assert "restriction_of_movement" in case.indicators
    assert events(svc, case.id) == ["opened", "alerted", "message", "severity"]
    for officer in RIYADH_DESK:
        alert, update_sms = received(at_api, officer)
        assert update_sms.startswith(f"UPDATE {case.ref} now CRITICAL")
        assert "locked me in" in update_sms
    assert received(at_api, SAUDI)[-1] == translate("en", "sms.case_updated", case_ref=case.ref)
    assert len(messages(svc, "case_received")) == 1


def test_a_report_after_30_minutes_opens_a_new_case(client, svc, work, at_api,
                                                    roster) -> None:
    sms(client, "HELP", SAUDI)
    work()
    with svc.db.session() as session:
        session.execute(update(Case).values(opened_at=utcnow() - timedelta(minutes=31)))

    sms(client, "HELP", SAUDI)
    work()

    first, second = all_cases(svc)
    assert first.ref != second.ref
    assert len(messages(svc, "case_received")) == 2
    assert len(received(at_api, RUH_DUTY[0])) == 2


def test_a_closed_case_is_not_reopened_by_a_new_report(client, svc, work, at_api,
                                                       roster) -> None:
    sms(client, "HELP", SAUDI)
    work()
    with svc.db.session() as session:
        session.execute(update(Case).values(status="closed"))
    sms(client, "HELP again", SAUDI)
    work()
    assert [c.status for c in all_cases(svc)] == ["closed", "open"]


def test_help_never_waits_for_an_open_dialogue(client, svc, work, at_api, roster) -> None:
    sms(client, "HELP", SAUDI)
    work()
    assert received(at_api, SAUDI)[-1].startswith("What happened?")
    sms(client, "help they beat me", SAUDI)  # a keyword wins over the open dialogue
    work()
    case = only_case(svc)
    assert (case.category, case.severity) == ("abuse", "critical")
    assert received(at_api, SAUDI)[-1] == translate("en", "sms.case_updated", case_ref=case.ref)
    with svc.db.Session() as session:
        assert session.scalar(select(InboundSms.route).order_by(InboundSms.id.desc())) == "help"
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.kind == "officer_alert")) == 3
