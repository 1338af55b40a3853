"""``kazi phone`` driven through stdin against a live gateway on a real socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app.models import Message, UssdEvent

# Language, Register, consent 1 and 2, the answers, Confirm (tests/ussd/test_registration.py).
REGISTRATION = ["1", "1", "1", "1", "Jane Wanjiru", "12345678", "1995", "1", "kiambu", "3",
                "1", "3", "1 3", "1"]


def serve(app) -> tuple[str, callable]:
    """Serve ``app`` on a free port in a thread; give its URL and a stop function."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture
def gateway(app) -> Iterator[str]:
    url, stop = serve(app)
    yield url
    stop()


def typed(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def test_phone_chooses_the_language_and_shows_the_menu(runner, gateway, svc):
    result = runner.invoke(args=["phone", "0712345678", "--url", gateway, "--wait", "0"],
                           input=typed("1"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "+254712345678 dialling *384*2026#" in out  # 07.. normalised to E.164
    assert "| Choose language / Chagua lugha:\n| 1 English\n| 2 Kiswahili" in out
    assert "> 1\n" in out
    assert "| Kazi Salama: safe work in Kenya and abroad.\n| 1 Register" in out
    assert "(hung up)" in out  # stdin ran out on the menu
    with svc.db.Session() as session:
        event = session.scalar(select(UssdEvent))
    assert (event.phone, event.status) == ("+254712345678", "Incomplete")


def test_phone_registers_and_shows_the_confirmation_sms(runner, gateway, svc):
    result = runner.invoke(args=["phone", "+254712345678", "--url", gateway, "--wait", "0.5"],
                           input=typed(*REGISTRATION, "n"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "+-- session ended" in out
    assert "| Registered! Your number is KS" in out
    with svc.db.Session() as session:
        message = session.scalar(select(Message))
    assert message.status == "pending"  # no worker runs in this test
    assert (f"SMS to +254712345678 since the dial:\n"
            f"  [pending, is a worker running?] {message.body}") in out
    assert out.rstrip().endswith("Dial again? [y/N] n")


def test_phone_shows_only_sms_sent_since_the_dial(runner, gateway, svc):
    with svc.db.session() as session:
        session.add(Message(to_phone="+254712345678", body="old news", kind="test",
                            dedupe_key="test:old", status="sent", attempts=1))
    result = runner.invoke(args=["phone", "+254712345678", "--url", gateway, "--wait", "0"],
                           input=typed("1"))
    assert "old news" not in result.output
    assert "No SMS to +254712345678 since the dial." in result.output


def test_dial_again_starts_a_new_session(runner, gateway):
    result = runner.invoke(args=["phone", "+254712345678", "--url", gateway, "--wait", "0"],
                           input=typed("1", "1", "2", "y", "2"))
    out = result.output
    # Consent declined ends the first session; the second dial skips the language screen.
    assert out.count("+-- session ended") == 1
    assert out.count("Choose language") == 1
    assert "Dial again? [y/N] y" in out
    assert out.count("| 1 Register") == 2


def test_phone_sends_the_callback_token(config, at_api):
    guarded = create_app({**config, "CALLBACK_TOKEN": "s3cret"})
    open_app = create_app(config)  # the same system, as a phone without the token sees it
    url, stop = serve(guarded)
    try:
        result = guarded.test_cli_runner().invoke(
            args=["phone", "+254712345678", "--url", url, "--wait", "0"], input=typed("1"))
        assert result.exit_code == 0, result.output
        assert "1 Register" in result.output
        refused = open_app.test_cli_runner().invoke(
            args=["phone", "+254712345678", "--url", url, "--wait", "0"], input=typed("1"))
        assert refused.exit_code == 1
        assert "refused the callback token" in refused.output
    finally:
        stop()
        for app in (guarded, open_app):
            app.extensions["kazi"].redis.close()
            app.extensions["kazi"].db.dispose()


def test_phone_rejects_a_number_that_is_not_one(runner):
    result = runner.invoke(args=["phone", "12345"])
    assert result.exit_code == 2
    assert "is not a phone number" in result.output


def test_phone_says_when_the_gateway_is_not_running(runner):
    result = runner.invoke(args=["phone", "+254712345678", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:9/ussd" in result.output
