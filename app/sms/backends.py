"""SMS backends: Africa's Talking through the official SDK, or a local outbox."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

# `africastalking/__init__.py` rebinds the name `SMS` to None after importing the
# submodule, so `africastalking.SMS.SMSService` (and `import africastalking.SMS as m`)
# yields None. Importing the class from the submodule goes through sys.modules and works.
from africastalking.Service import DEFAULT_TIMEOUT_S, AfricasTalkingException, validate_phone
from africastalking.SMS import SMSService

log = logging.getLogger(__name__)

ACCEPTED = "accepted"
RETRY = "retry"
FAILED = "failed"

ACCEPTED_CODES = frozenset({100, 101, 102})
RETRY_CODES = frozenset({402, 405, 500, 501, 502})

REASON_MAX = 200
MISSING_REASON = "missing from AT reply"


@dataclass(frozen=True)
class SendResult:
    """The outcome of sending one SMS to one recipient."""

    number: str
    outcome: str  # "accepted" | "retry" | "failed"
    status_code: int | None
    status: str
    message_id: str | None
    cost: str | None
    reason: str | None


class SmsBackend(Protocol):
    """Anything that can send one body to many recipients."""

    name: str

    def send(
        self,
        body: str,
        recipients: list[str],
        *,
        sender_id: str | None = None,
        enqueue: bool = False,
    ) -> list[SendResult]:
        """Send `body` and return one result per recipient, in recipient order."""
        ...


def classify(status_code: int) -> str:
    """Map an AT per-recipient statusCode to accepted, retry or failed."""
    if status_code in ACCEPTED_CODES:
        return ACCEPTED
    if status_code in RETRY_CODES:
        return RETRY
    return FAILED


def _truncate(reason: str) -> str:
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


class OutboxBackend:
    """Accept everything without sending; the caller's Message row is the outbox."""

    name = "outbox"

    def send(
        self,
        body: str,
        recipients: list[str],
        *,
        sender_id: str | None = None,
        enqueue: bool = False,
    ) -> list[SendResult]:
        """Return an accepted result per recipient with a local message id."""
        return [
            SendResult(
                number=number,
                outcome=ACCEPTED,
                status_code=101,
                status="Success",
                message_id="outbox-" + uuid.uuid4().hex,
                cost=None,
                reason=None,
            )
            for number in recipients
        ]


class AfricasTalkingBackend:
    """Send through the official `africastalking` SDK's SMSService."""

    name = "africastalking"

    def __init__(
        self,
        username: str,
        api_key: str,
        api_url: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT_S,
    ) -> None:
        # A private instance, not `africastalking.initialize`, which mutates module
        # globals shared by every caller in the process.
        self.service = SMSService(username, api_key)
        if api_url:
            # The SDK has no base-URL setting: `_init_service()` hard-codes AT's host into
            # the private `_baseUrl` ("https://api.africastalking.com/version1") and
            # `send` posts to `_baseUrl + "/messaging"`. Tests, proxies and other AT
            # regions need `{api_url}/version1/messaging`, so set it here on purpose.
            # tests/sms/test_backends.py proves the override reaches the wire.
            base = api_url.rstrip("/") + "/version1"
            self.service._baseUrl = base
            self.service._contentUrl = base
        self.api_url = api_url
        self.timeout = timeout

    def send(
        self,
        body: str,
        recipients: list[str],
        *,
        sender_id: str | None = None,
        enqueue: bool = False,
    ) -> list[SendResult]:
        """Send `body` in one bulk request and return one result per recipient."""
        # The SDK raises ValueError for the whole batch on one malformed number (and puts
        # the number in the message), so drop those here as permanent failures instead.
        ok = [isinstance(n, str) and validate_phone(n) for n in recipients]
        valid = [n for n, good in zip(recipients, ok, strict=True) if good]
        sent = iter(
            self._send_valid(body, valid, sender_id=sender_id, enqueue=enqueue) if valid else []
        )
        return [
            next(sent)
            if good
            else SendResult(
                number=number,
                outcome=FAILED,
                status_code=None,
                status="InvalidPhoneNumber",
                message_id=None,
                cost=None,
                reason="number rejected by SDK validation (not E.164)",
            )
            for number, good in zip(recipients, ok, strict=True)
        ]

    def _send_valid(
        self, body: str, recipients: list[str], *, sender_id: str | None, enqueue: bool
    ) -> list[SendResult]:
        try:
            reply = self.service.send(
                body, recipients, sender_id=sender_id, enqueue=enqueue, timeout=self.timeout
            )
        except AfricasTalkingException as exc:
            # The SDK raises this for any non-2xx reply and keeps only the body text;
            # the HTTP status code is lost.
            return self._all_retry(recipients, "HTTPError", f"AT error reply: {exc}")
        except requests.RequestException as exc:
            # Timeouts, refused connections and a JSON body that does not parse
            # (requests' JSONDecodeError is a RequestException).
            return self._all_retry(recipients, type(exc).__name__, f"transport error: {exc}")
        return self._parse(reply, recipients)

    def _parse(self, reply: Any, recipients: list[str]) -> list[SendResult]:
        # The SDK returns the raw text unless the content-type is exactly
        # "application/json"; anything but the documented shape is retried.
        try:
            data = reply["SMSMessageData"]
            rows = data["Recipients"]
            if not isinstance(rows, list):
                raise TypeError("Recipients is not a list")
        except (TypeError, KeyError) as exc:
            preview = reply if isinstance(reply, str) else repr(reply)
            return self._all_retry(
                recipients, "BadReply", f"unexpected AT reply ({exc!r}): {preview}"
            )

        # Queue per number so a number requested twice gets both of its rows.
        by_number: dict[str, deque[Mapping[str, Any]]] = defaultdict(deque)
        for row in rows:
            if isinstance(row, Mapping) and isinstance(row.get("number"), str):
                by_number[row["number"]].append(row)

        results = [self._from_row(number, by_number[number]) for number in recipients]
        counts: dict[str, int] = defaultdict(int)
        for result in results:
            counts[result.outcome] += 1
        # Counts only: the AT summary and the rows carry phone numbers.
        log.info(
            "AT SMS reply: %d recipients, %d accepted, %d retry, %d failed",
            len(recipients),
            counts[ACCEPTED],
            counts[RETRY],
            counts[FAILED],
        )
        if counts[RETRY] or counts[FAILED]:
            log.debug("AT SMS summary: %s", data.get("Message"))
        return results

    @staticmethod
    def _from_row(number: str, rows: deque[Mapping[str, Any]]) -> SendResult:
        if not rows:
            return SendResult(
                number=number,
                outcome=RETRY,
                status_code=None,
                status="Missing",
                message_id=None,
                cost=None,
                reason=MISSING_REASON,
            )
        row = rows.popleft()
        status = str(row.get("status") or "")
        try:
            code: int | None = int(row["statusCode"])
        except (KeyError, TypeError, ValueError):
            code = None
        outcome = classify(code) if code is not None else RETRY
        message_id = row.get("messageId")
        # AT fills failed rows with the string "None" rather than leaving the id out.
        if message_id in (None, "", "None"):
            message_id = None
        cost = row.get("cost")
        if outcome == ACCEPTED:
            reason = None
        elif code is None:
            reason = _truncate(f"no usable statusCode in AT reply: {status}")
        else:
            reason = _truncate(status or f"statusCode {code}")
        return SendResult(
            number=number,
            outcome=outcome,
            status_code=code,
            status=status,
            message_id=str(message_id) if message_id is not None else None,
            cost=str(cost) if cost is not None else None,
            reason=reason,
        )

    @staticmethod
    def _all_retry(recipients: list[str], status: str, reason: str) -> list[SendResult]:
        reason = _truncate(reason)
        # The reason is the AT reply body or the exception text, which may echo numbers.
        log.warning("AT SMS send failed for %d recipients (%s)", len(recipients), status)
        log.debug("AT SMS failure reason: %s", reason)
        return [
            SendResult(
                number=number,
                outcome=RETRY,
                status_code=None,
                status=status,
                message_id=None,
                cost=None,
                reason=reason,
            )
            for number in recipients
        ]


def backend_from_config(config: Mapping[str, Any]) -> SmsBackend:
    """Build the configured backend: AT with credentials, else the outbox."""
    username = config.get("AT_USERNAME")
    api_key = config.get("AT_API_KEY")
    if username and api_key:
        return AfricasTalkingBackend(str(username), str(api_key), config.get("AT_API_URL") or None)
    if username or api_key:
        missing = "AT_API_KEY" if username else "AT_USERNAME"
        raise ValueError(
            f"SMS misconfigured: {missing} is not set but "
            f"{'AT_USERNAME' if username else 'AT_API_KEY'} is. Set both to send through "
            "Africa's Talking, or neither to use the local outbox."
        )
    return OutboxBackend()
