"""Officers: the roster commands, ACK/NOTE/CLOSE by SMS, and the reporter kept informed."""

from __future__ import annotations

from sqlalchemy import select

from app.i18n import translate
from app.models import CaseEvent, Officer
from app.phones import masked
from tests.protection.conftest import (
    HQ_DUTY,
    JED_DUTY,
    RUH_DUTY,
    RUH_SUPERVISOR,
    escalations,
    events,
    messages,
    only_case,
    received,
    sms,
)
from workers.escalation import escalate_due

SAUDI = "+966512345678"
STRANGER = "+254733000999"


def open_case_by_sms(client, work, svc, text: str = "SOS", sender: str = SAUDI):
    sms(client, text, sender)
    work()
    return only_case(svc)


# ACK, NOTE, CLOSE ---------------------------------------------------------------------


def test_ack_takes_the_case_and_tells_the_reporter(client, svc, work, at_api, roster) -> None:
    case = open_case_by_sms(client, work, svc)
    sms(client, f"ack {case.ref.lower()}", RUH_DUTY[1])  # any case
    work()

    case = only_case(svc)
    assert case.status == "acknowledged"
    assert case.acknowledged_by == roster[RUH_DUTY[1]]
    assert case.next_escalation_at is None
    assert escalations(svc, case.id) == [(0, "KE-RUH", "acked", 3)]
    assert received(at_api, RUH_DUTY[1])[-1] == translate(
        "en", "sms.officer_acked", case_ref=case.ref, reporter=SAUDI)
    assert received(at_api, SAUDI)[-1] == translate("en", "sms.case_acked", case_ref=case.ref)
    assert events(svc, case.id)[-1] == "ack"

    sms(client, f"ACK {case.ref}", RUH_DUTY[0])  # a second officer, a moment later
    work()
    assert received(at_api, RUH_DUTY[0])[-1] == (
        f"Case {case.ref} is already taken up by Baraka Riyadh.")
    assert len(messages(svc, "case_acked")) == 1  # the reporter hears once


def test_note_is_logged_and_counts_as_taking_the_case_up(client, svc, work, at_api,
                                                         roster) -> None:
    case = open_case_by_sms(client, work, svc)
    sms(client, f"NOTE {case.ref} Called her; employer in Al Olaya, police informed",
        JED_DUTY)
    work()

    case = only_case(svc)
    assert case.status == "acknowledged" and case.acknowledged_by == roster[JED_DUTY]
    assert events(svc, case.id)[-2:] == ["ack", "note"]
    with svc.db.Session() as session:
        note = session.scalar(select(CaseEvent).where(CaseEvent.kind == "note"))
    assert note.text == "Called her; employer in Al Olaya, police informed"
    assert note.actor == f"officer:{roster[JED_DUTY]}"
    assert received(at_api, JED_DUTY)[-1] == f"Note added to case {case.ref}."


def test_close_sends_the_reporter_the_note(client, svc, work, at_api, roster) -> None:
    case = open_case_by_sms(client, work, svc, text="MSAADA wananipiga")
    sms(client, f"ACK {case.ref}", RUH_DUTY[0])
    work()
    sms(client, f"Close {case.ref} Umehamishwa kwenye makazi salama ya ubalozi.", RUH_DUTY[0])
    work()

    case = only_case(svc)
    assert case.status == "closed" and case.close_note.startswith("Umehamishwa")
    # In Kiswahili: the reporter wrote MSAADA.
    received_, acked, closed = (received(at_api, SAUDI)[0], received(at_api, SAUDI)[-2],
                                received(at_api, SAUDI)[-1])
    assert received_.startswith("Kazi Salama: tumepokea")
    assert acked == translate("sw", "sms.case_acked", case_ref=case.ref)
    assert closed == translate("sw", "sms.case_closed", case_ref=case.ref,
                               fill="Umehamishwa kwenye makazi salama ya ubalozi.")
    assert received(at_api, RUH_DUTY[0])[-1] == (
        f"Case {case.ref} closed; the reporter has been told.")
    assert events(svc, case.id)[-1] == "closed"

    sms(client, f"CLOSE {case.ref} again", RUH_DUTY[1])
    sms(client, f"ACK {case.ref}", RUH_DUTY[1])
    work()
    assert received(at_api, RUH_DUTY[1])[-2:] == [f"Case {case.ref} is already closed."] * 2
    assert len(messages(svc, "case_closed")) == 1


def test_close_without_acknowledging_first_still_closes_once(client, svc, work, at_api,
                                                             roster) -> None:
    case = open_case_by_sms(client, work, svc)
    sms(client, f"CLOSE {case.ref} She is safe with her family in Jeddah", RUH_SUPERVISOR)
    work()
    case = only_case(svc)
    assert received(at_api, SAUDI)[-1] == translate(
        "en", "sms.case_closed", case_ref=case.ref,
        fill="She is safe with her family in Jeddah.")  # a full stop before "Still need help?"
    assert (case.status, case.acknowledged_by) == ("closed", roster[RUH_SUPERVISOR])
    assert messages(svc, "case_acked") == []  # straight to the closing note
    assert escalate_due(as_of=case.opened_at.replace(year=2100)) == {}


def test_a_stranger_is_refused_and_nothing_changes(client, svc, work, at_api, roster) -> None:
    case = open_case_by_sms(client, work, svc)
    for text in (f"ACK {case.ref}", f"NOTE {case.ref} hello", f"CLOSE {case.ref} fake"):
        sms(client, text, STRANGER)
    sms(client, f"CLOSE {case.ref} I am fine now", SAUDI)  # not even the reporter
    work()

    case = only_case(svc)
    assert (case.status, case.acknowledged_by, case.close_note) == ("open", None, None)
    assert events(svc, case.id) == ["opened", "alerted"]
    refusal = translate("en", "sms.officer_refused")
    assert received(at_api, STRANGER) == [refusal] * 3
    assert received(at_api, SAUDI)[-1] == refusal
    assert messages(svc, "case_acked") == [] and messages(svc, "case_closed") == []


def test_an_inactive_officer_is_refused(client, svc, work, at_api, roster) -> None:
    case = open_case_by_sms(client, work, svc)
    with svc.db.session() as session:
        session.get(Officer, roster[RUH_DUTY[0]]).active = False
    sms(client, f"ACK {case.ref}", RUH_DUTY[0])
    work()
    assert only_case(svc).status == "open"
    assert received(at_api, RUH_DUTY[0])[-1] == translate("en", "sms.officer_refused")


def test_commands_with_a_wrong_reference_or_no_text(client, svc, work, at_api,
                                                    roster) -> None:
    case = open_case_by_sms(client, work, svc)
    sms(client, "ACK ZZZZZ9", HQ_DUTY)
    sms(client, "ACK", HQ_DUTY)
    sms(client, f"CLOSE {case.ref}", HQ_DUTY)
    sms(client, f"NOTE {case.ref}", HQ_DUTY)
    work()
    usage = translate("en", "sms.officer_usage")
    assert received(at_api, HQ_DUTY) == [
        "No case ZZZZZ9. Check the reference and send again.", usage, usage, usage]
    assert only_case(svc).status == "open"


def test_a_reporter_of_a_relative_hears_each_step(phone, client, svc, work, at_api,
                                                  roster) -> None:
    p = phone("+254712345678")
    p.dial()
    for value in ("1", "5", "2", "+966551234567", "3"):
        p.send(value)
    work()
    case = only_case(svc)
    sms(client, f"ACK {case.ref}", RUH_DUTY[0])
    work()
    sms(client, f"CLOSE {case.ref} Found her, she is at the embassy shelter", RUH_DUTY[0])
    work()
    kinds = [m.kind for m in messages(svc) if m.to_phone == "+254712345678"]
    assert kinds == ["case_received", "case_acked", "case_closed"]
    assert received(at_api, "+966551234567") == []  # the relative's own phone is not texted


# roster commands --------------------------------------------------------------------------


def test_officers_add_joins_the_covering_mission(runner, svc) -> None:
    result = runner.invoke(args=["officers", "add", "--name", "Amina Otieno", "--phone",
                                 "+966 50 000 0001", "--country", "sa", "--role", "duty"])
    assert result.exit_code == 0, result.output
    assert "duty at KE-RUH (Embassy of Kenya, Riyadh)" in result.output

    result = runner.invoke(args=["officers", "add", "--name", "Zawadi", "--phone",
                                 "+97336001234", "--country", "BH", "--role", "supervisor"])
    assert "supervisor at KE-KWI (Embassy of Kenya, Kuwait City)" in result.output

    result = runner.invoke(args=["officers", "add", "--name", "Desk One", "--phone",
                                 "0700000101", "--country", "KE"])
    assert "duty at HQ (Diaspora desk, Nairobi), phone +254700000101" in result.output

    result = runner.invoke(args=["officers", "add", "--name", "Desk Two", "--phone",
                                 "+254700000102", "--country", "UA"])
    assert "at HQ" in result.output and "no mission covers UA" in result.output

    with svc.db.Session() as session:
        rows = {o.phone: (o.mission_code, o.role, o.on_duty)
                for o in session.scalars(select(Officer))}
    assert rows == {"+966500000001": ("KE-RUH", "duty", True),
                    "+97336001234": ("KE-KWI", "supervisor", True),
                    "+254700000101": ("HQ", "duty", True),
                    "+254700000102": ("HQ", "duty", True)}


def test_officers_add_again_updates_and_bad_input_is_refused(runner, svc) -> None:
    runner.invoke(args=["officers", "add", "--name", "A", "--phone", "+966500000001",
                        "--country", "SA"])
    result = runner.invoke(args=["officers", "add", "--name", "A Moved", "--phone",
                                 "+966500000001", "--country", "QA", "--role", "supervisor"])
    assert "updated: supervisor at KE-DOH" in result.output
    for args, message in (
        (["--phone", "12345", "--country", "SA"], "not a valid phone number"),
        (["--phone", "+966500000009", "--country", "XX"], "unknown country"),
    ):
        result = runner.invoke(args=["officers", "add", "--name", "B", *args])
        assert result.exit_code != 0 and message in result.output
    result = runner.invoke(args=["officers", "add", "--name", "B", "--phone", "+966500000009",
                                 "--country", "SA", "--role", "boss"])
    assert result.exit_code == 2
    with svc.db.Session() as session:
        assert session.scalars(select(Officer.name)).all() == ["A Moved"]


def test_officers_list_and_duty(runner, roster) -> None:
    result = runner.invoke(args=["officers", "list"])
    lines = result.output.splitlines()
    assert len(lines) == 6
    assert any("KE-RUH  supervisor on duty" in line and "Chebet Supervisor" in line
               for line in lines)
    assert "+966500000001" not in result.output  # masked

    result = runner.invoke(args=["officers", "duty", RUH_DUTY[0], "off"])
    assert result.exit_code == 0 and "Amina Riyadh (KE-RUH) is now off duty" in result.output
    result = runner.invoke(args=["officers", "list", "--mission", "ke-ruh"])
    assert sum("off duty" in line for line in result.output.splitlines()) == 1
    assert len(result.output.splitlines()) == 3
    result = runner.invoke(args=["officers", "duty", "+966500000077", "on"])
    assert result.exit_code != 0 and "no officer has that phone" in result.output


# staff views --------------------------------------------------------------------------------


def test_cases_show_lists_the_timeline_and_every_sms(client, runner, svc, work, at_api,
                                                     roster) -> None:
    case = open_case_by_sms(client, work, svc, text="HELP boss took my passport")
    sms(client, f"NOTE {case.ref} calling her now", RUH_DUTY[0])
    work()
    result = runner.invoke(args=["cases", "show", case.ref.lower()])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"case {case.ref}: acknowledged, high, category passport_held, country SA" in out
    assert "ILO indicators: Retention of identity documents" in out
    for kind in ("opened", "alerted", "ack", "note"):
        assert f"  {kind} " in out
    assert "L0 KE-RUH  acked" in out
    assert out.count("officer_alert") == 3 and "case_received" in out and "case_acked" in out

    result = runner.invoke(args=["cases", "list", "--status", "acknowledged"])
    assert case.ref in result.output
    assert runner.invoke(args=["cases", "show", "NOSUCH"]).exit_code != 0


def test_a_send_that_fails_for_good_is_shown_to_staff(client, runner, svc, work, at_api,
                                                      roster) -> None:
    at_api.set_status(RUH_DUTY[0], 406, "UserInBlacklist")
    case = open_case_by_sms(client, work, svc)
    [failed] = [m for m in messages(svc, "officer_alert") if m.to_phone == RUH_DUTY[0]]
    assert (failed.status, failed.failure_reason) == ("failed", "UserInBlacklist")

    result = runner.invoke(args=["cases", "failed-sends"])
    assert result.exit_code == 0
    assert (f"case {case.ref} officer_alert to {masked(RUH_DUTY[0])}: UserInBlacklist"
            in result.output)
    assert "1 failed send(s)" in result.output
    result = runner.invoke(args=["cases", "show", case.ref])
    assert "failed (UserInBlacklist)" in result.output
