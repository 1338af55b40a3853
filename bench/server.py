"""The server under test and how it is driven: gunicorn, a raw HTTP client, CPU readings.

Every benchmark that loads an HTTP endpoint starts it here (``Gunicorn``, in its own
process group so nothing outlives the run), posts to it with ``RawHttp`` and charges
the CPU it used with ``cpu_seconds`` and the machine-wide readings below.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import ROOT, SetupError

__all__ = [
    "SERVICES", "Gunicorn", "HttpError", "RawHttp", "all_process_cpu", "children",
    "cpu_seconds", "free_port", "machine_busy_seconds", "process_delta", "tree_env",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_env(env: dict[str, str], tree: Path) -> dict[str, str]:
    """``env`` for a server that imports the project from source tree ``tree``."""
    return {**env, "PYTHONPATH": str(tree)}


# ------------------------------------------------------------------------ gunicorn


class Gunicorn:
    """``gunicorn -w N -b 127.0.0.1:PORT target`` in its own process group."""

    def __init__(self, target: str, env: dict[str, str], workers: int, log_path: Path,
                 cwd: Path = ROOT) -> None:
        self.target = target
        self.env = env
        self.cwd = cwd
        self.workers = workers
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "30", "--log-level", "warning",
             self.target],
            cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        client = RawHttp("127.0.0.1", self.port, timeout=2)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"gunicorn {self.target} exited ({self.proc.returncode}):\n"
                                 + self.log_tail())
            try:
                status, _body = client.request(b"GET", "/healthz", b"")
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SetupError(f"gunicorn {self.target} did not answer /healthz in {timeout:.0f}s:\n"
                         + self.log_tail())

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.worker_pids()] if self.proc else []

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of its own process group (it was started in a new session).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        self._log.close()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


# ----------------------------------------------------------------------------- CPU


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (from /proc/PID/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def machine_busy_seconds() -> tuple[float, float, float]:
    """(busy, total, irq + softirq) CPU seconds of the whole machine, from /proc/stat.

    Interrupt time (on loopback, most of TCP's work) is also counted in the time of
    the process it interrupted, so it is reported as an "of which".
    """
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / ticks, total / ticks, (values[5] + values[6]) / ticks


SERVICES = {"redis": ("redis-server",), "postgres": ("postgres", "postmaster")}
"""Processes whose CPU is reported separately, by their command name (read-only /proc)."""


def all_process_cpu() -> dict[int, tuple[str, float]]:
    """Every process's command name and CPU seconds so far (read-only /proc)."""
    found: dict[int, tuple[str, float]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        found[int(proc.name)] = (comm, cpu_seconds([int(proc.name)]))
    return found


def process_delta(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                  exclude: set[int]) -> dict[str, float]:
    """CPU used between two readings by command name (a process born since counts from 0)."""
    used: dict[str, float] = {}
    for pid, (comm, cpu) in after.items():
        if pid in exclude:
            continue
        prior = before.get(pid)
        delta = cpu - (prior[1] if prior and prior[0] == comm else 0.0)
        if delta > 0:
            used[comm] = used.get(comm, 0.0) + delta
    return dict(sorted(used.items(), key=lambda kv: -kv[1]))


# ---------------------------------------------------------------------- HTTP client


class HttpError(Exception):
    pass


class RawHttp:
    """A minimal HTTP/1.1 client on a plain socket: the cheapest way to post a form.

    It keeps the connection alive when the server does; gunicorn's sync workers
    answer ``Connection: close``, so each hop then opens a new TCP connection
    (the same for the gateway and the baseline).
    """

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.addr = (host, port)
        self.host_header = f"{host}:{port}".encode()
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.addr, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(self, method: bytes, path: str, body: bytes,
                content_type: bytes = b"application/x-www-form-urlencoded") -> tuple[int, bytes]:
        head = (method + b" " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host_header
                + b"\r\nContent-Type: " + content_type
                + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        reused = self.sock is not None
        try:
            return self._exchange(head + body)
        except (OSError, HttpError):
            self.close()
            if not reused:
                raise
            return self._exchange(head + body)  # a kept-alive socket the server had closed

    def _exchange(self, payload: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = self._connect()
        sock = self.sock
        sock.sendall(payload)
        buf = b""
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = sock.recv(65536)
            if not chunk:
                raise HttpError("connection closed before the response head")
            buf += chunk
        head, rest = buf[:end], buf[end + 4:]
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        status = int(parts[1])
        length = None
        close = parts[0] == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise HttpError("chunked responses are not supported by this client")
        if length is None:
            while True:  # body runs to EOF
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            close = True
        else:
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    raise HttpError("connection closed inside the body")
                rest += chunk
        if close:
            self.close()
        return status, rest
