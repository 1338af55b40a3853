"""app/keywords.py: one router for every SMS keyword, driven through the real callback."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app import features, keywords  # noqa: F401 - features wires every keyword
from app.db import utcnow
from app.i18n import translate
from app.models import Contact, InboundSms, Message, Person
from workers.inbound import handle_inbound

A = "+254712345678"
CODE = "*384*2026#"
_ids = itertools.count(1)


def sms(client, text: str, sender: str = A) -> None:
    """Post one incoming SMS as AT does, each with a fresh AT id."""
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": f"ATXid_kw{next(_ids)}", "linkId": "", "networkCode": "63902",
    })
    assert response.status_code == 200


def contact(svc, phone: str = A) -> Contact | None:
    with svc.db.Session() as session:
        return session.scalar(select(Contact).where(Contact.phone == phone))


def replies(svc) -> list[Message]:
    with svc.db.Session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def last_inbound(svc) -> InboundSms:
    with svc.db.Session() as session:
        return session.scalars(select(InboundSms).order_by(InboundSms.id.desc())).first()


# routing ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["STOP", "stop.", " Stop ", "STOP!", "acha", "Acha!!",
                                  "SIMAMISHA", "simamisha.", "\tStop\n", "stop,"])
def test_stop_words_route_to_stop(text) -> None:
    assert keywords.route(text) == (keywords.stop, "")


@pytest.mark.parametrize("text", ["START", "start!", " Anza ", "ENDELEA.", "endelea"])
def test_start_words_route_to_start(text) -> None:
    assert keywords.route(text) == (keywords.start, "")


@pytest.mark.parametrize("text", ["hello", "", "   ", "!!!", "stopp", "non-stop", "7"])
def test_anything_else_routes_to_help(text) -> None:
    handler, _ = keywords.route(text)
    assert handler is keywords.unknown


def test_route_gives_the_text_after_the_keyword() -> None:
    assert keywords.route("Stop: no more check-ins please ") == (
        keywords.stop, "no more check-ins please")


def test_a_keyword_cannot_be_taken_twice_or_be_two_words() -> None:
    def other(ctx: keywords.KeywordContext) -> None:
        return None

    with pytest.raises(ValueError, match="already routed"):
        keywords.keyword("acha")(other)
    with pytest.raises(ValueError, match="single word"):
        keywords.keyword("STOP NOW")(other)
    assert keywords.route("ACHA")[0] is keywords.stop


# STOP and START -----------------------------------------------------------------------


@pytest.mark.parametrize(("stop_word", "start_word"), [("STOP", "START"), ("Acha.", "anza!"),
                                                       ("simamisha", "Endelea")])
def test_stop_then_start_pauses_and_resumes_checkins(client, svc, at_api, work, stop_word,
                                                     start_word) -> None:
    sms(client, stop_word)
    work()

    assert contact(svc).checkins_paused is True
    assert last_inbound(svc).route == "stop"
    [stopped] = replies(svc)
    assert stopped.body == translate("en", "sms.stopped", service_code=CODE)
    assert stopped.status == "sent" and stopped.kind == "stop_confirm"

    sms(client, start_word)
    work()

    assert contact(svc).checkins_paused is False
    assert last_inbound(svc).route == "start"
    assert [m.kind for m in replies(svc)] == ["stop_confirm", "start_confirm"]
    assert replies(svc)[1].body == translate("en", "sms.started", service_code=CODE)
    assert [number for number, _, _ in at_api.sent] == [A, A]


def test_reply_is_in_the_contacts_language(client, svc, work) -> None:
    with svc.db.session() as session:
        session.add(Contact(phone=A, lang="sw", checkins_paused=False))

    sms(client, "STOP")
    work()

    [reply] = replies(svc)
    assert reply.body == translate("sw", "sms.stopped", service_code=CODE)
    assert contact(svc).checkins_paused is True


def test_reply_is_in_the_registered_persons_language(client, svc, work) -> None:
    with svc.db.session() as session:
        session.add(Person(phone=A, full_name="Amina Otieno", lang="sw", consent_version="v1",
                           consent_channel="ussd", consent_at=utcnow(), status="active"))

    sms(client, "what is this")
    work()

    [reply] = replies(svc)
    assert reply.body == translate("sw", "sms.help", service_code=CODE)
    assert reply.body != translate("en", "sms.help", service_code=CODE)


# unknown text ---------------------------------------------------------------------------


def test_unknown_text_gets_exactly_one_help_sms(client, svc, at_api, work) -> None:
    sms(client, "Habari, naomba msaada wa kazi")
    work()

    [(number, body, _)] = at_api.sent
    assert number == A
    assert body == translate("en", "sms.help", service_code=CODE)
    assert CODE in body
    assert last_inbound(svc).route == "unknown"
    assert contact(svc) is None  # help changes nothing about the number


def test_help_is_not_repeated_to_an_auto_responder(client, svc, at_api, work) -> None:
    sms(client, "hello")
    work()
    sms(client, "Auto-reply: I am out of office")
    work()

    assert len(at_api.sent) == 1
    assert len(replies(svc)) == 1
    assert last_inbound(svc).processed_at is not None


def test_help_is_sent_again_after_the_cooldown(client, svc, at_api, work) -> None:
    sms(client, "hello")
    work()
    with svc.db.session() as session:
        for message in session.scalars(select(Message)):
            message.created_at = utcnow() - keywords.HELP_COOLDOWN * 2

    sms(client, "hello again")
    work()

    assert len(at_api.sent) == 2


# the job ------------------------------------------------------------------------------


def test_a_retried_job_never_replies_twice(client, svc, at_api, work) -> None:
    sms(client, "STOP")
    work()
    inbound_id = last_inbound(svc).id

    assert handle_inbound(inbound_id) is None  # already processed
    with svc.db.session() as session:
        # As if the job died after committing but before RQ recorded it, and ran again.
        session.get(InboundSms, inbound_id).processed_at = None
    assert handle_inbound(inbound_id) == "stop"
    work()

    assert len(replies(svc)) == 1
    assert replies(svc)[0].dedupe_key == f"reply:{inbound_id}"
    assert len(at_api.sent) == 1


def test_unknown_inbound_id_is_ignored(svc) -> None:
    assert handle_inbound(999999) is None
    assert replies(svc) == []
