"""POST /sms/incoming and /sms/delivery, driven through the real callback."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app import create_app
from app.db import utcnow
from app.models import InboundSms, Message
from app.sms.outbox import queue_sms
from workers.reconcile import reconcile

A = "+254712345678"


def incoming_form(at_id: str = "ATXid_in1", text: str = "hello", sender: str = A) -> dict:
    return {"from": sender, "to": "22384", "text": text, "date": "2026-11-24 10:00:00",
            "id": at_id, "linkId": "link-1", "networkCode": "63902", "cost": "KES 0.0000"}


def inbound_rows(svc) -> list[InboundSms]:
    with svc.db.Session() as session:
        return list(session.scalars(select(InboundSms).order_by(InboundSms.id)))


def sent_message(svc, at_id: str = "ATXid_out1") -> int:
    """Store a message AT has accepted, as the send job leaves it."""
    with svc.db.session() as session:
        message = Message(to_phone=A, body="Habari", kind="test", dedupe_key=uuid.uuid4().hex,
                          status="sent", attempts=1, at_message_id=at_id, sent_at=utcnow())
        session.add(message)
        session.flush()
        return message.id


def load(svc, message_id: int) -> Message:
    with svc.db.Session() as session:
        return session.get(Message, message_id)


def report(client, at_id: str = "ATXid_out1", status: str = "Success", reason: str = "",
           query: str = ""):
    return client.post("/sms/delivery" + query, data={
        "id": at_id, "status": status, "phoneNumber": A, "networkCode": "63902",
        "failureReason": reason, "retryCount": "0",
    })


@pytest.fixture
def other_app(config):
    """Make another app on the same database and Redis, with settings changed."""
    made = []

    def make(**changes):
        app = create_app({**config, **changes})
        made.append(app)
        return app

    yield make
    for app in made:
        svc = app.extensions["kazi"]
        svc.redis.close()
        svc.db.dispose()


# incoming ---------------------------------------------------------------------------


def test_incoming_sms_is_stored_and_answered_in_a_job(client, svc, at_api, work) -> None:
    response = client.post("/sms/incoming", data=incoming_form(sender="0712345678"))

    assert response.status_code == 200 and response.mimetype == "text/plain"
    [row] = inbound_rows(svc)
    assert (row.at_id, row.from_phone, row.text, row.to_code) == ("ATXid_in1", A, "hello", "22384")
    assert (row.link_id, row.network_code, row.processed_at) == ("link-1", "63902", None)
    # Help keywords must overtake campaigns: the job waits on the critical queue.
    assert svc.queues["critical"].count == 1 and at_api.requests == []

    work()

    assert len(at_api.sent) == 1 and at_api.sent[0][0] == A
    [row] = inbound_rows(svc)
    assert row.processed_at is not None and row.status == "processed"


def test_incoming_sms_posted_twice_is_stored_and_answered_once(client, svc, at_api, work) -> None:
    assert client.post("/sms/incoming", data=incoming_form()).status_code == 200
    work()
    assert client.post("/sms/incoming", data=incoming_form()).status_code == 200
    work()

    assert len(inbound_rows(svc)) == 1
    assert len(at_api.sent) == 1


def test_concurrent_duplicates_store_one_row(app, svc, at_api, work) -> None:
    codes: list[int] = []
    gate = threading.Barrier(6)

    def post() -> None:
        gate.wait()
        codes.append(app.test_client().post("/sms/incoming", data=incoming_form()).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    work()

    assert codes == [200] * 6
    assert len(inbound_rows(svc)) == 1
    assert len(at_api.sent) == 1


@pytest.mark.parametrize(("change", "reason"), [
    ({"id": ""}, "missing id"),
    ({"from": ""}, "missing from"),
    ({"from": "+2541"}, "from is not a valid phone number"),
    ({"from": "hello"}, "from is not a valid phone number"),
])
def test_incoming_without_id_or_valid_sender_is_refused(client, svc, change, reason) -> None:
    response = client.post("/sms/incoming", data={**incoming_form(), **change})

    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == reason
    assert inbound_rows(svc) == []


def test_incoming_answers_503_when_the_database_and_redis_are_down(other_app) -> None:
    down = other_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none",
                     REDIS_URL="redis://127.0.0.1:1/0")

    response = down.test_client().post("/sms/incoming", data=incoming_form())

    assert response.status_code == 503  # kept nowhere, so not acknowledged: AT retries


def test_a_help_sms_during_a_database_outage_is_spooled_then_handled(other_app, svc, at_api,
                                                                     work) -> None:
    from app.sms.inbound import SPOOL_KEY

    down = other_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    form = {**incoming_form(), "text": "HELP boss took my passport", "id": "ATXid_outage"}

    first = down.test_client().post("/sms/incoming", data=form)
    again = down.test_client().post("/sms/incoming", data=form)  # AT's retry, also spooled

    assert first.status_code == again.status_code == 200
    assert inbound_rows(svc) == []
    [sealed, _] = svc.redis.lrange(SPOOL_KEY, 0, -1)
    assert b"passport" not in sealed and form["from"].encode() not in sealed  # sealed
    # The database is back: the reconciler stores it once and its job handles it.
    assert reconcile()["spooled_inbound"] == 2
    assert svc.redis.llen(SPOOL_KEY) == 0
    [row] = inbound_rows(svc)
    assert (row.at_id, row.text) == ("ATXid_outage", form["text"])
    work()
    with svc.db.Session() as session:
        from app.models import Case

        assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert reconcile()["spooled_inbound"] == 0


def test_the_spool_waits_while_the_database_is_still_down(other_app, svc) -> None:
    from app.sms.inbound import SPOOL_KEY, drain_spool

    down = other_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert down.test_client().post("/sms/incoming", data=incoming_form()).status_code == 200
    with down.app_context(), pytest.raises(SQLAlchemyError):
        drain_spool(down.extensions["kazi"])
    assert svc.redis.llen(SPOOL_KEY) == 1  # nothing lost: it waits for the next run


def test_incoming_is_kept_when_only_redis_is_down(other_app, svc, at_api, work) -> None:
    no_redis = other_app(REDIS_URL="redis://127.0.0.1:1/0")

    response = no_redis.test_client().post("/sms/incoming", data=incoming_form())

    assert response.status_code == 200
    [row] = inbound_rows(svc)
    assert row.processed_at is None
    # Redis is back: the reconciler finds the row and the job answers it once.
    assert reconcile(now=utcnow() + timedelta(seconds=31))["inbound"] == 1
    work()
    assert len(at_api.sent) == 1


def test_callbacks_need_the_token_when_one_is_set(other_app, svc) -> None:
    client = other_app(CALLBACK_TOKEN="t0k").test_client()
    message_id = sent_message(svc)

    for path, form in (("/sms/incoming", incoming_form()),
                       ("/sms/delivery", {"id": "ATXid_out1", "status": "Success"})):
        assert client.post(path, data=form).status_code == 403
        assert client.post(path + "?token=wrong", data=form).status_code == 403
        assert client.post(path + "?token=t0k", data=form).status_code == 200

    assert len(inbound_rows(svc)) == 1
    assert load(svc, message_id).delivery_status == "Success"


# delivery reports ---------------------------------------------------------------------


def test_success_report_marks_the_message_delivered(client, svc) -> None:
    message_id = sent_message(svc)

    response = report(client, status="Success")

    assert response.status_code == 200
    message = load(svc, message_id)
    assert (message.status, message.delivery_status, message.delivery_reason) == (
        "sent", "Success", None)
    assert message.delivered_at is not None


def test_report_finds_a_message_sent_through_at(client, svc, at_api, work) -> None:
    with svc.db.session() as session:
        message = queue_sms(session, A, "Habari", kind="test", dedupe_key="test:report")
    work()
    at_id = load(svc, message.id).at_message_id
    assert at_id == at_api.sent[0][2]

    assert report(client, at_id=at_id, status="Success").status_code == 200

    assert load(svc, message.id).delivery_status == "Success"


def test_repeated_report_changes_nothing(client, svc) -> None:
    message_id = sent_message(svc)
    report(client, status="Success")
    first = load(svc, message_id)

    assert report(client, status="Success").status_code == 200

    again = load(svc, message_id)
    assert (again.delivered_at, again.updated_at) == (first.delivered_at, first.updated_at)


@pytest.mark.parametrize("status", ["Failed", "Rejected", "AbsentSubscriber", "Expired"])
def test_final_failure_changes_delivery_only(client, svc, status) -> None:
    message_id = sent_message(svc)

    assert report(client, status=status, reason="UserIsInactive").status_code == 200

    message = load(svc, message_id)
    assert message.status == "sent"
    assert (message.delivery_status, message.delivery_reason) == (status, "UserIsInactive")
    assert message.delivered_at is None


def test_late_in_flight_report_does_not_undo_the_final_one(client, svc) -> None:
    message_id = sent_message(svc)
    report(client, status="Buffered")
    assert load(svc, message_id).delivery_status == "Buffered"
    report(client, status="Success")

    report(client, status="Buffered")

    assert load(svc, message_id).delivery_status == "Success"


def test_report_for_unknown_message_is_accepted_and_logged(client, svc, caplog) -> None:
    caplog.set_level(logging.INFO, logger="app.sms_callbacks")

    response = report(client, at_id="ATXid_nobody", status="Failed")

    assert response.status_code == 200
    [record] = [r for r in caplog.records if "unknown" in r.getMessage()]
    assert record.levelno == logging.INFO and "ATXid_nobody" in record.getMessage()
    assert A not in record.getMessage() and A[1:] not in record.getMessage()


@pytest.mark.parametrize("form", [
    {"status": "Success"},
    {"id": "ATXid_out1"},
    {"id": "ATXid_out1", "status": "Delivered"},
    {"id": "ATXid_out1", "status": "success"},
])
def test_bad_report_is_refused(client, svc, form) -> None:
    message_id = sent_message(svc)

    response = client.post("/sms/delivery", data=form)

    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert load(svc, message_id).delivery_status is None
    with svc.db.Session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
