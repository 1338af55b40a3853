"""A local HTTP server speaking Africa's Talking's SMS API wire format.

Tests and benchmarks point `AT_API_URL` at it; nothing else about AT is faked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

MESSAGING_PATH = "/version1/messaging"
AUTH_ERROR = "The supplied authentication is invalid"
COST_PER_SMS = Decimal("0.8000")
ACCEPTED_CODES = frozenset({100, 101, 102})
# AT validates numbers server-side too; anything not "+" and digits is InvalidPhoneNumber.
NUMBER_RE = re.compile(r"^\+\d{6,15}$")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.1 so replies carry Content-Length like AT's; requests still closes per call.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.server.fake._handle_post(self)

    def do_GET(self) -> None:
        self.server.fake._reply(self, 404, "text/plain", "Not Found")

    def log_message(self, format: str, *args: Any) -> None:
        # Keep test output clean; the CLI prints received SMS itself.
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeATServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing when a client hung up before its reply (a timed-out SDK call).

        A delayed reply written after the client gave up is no error of the server's,
        and printing its traceback lands in whatever a later test is capturing.
        """
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeATServer:
    """Serve POST /version1/messaging like AT and record what was sent."""

    def __init__(
        self,
        port: int = 0,
        api_key: str | None = None,
        on_request: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.port = port
        self.api_key = api_key  # None accepts any non-empty apiKey header
        self.on_request = on_request
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str, str]] = []
        self._released = threading.Event()
        self._reset_controls()

    def _reset_controls(self) -> None:
        self._fail_remaining = 0
        self._fail_status = 500
        self._fail_body = "Internal Server Error"
        self._statuses: dict[str, list[Any]] = {}  # number -> [code, text, times|None]
        self._delay = 0.0
        self._omitted: set[str] = set()
        self._holding = False
        self._released.set()  # whatever is held goes

    # lifecycle -----------------------------------------------------------------

    def start(self) -> FakeATServer:
        """Bind 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeATServer already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wake handlers sleeping in delay()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Serve in the calling thread until interrupted; call `ready` once bound."""
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        if ready is not None:
            ready()  # only now can clients connect, so announce after binding
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            self._server = None
            self._stopping.set()
            server.server_close()

    def __enter__(self) -> FakeATServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Return the base URL to use as AT_API_URL."""
        return f"http://127.0.0.1:{self.port}"

    # controls ------------------------------------------------------------------

    def fail_next(
        self, n: int, http_status: int = 500, body: str = "Internal Server Error"
    ) -> None:
        """Answer the next `n` requests with `http_status` and a text/plain `body`."""
        with self._lock:
            self._fail_remaining = n
            self._fail_status = http_status
            self._fail_body = body

    def set_status(
        self, number: str, status_code: int, status_text: str, times: int | None = None
    ) -> None:
        """Force `number`'s statusCode, for `times` sends or until reset."""
        with self._lock:
            self._statuses[number] = [status_code, status_text, times]

    def omit(self, number: str) -> None:
        """Leave `number` out of the reply's Recipients, as AT does on a whole-batch reject."""
        with self._lock:
            self._omitted.add(number)

    def delay(self, seconds: float) -> None:
        """Add `seconds` of latency before every reply."""
        with self._lock:
            self._delay = seconds

    def hold(self) -> None:
        """Hold every request from now on open, unanswered, until `release()`.

        A request held is in flight for as long as the test needs, however slow the
        machine: a header line of the reply trickles out a byte a second, so a read
        timeout longer than that (the SDK's is 9 s) never fires. Released, it ends as
        a 503; its client is usually dead by then.
        """
        with self._lock:
            self._holding = True
            self._released.clear()

    def release(self) -> None:
        """Answer the held requests (503) and stop holding new ones."""
        with self._lock:
            self._holding = False
            self._released.set()

    def reset(self) -> None:
        """Forget recorded traffic and clear every failure control."""
        with self._lock:
            self.requests.clear()
            self.sent.clear()
            self._reset_controls()

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10, interval: float = 0.01
    ) -> bool:
        """Poll `predicate` until truthy; raise TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)

    # request handling ----------------------------------------------------------

    def _reply(self, handler: _Handler, status: int, content_type: str, body: str) -> None:
        payload = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)
        handler.close_connection = True

    def _hold_open(self, handler: _Handler) -> None:
        handler.close_connection = True
        try:
            handler.wfile.write(b"HTTP/1.1 503 Service Unavailable\r\nX-Held: ")
            while not (self._released.wait(1) or self._stopping.is_set()):
                handler.wfile.write(b".")
            handler.wfile.write(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass  # the client is gone (a killed worker): there is no one to answer

    def _handle_post(self, handler: _Handler) -> None:
        received_at = time.monotonic()
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        path = urlsplit(handler.path).path

        record = {
            "path": path,
            "username": form.get("username"),
            "to": [n.strip() for n in form.get("to", "").split(",") if n.strip()],
            "message": form.get("message"),
            "from": form.get("from"),
            "bulkSMSMode": form.get("bulkSMSMode"),
            "enqueue": form.get("enqueue"),
            "headers": dict(handler.headers.items()),
            "received_at": received_at,
        }
        with self._lock:
            self.requests.append(record)
            held = self._holding
            delay = self._delay
            failing = not held and self._fail_remaining > 0
            if failing:
                self._fail_remaining -= 1
                fail_status, fail_body = self._fail_status, self._fail_body
        if self.on_request is not None:
            self.on_request(record)
        if held:
            return self._hold_open(handler)
        if delay:
            self._stopping.wait(delay)

        if path != MESSAGING_PATH:
            return self._reply(handler, 404, "text/plain", "Not Found")
        if failing:
            return self._reply(handler, fail_status, "text/plain", fail_body)
        api_key = handler.headers.get("apiKey")
        if not api_key or (self.api_key is not None and api_key != self.api_key):
            return self._reply(handler, 401, "text/plain", AUTH_ERROR)
        if not form.get("username") or not record["to"] or form.get("message") is None:
            return self._reply(handler, 400, "text/plain", "Request is missing required form field")

        with self._lock:
            omitted = set(self._omitted)
        rows = [
            self._recipient_row(number, record["message"])
            for number in record["to"]
            if number not in omitted
        ]
        ok = [r for r in rows if r["statusCode"] in ACCEPTED_CODES]
        total = sum((COST_PER_SMS for _ in ok), Decimal(0))
        summary = f"Sent to {len(ok)}/{len(record['to'])} Total Cost: " + (
            f"KES {total:.4f}" if ok else "0"
        )
        body = json.dumps({"SMSMessageData": {"Message": summary, "Recipients": rows}})
        # Exactly "application/json": the SDK returns raw text for anything else,
        # including "application/json; charset=utf-8".
        return self._reply(handler, 201, "application/json", body)

    def _recipient_row(self, number: str, message: str) -> dict[str, Any]:
        with self._lock:
            forced = self._statuses.get(number)
            if forced is not None:
                code, text, times = forced
                if times is not None:
                    if times <= 1:
                        del self._statuses[number]
                    else:
                        forced[2] = times - 1
            elif not NUMBER_RE.match(number):
                code, text = 403, "InvalidPhoneNumber"
            else:
                code, text = 101, "Success"
            if code in ACCEPTED_CODES:
                message_id = "ATXid_" + uuid.uuid4().hex
                self.sent.append((number, message, message_id))
                return {
                    "statusCode": code,
                    "number": number,
                    "status": text,
                    "cost": f"KES {COST_PER_SMS:.4f}",
                    "messageId": message_id,
                }
        # AT fills rejected rows with cost "0" and the string "None" as the id.
        return {
            "statusCode": code,
            "number": number,
            "status": text,
            "cost": "0",
            "messageId": "None",
        }


def main(argv: list[str] | None = None) -> None:
    """Run the fake in the foreground and print each SMS it receives."""
    parser = argparse.ArgumentParser(description="Fake Africa's Talking SMS API")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--api-key", default=None, help="require this apiKey header value")
    args = parser.parse_args(argv)

    def show(record: dict[str, Any]) -> None:
        sender = record["from"] or "-"
        flags = " enqueue" if record["enqueue"] else ""
        for number in record["to"]:
            print(f"[SMS from={sender}{flags}] {number}: {record['message']}", flush=True)

    fake = FakeATServer(port=args.port, api_key=args.api_key, on_request=show)

    def announce() -> None:
        print(f"Fake AT SMS API on {fake.url}{MESSAGING_PATH}", flush=True)

    try:
        fake.serve_forever(ready=announce)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
