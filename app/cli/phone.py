"""``kazi phone``: a feature phone in the terminal, dialling the gateway as AT does.

Each hop is the form Africa's Talking posts to ``/ussd``; input comes from stdin,
so a pipe or tmux can drive it. After the session it shows the SMS this number
got since the dial, read from the database the gateway writes to.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import services
from app.models import Message
from app.phones import InvalidPhone, normalise

FINAL = ("sent", "failed")
"""Message states that will not change without a retry."""

RULE = "-" * 34


@dataclass
class Session:
    """One USSD session: AT's session id and everything typed so far."""

    base_url: str
    number: str
    service_code: str
    network: str
    token: str | None
    session_id: str = field(default_factory=lambda: f"ATUid_{uuid.uuid4().hex}")
    inputs: list[str] = field(default_factory=list)
    screen: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    def hop(self) -> tuple[str, bool]:
        """Post the session so far to /ussd; give the screen and whether it ended."""
        try:
            response = requests.post(
                f"{self.base_url}/ussd", params=self.params, timeout=15, data={
                    "sessionId": self.session_id,
                    "serviceCode": self.service_code,
                    "phoneNumber": self.number,
                    "networkCode": self.network,
                    "text": "*".join(self.inputs),
                })
        except requests.RequestException as exc:
            raise click.ClickException(
                f"cannot reach {self.base_url}/ussd ({type(exc).__name__}); is `kazi dev` running?"
            ) from None
        body = response.text
        if response.status_code == 403:
            raise click.ClickException("the gateway refused the callback token; "
                                       "set CALLBACK_TOKEN to the gateway's")
        if response.status_code != 200 or not body.startswith(("CON ", "END ")):
            raise click.ClickException(f"the gateway answered {response.status_code}: {body[:200]}")
        self.screen = body[4:]
        return self.screen, body.startswith("END ")

    def report(self, status: str) -> None:
        """Send AT's end-of-session report (``Success`` or ``Incomplete``) to /ussd/events."""
        try:
            requests.post(f"{self.base_url}/ussd/events", params=self.params, timeout=15, data={
                "sessionId": self.session_id, "serviceCode": self.service_code,
                "phoneNumber": self.number, "networkCode": self.network, "status": status,
                "input": self.inputs[-1] if self.inputs else "", "lastAppResponse": self.screen,
                "errorMessage": "", "hopsCount": str(len(self.inputs) + 1),
                "durationInMillis": str(int((time.monotonic() - self.started) * 1000)),
                "cost": "KES 0.0000", "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            })
        except requests.RequestException as exc:
            click.echo(f"(session report not sent: {type(exc).__name__})", err=True)


def read(prompt: str) -> str | None:
    """Read one line from stdin after ``prompt``; None at end of input."""
    click.echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not line:
        click.echo()
        return None
    value = line.rstrip("\r\n")
    if not sys.stdin.isatty():
        click.echo(value)  # piped input is not echoed by a terminal: keep the transcript whole
    return value


def show(screen: str, title: str) -> None:
    """Draw a screen the way a phone would, one line per line."""
    click.echo(f"+-- {title} " + "-" * max(2, len(RULE) - len(title) - 4))
    for line in screen.splitlines() or [""]:
        click.echo(f"| {line}")
    click.echo("+" + RULE)


def newest_message_id() -> int:
    """Give the highest message id so far: later SMS are the ones this dial caused."""
    try:
        with services().db.Session() as session:
            return session.scalar(select(func.max(Message.id))) or 0
    except SQLAlchemyError:
        return 0


def messages_since(number: str, after_id: int) -> list[tuple[int, str, str, str | None]]:
    """Give (id, status, body, reason) of the SMS to ``number`` after ``after_id``."""
    with services().db.Session() as session:
        rows = session.execute(
            select(Message.id, Message.status, Message.body, Message.failure_reason)
            .where(Message.to_phone == number, Message.id > after_id)
            .order_by(Message.id)
        )
        return [tuple(row) for row in rows]


def show_sms(number: str, after_id: int, wait: float) -> None:
    """Show the SMS sent to ``number`` since the dial, waiting for the worker to send them."""
    deadline = time.monotonic() + wait
    try:
        rows = messages_since(number, after_id)
        # The gateway writes a session's SMS before it answers, so if there are none
        # yet, at most a job is still making one: a short look is enough.
        grace = time.monotonic() + min(wait, 2.0)
        while time.monotonic() < (deadline if rows else grace):
            if rows and all(status in FINAL for _id, status, _body, _reason in rows):
                break
            time.sleep(0.3)
            rows = messages_since(number, after_id)
    except SQLAlchemyError as exc:
        click.echo(f"(cannot read SMS from {current_app.config['DATABASE_URL']}: "
                   f"{type(exc).__name__})")
        return
    if not rows:
        click.echo(f"No SMS to {number} since the dial.")
        return
    click.echo(f"SMS to {number} since the dial:")
    for _id, status, body, reason in rows:
        label = status if status != "failed" else f"failed: {reason or 'no reason'}"
        if status not in FINAL:
            label += ", is a worker running?"
        click.echo(f"  [{label}] {body}")


def run_session(session: Session) -> bool:
    """Play one USSD session; give False if input ran out before it ended."""
    screen, ended = session.hop()
    while True:
        show(screen, session.service_code if not ended else "session ended")
        if ended:
            session.report("Success")
            return True
        value = None
        while not value:  # a phone cannot send an empty reply
            value = read("> ")
            if value is None:
                click.echo("(hung up)")
                session.report("Incomplete")
                return False
        session.inputs.append(value.strip())
        screen, ended = session.hop()


@click.command("phone")
@with_appcontext
@click.argument("number")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True,
              help="Base URL of the gateway.")
@click.option("--code", "service_code", default=None,
              help="USSD code to dial.  [default: USSD_SERVICE_CODE, *384*2026#]")
@click.option("--network", default="63902", show_default=True,
              help="Network code AT reports (63902: Safaricom).")
@click.option("--wait", default=8.0, show_default=True,
              help="Seconds to wait for the worker to send SMS after a session.")
def phone(number: str, url: str, service_code: str | None, network: str, wait: float) -> None:
    """Dial the USSD code as NUMBER (E.164 or 07..) and show the SMS it gets."""
    try:
        e164 = normalise(number)
    except InvalidPhone as exc:
        raise click.BadParameter(f"{number!r} is not a phone number ({exc})",
                                 param_hint="NUMBER") from None
    config = current_app.config
    code = service_code or config["USSD_SERVICE_CODE"]
    click.echo(f"{e164} dialling {code} at {url}/ussd (type a reply and Enter; Ctrl-D hangs up)")
    while True:
        after_id = newest_message_id()
        session = Session(url.rstrip("/"), e164, code, network, config.get("CALLBACK_TOKEN"))
        try:
            finished = run_session(session)
        except KeyboardInterrupt:
            session.report("Incomplete")
            raise click.Abort() from None
        show_sms(e164, after_id, wait)
        if not finished:
            return
        again = read("Dial again? [y/N] ")
        if (again or "").strip().lower() not in ("y", "yes"):
            return


def register(app: Flask) -> None:
    app.cli.add_command(phone)
