"""SMS dialogues: a journey run over SMS, each reply one more input."""

import itertools

from sqlalchemy import select

from app import dialogues
from app.models import Contact, Message, SmsDialogue

NUMBER = "+966501234567"
_ids = itertools.count(1)


def incoming(client, text, sender=NUMBER):
    response = client.post("/sms/incoming", data={
        "from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
        "id": f"ATXid_dlg{next(_ids)}", "linkId": "", "networkCode": "42001",
    })
    assert response.status_code == 200


def bodies(svc):
    with svc.db.Session() as session:
        return [m.body for m in session.scalars(select(Message).order_by(Message.id))]


def open_language_dialogue(svc):
    with svc.db.session() as session:
        dialogues.start(svc, session, NUMBER, "lang.choose", lang="en", ref="test-dlg")


def test_start_sends_the_first_screen_as_an_sms(svc):
    open_language_dialogue(svc)
    assert bodies(svc) == ["Karibu Kazi Salama\nChoose language / Chagua lugha:\n"
                           "1 English\n2 Kiswahili"]
    with svc.db.Session() as session:
        stored = session.scalar(select(SmsDialogue))
    assert b"lang.choose" not in stored.state_enc  # encrypted at rest


def test_a_reply_is_the_next_input_and_its_events_are_committed(svc, client, work):
    open_language_dialogue(svc)
    incoming(client, "2")
    work()
    assert bodies(svc)[-1].startswith("Kazi Salama: kazi salama Kenya na ng'ambo.")
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.lang).where(Contact.phone == NUMBER)) == "sw"


def test_a_wrong_reply_reasks(svc, client, work):
    open_language_dialogue(svc)
    incoming(client, "7")
    work()
    assert bodies(svc)[-1].startswith("Invalid choice. Try again.\nKaribu Kazi Salama")


def test_a_keyword_wins_over_the_dialogue(svc, client, work):
    open_language_dialogue(svc)
    incoming(client, "STOP")
    work()
    assert "check-in messages are paused" in bodies(svc)[-1]
    with svc.db.Session() as session:
        assert session.scalar(select(SmsDialogue)) is not None  # still open


def test_without_a_dialogue_a_number_is_unknown_text(svc, client, work):
    incoming(client, "2")
    work()
    assert bodies(svc)[-1].startswith("Kazi Salama: dial")
