"""The local AT server (``tests/fakes/at_api.py``) in a child process, for the campaign bench.

In its own process it does not share the bench's GIL; the parent asks it over a pipe
how many recipients arrived, for the batches it received, to reset or to stop.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

API_KEY = "bench-api-key"


def _at_server(conn: Connection, port_out: Connection) -> None:
    """Serve the fake AT API in this process and answer the parent's questions."""
    from tests.fakes.at_api import FakeATServer

    server = FakeATServer(api_key=API_KEY).start()
    port_out.send(server.port)
    while True:
        command = conn.recv()
        if command == "count":
            with server._lock:
                conn.send(len(server.sent))
        elif command == "stats":
            with server._lock:
                numbers = [n for n, _, _ in server.sent]
                times = [r["received_at"] for r in server.requests]
                sizes = [len(r["to"]) for r in server.requests]
                conn.send({"recipients": len(numbers), "distinct": len(set(numbers)),
                           "requests": len(times), "first": min(times, default=None),
                           "last": max(times, default=None), "sizes": sizes,
                           "bulk": all(r["bulkSMSMode"] == "1" for r in server.requests),
                           "enqueue": all(r["enqueue"] == "1" for r in server.requests)})
        elif command == "batches":
            with server._lock:
                conn.send([(r["to"], r["message"]) for r in server.requests])
        elif command == "reset":
            server.reset()
            conn.send(True)
        elif command == "stop":
            server.stop()
            conn.send(True)
            return


class ATProcess:
    """The local AT server in a child process, so it does not share our GIL."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        port_in, port_out = ctx.Pipe()
        self.process = ctx.Process(target=_at_server, args=(child, port_out), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{port_in.recv()}"

    def ask(self, command: str) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    def stop(self) -> None:
        self.ask("stop")
        self.process.join(5)
