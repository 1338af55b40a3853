"""Drive the real africastalking SDK against the local fake AT server over HTTP."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.sms.backends import (
    AfricasTalkingBackend,
    OutboxBackend,
    SendResult,
    backend_from_config,
    classify,
)
from tests.fakes.at_api import FakeATServer

REPO = Path(__file__).resolve().parents[2]
API_KEY = "test-api-key"
A, B, C = "+254712345678", "+254722000111", "+254733000222"


@pytest.fixture
def fake() -> Iterator[FakeATServer]:
    with FakeATServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def backend(fake: FakeATServer) -> AfricasTalkingBackend:
    return AfricasTalkingBackend("kazi", API_KEY, fake.url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# classify ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(100, "accepted"), (101, "accepted"), (102, "accepted")]
    + [(c, "retry") for c in (402, 405, 500, 501, 502)]
    + [(c, "failed") for c in (401, 403, 404, 406, 407, 409, 0, 200, 999)],
)
def test_classify(code: int, outcome: str) -> None:
    assert classify(code) == outcome


# accepted ---------------------------------------------------------------------


def test_send_posts_through_sdk_to_api_url(fake: FakeATServer, backend) -> None:
    [result] = backend.send("Habari", [A])

    assert result.outcome == "accepted"
    assert result.status_code == 101
    assert result.status == "Success"
    assert result.cost == "KES 0.8000"
    assert result.reason is None
    [req] = fake.requests
    assert req["path"] == "/version1/messaging"
    assert req["username"] == "kazi"
    assert req["to"] == [A]
    assert req["message"] == "Habari"
    assert req["bulkSMSMode"] == "1"
    assert req["headers"]["apiKey"] == API_KEY
    assert req["headers"]["Accept"] == "application/json"


def test_api_url_trailing_slash_still_hits_messaging(fake: FakeATServer) -> None:
    backend = AfricasTalkingBackend("kazi", API_KEY, fake.url + "/")
    assert backend.send("x", [A])[0].outcome == "accepted"
    assert fake.requests[0]["path"] == "/version1/messaging"


@pytest.mark.parametrize(("code", "text"), [(100, "Processed"), (101, "Success"), (102, "Queued")])
def test_accepted_codes(fake: FakeATServer, backend, code: int, text: str) -> None:
    fake.set_status(A, code, text)
    [result] = backend.send("hi", [A])
    assert (result.outcome, result.status_code, result.status) == ("accepted", code, text)
    assert result.message_id is not None and result.message_id.startswith("ATXid_")
    assert result.reason is None


def test_message_id_is_kept(fake: FakeATServer, backend) -> None:
    results = backend.send("hi", [A, B])
    assert [r.message_id for r in results] == [mid for _, _, mid in fake.sent]
    assert len({r.message_id for r in results}) == 2


# per-recipient failures ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (402, "InvalidSenderId"),
        (405, "InsufficientBalance"),
        (500, "InternalServerError"),
        (501, "GatewayError"),
        (502, "RejectedByGateway"),
    ],
)
def test_retryable_recipient_codes(fake: FakeATServer, backend, code: int, text: str) -> None:
    fake.set_status(A, code, text)
    [result] = backend.send("hi", [A])
    assert result.outcome == "retry"
    assert result.status_code == code
    assert result.status == text
    assert result.reason == text
    assert result.message_id is None  # AT's "None" string is normalised
    assert fake.sent == []


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (401, "RiskHold"),
        (403, "InvalidPhoneNumber"),
        (404, "UnsupportedNumberType"),
        (406, "UserInBlacklist"),
        (407, "CouldNotRoute"),
        (409, "DoNotDisturbRejection"),
    ],
)
def test_permanent_recipient_codes(fake: FakeATServer, backend, code: int, text: str) -> None:
    fake.set_status(A, code, text)
    [result] = backend.send("hi", [A])
    assert result.outcome == "failed"
    assert result.status_code == code
    assert result.reason == text
    assert result.message_id is None


def test_forced_status_reverts_after_times(fake: FakeATServer, backend) -> None:
    fake.set_status(A, 405, "InsufficientBalance", times=2)
    outcomes = [backend.send("hi", [A])[0].outcome for _ in range(3)]
    assert outcomes == ["retry", "retry", "accepted"]


# bulk -------------------------------------------------------------------------


def test_bulk_preserves_order_and_mixes_outcomes(fake: FakeATServer, backend) -> None:
    numbers = [C, A, "+255754000333", B]
    fake.set_status(A, 406, "UserInBlacklist")
    fake.set_status(B, 405, "InsufficientBalance")

    results = backend.send("Mkutano kesho", numbers)

    assert [r.number for r in results] == numbers
    assert [r.outcome for r in results] == ["accepted", "failed", "accepted", "retry"]
    assert len(fake.requests) == 1  # one bulk request, not one per number
    assert fake.requests[0]["to"] == numbers
    assert [n for n, _, _ in fake.sent] == [C, "+255754000333"]


def test_number_missing_from_reply_is_retried(fake: FakeATServer, backend) -> None:
    fake.omit(B)
    results = backend.send("hi", [A, B])
    assert [r.outcome for r in results] == ["accepted", "retry"]
    assert results[1].reason == "missing from AT reply"
    assert results[1].number == B


def test_duplicate_recipient_gets_each_row(backend) -> None:
    results = backend.send("hi", [A, A])
    assert [r.outcome for r in results] == ["accepted", "accepted"]
    assert results[0].message_id != results[1].message_id


def test_invalid_number_fails_without_sinking_the_batch(fake: FakeATServer, backend) -> None:
    results = backend.send("hi", [A, "0712345678", B])
    assert [r.outcome for r in results] == ["accepted", "failed", "accepted"]
    assert results[1].number == "0712345678"
    assert results[1].status == "InvalidPhoneNumber"
    assert fake.requests[0]["to"] == [A, B]


def test_only_invalid_numbers_makes_no_request(fake: FakeATServer, backend) -> None:
    results = backend.send("hi", ["254712345678"])
    assert [r.outcome for r in results] == ["failed"]
    assert fake.requests == []


def test_empty_recipients_returns_empty(fake: FakeATServer, backend) -> None:
    assert backend.send("hi", []) == []
    assert fake.requests == []


# form fields --------------------------------------------------------------------


def test_enqueue_posts_enqueue_1(fake: FakeATServer, backend) -> None:
    backend.send("campaign", [A], enqueue=True)
    backend.send("single", [A])
    assert fake.requests[0]["enqueue"] == "1"
    assert fake.requests[1]["enqueue"] is None


def test_sender_id_posted_as_from(fake: FakeATServer, backend) -> None:
    backend.send("hi", [A], sender_id="KAZISALAMA")
    backend.send("hi", [A])
    assert fake.requests[0]["from"] == "KAZISALAMA"
    assert fake.requests[1]["from"] is None


# whole-request failures -----------------------------------------------------------


def test_http_500_retries_everyone(fake: FakeATServer, backend) -> None:
    fake.fail_next(1)
    results = backend.send("hi", [A, B])
    assert [r.outcome for r in results] == ["retry", "retry"]
    assert [r.number for r in results] == [A, B]
    assert all(r.status_code is None and r.message_id is None for r in results)
    assert "Internal Server Error" in (results[0].reason or "")
    assert fake.sent == []
    # Only the next request failed.
    assert [r.outcome for r in backend.send("hi", [A, B])] == ["accepted", "accepted"]


def test_wrong_api_key_is_retried_with_auth_reason(fake: FakeATServer) -> None:
    backend = AfricasTalkingBackend("kazi", "wrong-key", fake.url)
    [result] = backend.send("hi", [A])
    assert result.outcome == "retry"
    assert "The supplied authentication is invalid" in (result.reason or "")


def test_long_error_body_reason_is_truncated(fake: FakeATServer, backend) -> None:
    fake.fail_next(1, http_status=503, body="x" * 5000)
    [result] = backend.send("hi", [A])
    assert result.outcome == "retry"
    assert result.reason is not None and len(result.reason) <= 200


def test_non_json_reply_is_retried(fake: FakeATServer, backend) -> None:
    # 2xx but text/plain: the SDK hands back a str instead of a dict.
    fake.fail_next(1, http_status=201, body="Sent")
    [result] = backend.send("hi", [A])
    assert result.outcome == "retry"
    assert result.status == "BadReply"
    assert "Sent" in (result.reason or "")


def test_connection_refused_is_retried() -> None:
    server = FakeATServer().start()
    url = server.url
    server.stop()
    backend = AfricasTalkingBackend("kazi", API_KEY, url)
    results = backend.send("hi", [A, B])
    assert [r.outcome for r in results] == ["retry", "retry"]
    assert results[0].status == "ConnectionError"
    assert results[0].reason


def test_read_timeout_is_retried(fake: FakeATServer) -> None:
    fake.delay(600)  # far past the read timeout, whatever the machine's load; stop() ends it
    backend = AfricasTalkingBackend("kazi", API_KEY, fake.url, timeout=(1, 0.2))
    [result] = backend.send("hi", [A])
    assert result.outcome == "retry"
    assert "Timeout" in result.status
    assert len(fake.requests) == 1


# logging ----------------------------------------------------------------------


def test_no_numbers_or_bodies_logged_at_info(
    fake: FakeATServer, backend, caplog: pytest.LogCaptureFixture
) -> None:
    fake.set_status(B, 403, "InvalidPhoneNumber")
    caplog.set_level(logging.DEBUG, logger="app.sms")
    backend.send("SECRET BODY", [A, B])
    fake.fail_next(1, body=f"echo {A} SECRET BODY")
    backend.send("SECRET BODY", [A])

    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert loud, "expected INFO/WARNING summaries"
    for text in loud:
        assert "SECRET" not in text
        assert A not in text and B not in text


# outbox and config ------------------------------------------------------------------


def test_outbox_accepts_everyone_with_unique_ids() -> None:
    results = OutboxBackend().send("hi", [A, B, C])
    assert [r.number for r in results] == [A, B, C]
    assert all(isinstance(r, SendResult) for r in results)
    assert {(r.outcome, r.status_code, r.status) for r in results} == {("accepted", 101, "Success")}
    ids = [r.message_id or "" for r in results]
    assert all(i.startswith("outbox-") for i in ids)
    assert len(set(ids)) == 3


def test_backend_from_config_africastalking(fake: FakeATServer) -> None:
    backend = backend_from_config(
        {"AT_USERNAME": "kazi", "AT_API_KEY": API_KEY, "AT_API_URL": fake.url}
    )
    assert isinstance(backend, AfricasTalkingBackend)
    assert backend.name == "africastalking"
    assert backend.send("hi", [A])[0].outcome == "accepted"
    assert fake.requests[0]["username"] == "kazi"


def test_backend_from_config_without_url_targets_at() -> None:
    backend = backend_from_config({"AT_USERNAME": "kazi", "AT_API_KEY": "k"})
    assert isinstance(backend, AfricasTalkingBackend)
    assert backend.service._baseUrl == "https://api.africastalking.com/version1"


@pytest.mark.parametrize("config", [{}, {"AT_USERNAME": "", "AT_API_KEY": ""}, {"OTHER": "x"}])
def test_backend_from_config_outbox(config: dict[str, str]) -> None:
    backend = backend_from_config(config)
    assert isinstance(backend, OutboxBackend)
    assert backend.name == "outbox"


@pytest.mark.parametrize(
    ("config", "missing"),
    [
        ({"AT_USERNAME": "kazi"}, "AT_API_KEY"),
        ({"AT_API_KEY": "k", "AT_USERNAME": ""}, "AT_USERNAME"),
    ],
)
def test_backend_from_config_half_config_fails_loudly(config: dict[str, str], missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        backend_from_config(config)


# fake server helpers -------------------------------------------------------------


def test_fake_rejects_missing_api_key(fake: FakeATServer) -> None:
    import requests

    resp = requests.post(fake.url + "/version1/messaging", data={"username": "u", "to": A})
    assert resp.status_code == 401
    assert resp.text == "The supplied authentication is invalid"
    resp.close()


def test_fake_wait_for_and_reset(fake: FakeATServer, backend) -> None:
    backend.send("hi", [A])
    assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=1)
    fake.set_status(A, 403, "InvalidPhoneNumber")
    fake.reset()
    assert fake.requests == [] and fake.sent == []
    assert backend.send("hi", [A])[0].outcome == "accepted"
    with pytest.raises(TimeoutError):
        fake.wait_for(lambda: len(fake.sent) == 5, timeout=0.05)


def test_fake_holds_a_request_open_past_the_clients_read_timeout(fake: FakeATServer) -> None:
    fake.hold()
    backend = AfricasTalkingBackend("kazi", API_KEY, fake.url, timeout=(1, 3))
    results: list = []
    sender = threading.Thread(target=lambda: results.extend(backend.send("hi", [A])))
    sender.start()
    fake.wait_for(lambda: len(fake.requests) == 1, timeout=300)
    sender.join(9)  # three times the read timeout
    assert sender.is_alive() and results == []
    fake.release()
    sender.join(300)
    assert [(r.outcome, r.status) for r in results] == [("retry", "HTTPError")]  # the 503
    assert fake.sent == []


def test_cli_prints_received_sms() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.at_api", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in banner
        backend = AfricasTalkingBackend("kazi", API_KEY, f"http://127.0.0.1:{port}")
        assert backend.send("Karibu", [A], sender_id="KAZI")[0].outcome == "accepted"
        line = proc.stdout.readline()
        assert A in line and "Karibu" in line and "KAZI" in line
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
