"""USSD gateway throughput and latency against a bare Flask + Redis baseline (issue 2).

    python -m bench.ussd_gateway [--concurrency 32] [--duration 20] [--warmup 3]
                                 [--database-url URL] [--redis-url URL]
    python -m bench.ussd_gateway --profile 100     # cProfile of the hop, in-process

What it does:

1. Setup: a dedicated PostgreSQL database (``kazi_bench``, created if missing, its
   ``public`` schema dropped and recreated, then migrated with ``app.migrate.upgrade``)
   and a dedicated Redis db (14, flushed before each target).
2. For each target, baseline (``bench.baseline_app:app``) then gateway (``wsgi:app``):
   start ``gunicorn -w 3`` (sync workers) on a free port, wait for ``/healthz``, run
   the load, stop gunicorn (SIGTERM, then SIGKILL of its process group).
3. Load: ``--concurrency`` phone threads, each playing whole registrations over and
   over (15 hops, a fresh sessionId, phone number and national ID each time) exactly
   as Africa's Talking posts them (``text`` = every input so far joined by ``*``).
   The first ``--warmup`` seconds are not counted; then hops finished inside the
   next ``--duration`` seconds are. Every reply must be 200 text/plain starting with
   ``CON ``/``END ``; the gateway's must also follow the journey (``END`` only on the
   last hop, which must say "Registered!"). Anything else is an error and reported.
4. Prints a table (hops/s, p50, p99, the ratios against the targets: throughput
   >= 0.8 x baseline, p99 <= 2 x baseline) with the machine and date, and writes it
   as JSON to ``bench/results/ussd_gateway.json``.

The load generator is a raw-socket HTTP/1.1 client (no ``requests``/``http.client``
parsing) in threads; it runs on the same machine and shares its cores with gunicorn,
Redis and PostgreSQL, and its own CPU use is measured and printed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
SERVICE_CODE = "*384*2026#"
TARGET_THROUGHPUT = 0.8
TARGET_P99 = 2.0

# One registration: what the person types on each hop after the first dial.
# lang=English, Register, Next, I agree, name, ID, year, gender, county, education,
# occupation, where=both, destinations, Confirm. The name, ID, gender, county,
# education and occupation vary per registration (see ``inputs_for``).
HOPS_PER_REGISTRATION = 15


# --------------------------------------------------------------------------- setup


class SetupError(RuntimeError):
    """The benchmark cannot run: said plainly, exit non-zero."""


def prepare_database(url: str, force: bool) -> None:
    """Create the bench database if missing, empty its schema and migrate it."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise SetupError(f"--database-url must be PostgreSQL, got {parsed.drivername}")
    name = parsed.database or ""
    if "bench" not in name and not force:
        raise SetupError(f"refusing to drop the schema of database {name!r}: its name has no "
                         "'bench' in it (pass --force if you mean it)")
    conninfo = dict(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                    user=parsed.username or "postgres", connect_timeout=3)
    if parsed.password:
        conninfo["password"] = parsed.password
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, **conninfo)
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SetupError(f"PostgreSQL does not answer at {conninfo['host']}:{conninfo['port']}: "
                         f"{reason}") from None
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **conninfo) as conn:
        user = conninfo["user"]
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute(f'CREATE SCHEMA public AUTHORIZATION "{user}"')
    from app.migrate import upgrade

    upgrade(url)


def flush_redis(url: str) -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        if client.connection_pool.connection_kwargs.get("db", 0) == 0:
            raise SetupError("refusing to flush Redis db 0; give the bench its own db (e.g. /14)")
        client.flushdb()
    except RedisError as exc:
        raise SetupError(f"Redis does not answer at {url}: {exc}") from None
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def gateway_env(database_url: str, redis_url: str, pii_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AT_", "CALLBACK_TOKEN", "KAZI_", "USSD_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, PII_KEYS=pii_key,
               SECRET_KEY="bench-secret-" + pii_key[:8], KAZI_ENV="development",
               USSD_SERVICE_CODE=SERVICE_CODE, PYTHONUNBUFFERED="1")
    return env


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


# ---------------------------------------------------------------------------- load

FIRST_NAMES = ("Amina", "Wanjiku", "Achieng", "Njeri", "Mumbua", "Chebet", "Kerubo", "Halima",
               "Otieno", "Kamau", "Mwangi", "Kiprono", "Omondi", "Mutua", "Barasa", "Juma")
LAST_NAMES = ("Wambui", "Odhiambo", "Kariuki", "Njoroge", "Mutiso", "Kiptoo", "Onyango",
              "Wafula", "Nyambura", "Kilonzo", "Cherono", "Atieno", "Hassan", "Mohamed")


def inputs_for(n: int) -> list[str]:
    """The inputs of registration ``n``, after the first dial (14 of them)."""
    return [
        "1",  # English
        "1",  # Register
        "1",  # Next
        "1",  # I agree
        f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // 7) % len(LAST_NAMES)]}",
        f"{20_000_000 + n}",  # a unique 8-digit national ID
        str(1975 + n % 25),
        str(1 + n % 3),  # gender
        str(1 + n % 47),  # county by number
        str(1 + n % 5),  # education
        str(1 + n % 9),  # occupation, all on the first page
        "3",  # work in Kenya and abroad
        "1 3",  # destinations
        "1",  # Confirm
    ]


@dataclass
class Sample:
    start: float
    end: float
    hop: int  # 1..15, the position of the hop in the registration


@dataclass
class PhoneStats:
    samples: list[Sample] = field(default_factory=list)
    registrations: int = 0
    errors: list[tuple[float, str]] = field(default_factory=list)


class Load:
    """``concurrency`` phone threads playing registrations until ``stop_at``."""

    def __init__(self, port: int, concurrency: int, gateway: bool, run_tag: str,
                 first: int = 1) -> None:
        self.port = port
        self.concurrency = concurrency
        self.gateway = gateway
        self.run_tag = run_tag
        self.counter = itertools.count(first)  # next() on it is atomic under the GIL
        self.stop = threading.Event()
        self.stats = [PhoneStats() for _ in range(concurrency)]

    def run_phone(self, index: int) -> None:
        stats = self.stats[index]
        client = RawHttp("127.0.0.1", self.port)
        clock = time.perf_counter
        try:
            while not self.stop.is_set():
                n = next(self.counter)
                phone = f"+2547{10_000_000 + n:08d}"
                session_id = f"ATUid_bench_{self.run_tag}_{n}"
                typed: list[str] = []
                script = inputs_for(n)
                for hop in range(1, HOPS_PER_REGISTRATION + 1):
                    if self.stop.is_set():
                        break
                    body = urlencode({"sessionId": session_id, "serviceCode": SERVICE_CODE,
                                      "phoneNumber": phone, "networkCode": "63902",
                                      "text": "*".join(typed)}).encode()
                    start = clock()
                    try:
                        status, reply = client.request(b"POST", "/ussd", body)
                    except (OSError, HttpError, ValueError) as exc:
                        stats.errors.append((clock(), f"hop {hop}: {type(exc).__name__}: {exc}"))
                        client.close()
                        break
                    end = clock()
                    problem = self.check(status, reply, hop)
                    if problem:
                        stats.errors.append((end, f"hop {hop}: {problem}"))
                        break
                    stats.samples.append(Sample(start, end, hop))
                    if hop == HOPS_PER_REGISTRATION:
                        stats.registrations += 1
                    else:
                        typed.append(script[hop - 1])
        finally:
            client.close()

    def check(self, status: int, reply: bytes, hop: int) -> str | None:
        text = reply.decode("utf-8", "replace")
        if status != 200:
            return f"HTTP {status}: {text[:120]!r}"
        if not text.startswith(("CON ", "END ")):
            return f"reply is neither CON nor END: {text[:120]!r}"
        if not self.gateway:
            return None
        last = hop == HOPS_PER_REGISTRATION
        if not last and text.startswith("END "):
            return f"session ended early: {text[:120]!r}"
        if last and not (text.startswith("END ") and "Registered" in text):
            return f"last screen does not say registered: {text[:120]!r}"
        return None


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


def run_load(name: str, server: Gunicorn, concurrency: int, warmup: float, duration: float,
             gateway: bool, first: int = 1) -> dict[str, Any]:
    load = Load(server.port, concurrency, gateway, run_tag=f"{name}{int(time.time())}",
                first=first)
    threads = [threading.Thread(target=load.run_phone, args=(i,), daemon=True,
                                name=f"phone-{i}") for i in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    t0 = began + warmup
    t1 = t0 + duration
    time.sleep(max(0.0, t0 - time.perf_counter()))
    cpu0 = (cpu_seconds(server.pids()), time.process_time(), machine_busy_seconds(),
            all_process_cpu())
    time.sleep(max(0.0, t1 - time.perf_counter()))
    cpu1 = (cpu_seconds(server.pids()), time.process_time(), machine_busy_seconds(),
            all_process_cpu())
    ours = {os.getpid(), *server.pids()}
    load.stop.set()
    for thread in threads:
        thread.join(timeout=30)

    window = [s for st in load.stats for s in st.samples if t0 <= s.end <= t1]
    latencies = sorted((s.end - s.start) * 1000 for s in window)
    hops = len(window)
    errors = [(t, e) for st in load.stats for t, e in st.errors]
    by_hop: dict[int, list[float]] = {}
    for s in window:
        by_hop.setdefault(s.hop, []).append((s.end - s.start) * 1000)
    server_cpu = cpu1[0] - cpu0[0]
    gen_cpu = cpu1[1] - cpu0[1]
    busy = cpu1[2][0] - cpu0[2][0]
    capacity = cpu1[2][1] - cpu0[2][1]
    interrupts = cpu1[2][2] - cpu0[2][2]
    by_command = process_delta(cpu0[3], cpu1[3], exclude=ours)
    services_used = {name: sum(by_command.pop(c, 0.0) for c in comms)
                     for name, comms in SERVICES.items()}
    others = {c: round(v, 2) for c, v in by_command.items() if v >= 0.05}
    return {
        "target": server.target,
        "hops": hops,
        "hops_per_s": hops / duration,
        "registrations_completed": sum(st.registrations for st in load.stats),
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
        "errors": len(errors),
        "errors_in_window": sum(1 for t, _ in errors if t0 <= t <= t1),
        "error_samples": sorted({e for _, e in errors})[:10],
        "by_hop_ms": {str(h): {"n": len(v), "p50": percentile(sorted(v), 0.5),
                               "p99": percentile(sorted(v), 0.99)}
                      for h, v in sorted(by_hop.items())},
        "cpu": {
            "gunicorn_cpu_s": server_cpu,
            "gunicorn_cpu_ms_per_hop": server_cpu * 1000 / hops if hops else None,
            # What one hop costs the machine, whatever else runs on it: gunicorn, the
            # load generator, Redis and PostgreSQL.
            "stack_cpu_ms_per_hop": ((server_cpu + gen_cpu + services_used["redis"]
                                      + services_used["postgres"]) * 1000 / hops
                                     if hops else None),
            "load_generator_cpu_s": gen_cpu,
            "machine_busy_s": busy,
            "machine_capacity_s": capacity,
            "machine_busy_pct": 100 * busy / capacity if capacity else None,
            "redis_cpu_s": services_used["redis"],
            "postgres_cpu_s": services_used["postgres"],
            "irq_softirq_cpu_s": interrupts,
            "other_processes_cpu_s": others,
            # Interrupt time is also charged to whichever process was running,
            # so it is not subtracted again here.
            "unattributed_cpu_s": (busy - server_cpu - gen_cpu
                                   - sum(services_used.values()) - sum(by_command.values())),
        },
    }


# -------------------------------------------------------------------------- report


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    return {
        "nproc": os.cpu_count(),
        "nproc_available": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: pkg(name) for name in
                     ("flask", "gunicorn", "redis", "sqlalchemy", "psycopg", "cryptography")},
    }


def ratios(base: dict[str, Any], gw: dict[str, Any]) -> dict[str, Any]:
    throughput = gw["hops_per_s"] / base["hops_per_s"] if base["hops_per_s"] else float("nan")
    p99 = gw["p99_ms"] / base["p99_ms"] if base["p99_ms"] else float("nan")
    base_cost, gw_cost = base["cpu"]["stack_cpu_ms_per_hop"], gw["cpu"]["stack_cpu_ms_per_hop"]
    return {
        "cpu_cost_ratio_baseline_over_gateway": (base_cost / gw_cost
                                                 if base_cost and gw_cost else float("nan")),
        "throughput_gateway_over_baseline": throughput,
        "throughput_target": f">= {TARGET_THROUGHPUT}",
        "throughput_met": throughput >= TARGET_THROUGHPUT,
        "p99_gateway_over_baseline": p99,
        "p99_target": f"<= {TARGET_P99}",
        "p99_met": p99 <= TARGET_P99,
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One target over its rounds: medians of the figures, sums of the counts.

    With one round this is that round. ``cpu`` and ``by_hop_ms`` are the median round's.
    """
    if len(runs) == 1:
        return dict(runs[0])
    middle = sorted(runs, key=lambda r: r["hops_per_s"])[len(runs) // 2]
    out = dict(middle)
    for key in ("hops_per_s", "p50_ms", "p90_ms", "p99_ms", "mean_ms"):
        out[key] = statistics.median(r[key] for r in runs)
    out["max_ms"] = max(r["max_ms"] for r in runs)
    for key in ("hops", "registrations_completed", "errors", "errors_in_window"):
        out[key] = sum(r[key] for r in runs)
    out["error_samples"] = sorted({e for r in runs for e in r["error_samples"]})[:10]
    out["rounds_hops_per_s"] = [round(r["hops_per_s"], 1) for r in runs]
    out["rounds_p99_ms"] = [round(r["p99_ms"], 2) for r in runs]
    return out


def median_ratios(per_round: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each round's ratios (each round pairs a baseline and a gateway run)."""
    if len(per_round) == 1:
        return dict(per_round[0])
    throughput = statistics.median(r["throughput_gateway_over_baseline"] for r in per_round)
    p99 = statistics.median(r["p99_gateway_over_baseline"] for r in per_round)
    return {
        "cpu_cost_ratio_baseline_over_gateway": statistics.median(
            r["cpu_cost_ratio_baseline_over_gateway"] for r in per_round),
        "throughput_gateway_over_baseline": throughput,
        "throughput_target": f">= {TARGET_THROUGHPUT}",
        "throughput_met": throughput >= TARGET_THROUGHPUT,
        "p99_gateway_over_baseline": p99,
        "p99_target": f"<= {TARGET_P99}",
        "p99_met": p99 <= TARGET_P99,
        "of": f"median of {len(per_round)} rounds",
    }


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "USSD gateway benchmark (issue 2)",
        f"date     {report['date']}",
        f"machine  nproc={m['nproc']} cpu={m['cpu_model']} python={m['python']}",
        f"load     {report['concurrency']} phones (threads, raw-socket HTTP/1.1), "
        f"warm-up {report['warmup_s']:g}s, measured {report['duration_s']:g}s, "
        f"gunicorn -w {report['workers']} (sync)"
        + (f", {report['rounds']} rounds alternating baseline/gateway, medians shown"
           if report.get("rounds", 1) > 1 else ""),
        "note     the load generator, gunicorn, Redis and PostgreSQL share the same "
        f"{m['nproc']} cores; sync workers close the connection after each hop",
        "",
        f"{'':<10}{'hops/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'regs':>7}{'errors':>8}{'gunicorn CPU':>14}{'stack CPU':>11}",
        f"{'':<10}{'':>9}{'':>9}{'':>9}{'':>9}{'':>9}{'':>7}{'':>8}{'ms/hop':>14}{'ms/hop':>11}",
    ]
    for name in ("baseline", "gateway", "compare"):
        r = report["results"].get(name)
        if not r:
            continue
        cpu = r["cpu"]["gunicorn_cpu_ms_per_hop"]
        stack = r["cpu"]["stack_cpu_ms_per_hop"]
        lines.append(
            f"{name:<10}{r['hops_per_s']:>9.1f}{r['p50_ms']:>9.2f}{r['p90_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.1f}{r['registrations_completed']:>7}"
            f"{r['errors']:>8}{(cpu if cpu is not None else float('nan')):>14.2f}"
            f"{(stack if stack is not None else float('nan')):>11.2f}")
    ratio = report.get("ratios")
    if ratio:
        lines += [
            "",
            f"{'':<28}{'measured':>10}{'target':>10}{'met':>6}",
            f"{'throughput gateway/base':<28}{ratio['throughput_gateway_over_baseline']:>10.2f}"
            f"{ratio['throughput_target']:>10}{'yes' if ratio['throughput_met'] else 'NO':>6}",
            f"{'p99 gateway/base':<28}{ratio['p99_gateway_over_baseline']:>10.2f}"
            f"{ratio['p99_target']:>10}{'yes' if ratio['p99_met'] else 'NO':>6}",
            f"{'stack CPU/hop base/gateway':<28}"
            f"{ratio['cpu_cost_ratio_baseline_over_gateway']:>10.2f}{'':>10}{'':>6}"
            "  (the throughput ratio a quiet machine would give; less sensitive to other load)",
        ]
        for i, each in enumerate(report.get("ratios_per_round") or [], start=1):
            if len(report["ratios_per_round"]) > 1:
                b = report["per_round"]["baseline"][i - 1]
                g = report["per_round"]["gateway"][i - 1]
                lines.append(
                    f"  round {i}: baseline {b['hops_per_s']:.0f} hops/s p99 {b['p99_ms']:.1f} ms; "
                    f"gateway {g['hops_per_s']:.0f} hops/s p99 {g['p99_ms']:.1f} ms; ratios "
                    f"{each['throughput_gateway_over_baseline']:.2f} / "
                    f"{each['p99_gateway_over_baseline']:.2f}; CPU/hop ratio "
                    f"{each['cpu_cost_ratio_baseline_over_gateway']:.2f}")
    other = report.get("compare_ratios")
    if other:
        rounds = report.get("compare_ratios_per_round") or []
        lines += [
            "",
            f"compare = the gateway from {report['compare_tree']}",
            f"{'throughput compare/base':<28}{other['throughput_gateway_over_baseline']:>10.2f}"
            "  per round: " + ", ".join(f"{r['throughput_gateway_over_baseline']:.3f}"
                                        for r in rounds),
            f"{'stack CPU/hop base/compare':<28}"
            f"{other['cpu_cost_ratio_baseline_over_gateway']:>10.2f}"
            "  per round: " + ", ".join(f"{r['cpu_cost_ratio_baseline_over_gateway']:.3f}"
                                        for r in rounds),
        ]
    lines.append("")
    noisy = []
    for name, runs in report.get("per_round", {}).items():
        for i, r in enumerate(runs, start=1):
            c = r["cpu"]
            share = (sum(c["other_processes_cpu_s"].values()) + max(c["unattributed_cpu_s"], 0)) \
                / c["machine_capacity_s"] if c["machine_capacity_s"] else 0
            if share > 0.05:
                noisy.append(f"{name} round {i}: {100 * share:.0f}%")
    if noisy:
        lines.append("WARNING  other work on this machine took a share of the CPU while "
                     "measuring (" + ", ".join(noisy) + "); figures are noisy, rerun on a "
                     "quiet machine or with --rounds")
    for name, r in report["results"].items():
        c = r["cpu"]
        lines.append(
            f"cpu {name:<9} of {c['machine_capacity_s']:.0f}s (machine "
            f"{c['machine_busy_pct']:.0f}% busy): gunicorn {c['gunicorn_cpu_s']:.1f}s, "
            f"load generator {c['load_generator_cpu_s']:.1f}s, redis {c['redis_cpu_s']:.1f}s, "
            f"postgres {c['postgres_cpu_s']:.1f}s, other processes "
            f"{sum(c['other_processes_cpu_s'].values()):.1f}s, unattributed "
            f"{c['unattributed_cpu_s']:.1f}s; of all that, irq/softirq (mostly loopback TCP) "
            f"{c['irq_softirq_cpu_s']:.1f}s")
        if c["other_processes_cpu_s"]:
            busiest = list(c["other_processes_cpu_s"].items())[:6]
            top = ", ".join(f"{k} {v:.1f}s" for k, v in busiest)
            lines.append(f"    other processes busy during {name}: {top}")
    gw = report["results"].get("gateway")
    if gw:
        hops = " ".join(f"{h}:{v['p50']:.1f}" for h, v in gw["by_hop_ms"].items())
        lines.append(f"gateway p50 ms by hop  {hops}")
    for name, r in report["results"].items():
        for sample in r["error_samples"]:
            lines.append(f"error {name}: {sample}")
    return "\n".join(lines)


# ------------------------------------------------------------------------- profile


COMPONENTS = (
    # (label, file name or "" for any, function name); indented rows are nested.
    ("whole request (Flask wsgi_app)", "app.py", "wsgi_app"),
    ("  form parsing (werkzeug, callbacks.form)", "callbacks.py", "form"),
    ("  phone number check (phonenumbers)", "phones.py", "try_normalise"),
    ("  _hop", "ussd.py", "_hop"),
    ("    session load: Redis GET + Fernet decrypt", "sessions.py", "load"),
    ("    _advance", "ussd.py", "_advance"),
    ("      first hop lookups (_first_state)", "ussd.py", "_first_state"),
    ("      engine.step (incl. validators)", "engine.py", "step"),
    ("        national ID lookup (port)", "", "national_id_registered"),
    ("      events committed (_commit)", "ussd.py", "_commit"),
    ("        set_language", "", "set_language"),
    ("        register", "registration.py", "register"),
    ("        RQ enqueue after commit", "extensions.py", "enqueue_all"),
    ("      engine.render", "engine.py", "render"),
    ("        registration.derive (every render)", "registration.py", "derive"),
    ("    session save: Fernet encrypt + EVALSHA", "sessions.py", "save"),
    ("  Fernet encrypt (all)", "crypto.py", "encrypt"),
    ("  Fernet decrypt (all)", "crypto.py", "decrypt"),
    ("  SQLAlchemy Session.execute (all)", "session.py", "_execute_internal"),
    ("  SQLAlchemy flush (all)", "session.py", "_flush"),
    ("  Redis commands, redis-py (all)", "client.py", "_execute_command"),
    ("  psycopg waiting on the server (all)", "connection.py", "wait"),
)
"""Functions whose inclusive time says where a hop goes (cProfile, per hop).

Several functions of one name (a port method calling a helper of the same name)
count once: the largest inclusive time is taken."""


def _component_times(profiler, hops: int) -> dict[str, tuple[float, float]]:
    """Inclusive microseconds per hop and calls per hop of each ``COMPONENTS`` row."""
    import pstats

    stats = pstats.Stats(profiler).stats
    out: dict[str, tuple[float, float]] = {}
    for label, filename, func in COMPONENTS:
        best = (0.0, 0)
        for (path, _line, name), (_cc, nc, _tt, ct, _callers) in stats.items():
            if name != func or (filename and os.path.basename(path) != filename):
                continue
            if func == "wait" and "psycopg" not in path:
                continue
            if func == "_execute_command" and "redis" not in path:
                continue
            if not filename and not any(part in path for part in ("/app/", "/menus/")):
                continue
            if ct > best[0]:
                best = (ct, nc)
        out[label] = (best[0] * 1e6 / hops, best[1] / hops)
    return out


def profile_in_process(database_url: str, redis_url: str, registrations: int,
                       top: int) -> None:
    """Play registrations through the WSGI app in this process, measured three ways.

    1. Plain timing per hop position, with SQL statements, PostgreSQL round trips
       (statements + pings + BEGIN/COMMIT/ROLLBACK), pool checkouts and Redis
       commands counted per hop.
    2. cProfile (wall clock): inclusive time of the hop's stages (``COMPONENTS``)
       and the top functions by own time and by inclusive time.
    No HTTP server and one thread, so this is the app's own cost per hop.
    """
    import cProfile
    import io
    import pstats

    import psycopg
    from redis import Redis
    from sqlalchemy import event

    from app import create_app

    os.environ.pop("CALLBACK_TOKEN", None)
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                      "PII_KEYS": new_fernet_key(), "SECRET_KEY": "bench",
                      "KAZI_ENV": "development", "USSD_SERVICE_CODE": SERVICE_CODE})
    svc = app.extensions["kazi"]
    counts = {"sql": 0, "pg": 0, "checkout": 0, "redis": 0}

    def bump(name: str) -> None:
        counts[name] += 1

    event.listen(svc.db.engine, "before_cursor_execute", lambda *a, **k: bump("sql"))
    event.listen(svc.db.engine.pool, "checkout", lambda *a, **k: bump("checkout"))
    # Count-only wrappers, in this process only (diagnostics, not behaviour).
    originals = (Redis.execute_command, psycopg.Cursor.execute,
                 psycopg.Connection._exec_command)

    def redis_command(self, *args, **kwargs):
        bump("redis")
        return originals[0](self, *args, **kwargs)

    def pg_execute(self, *args, **kwargs):
        bump("pg")
        return originals[1](self, *args, **kwargs)

    def pg_command(self, *args, **kwargs):
        bump("pg")
        return originals[2](self, *args, **kwargs)

    Redis.execute_command = redis_command
    psycopg.Cursor.execute = pg_execute
    psycopg.Connection._exec_command = pg_command
    per_hop: dict[int, list[tuple[float, int, int, int, int]]] = {}

    def post(body: bytes) -> str:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/ussd", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status_holder = []
        chunks = app.wsgi_app(environ, lambda s, h, e=None: status_holder.append(s))
        try:
            out = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if not status_holder[0].startswith("200"):
            raise SystemExit(f"profile: HTTP {status_holder[0]}: {out[:200]!r}")
        return out.decode()

    def registration(n: int, record: bool) -> None:
        phone = f"+2547{10_000_000 + n:08d}"
        session_id = f"ATUid_profile_{n}"
        typed: list[str] = []
        script = inputs_for(n)
        for hop in range(1, HOPS_PER_REGISTRATION + 1):
            body = urlencode({"sessionId": session_id, "serviceCode": SERVICE_CODE,
                              "phoneNumber": phone, "networkCode": "63902",
                              "text": "*".join(typed)}).encode()
            before = dict(counts)
            t0 = time.perf_counter()
            reply = post(body)
            if record:
                per_hop.setdefault(hop, []).append(
                    ((time.perf_counter() - t0) * 1000,
                     *(counts[k] - before[k] for k in ("sql", "pg", "checkout", "redis"))))
            if hop == HOPS_PER_REGISTRATION:
                if not (reply.startswith("END ") and "Registered" in reply):
                    raise SystemExit(f"profile: last screen is not registered: {reply!r}")
            else:
                if not reply.startswith("CON "):
                    raise SystemExit(f"profile: hop {hop} ended the session: {reply!r}")
                typed.append(script[hop - 1])

    try:
        for n in range(1, 21):  # warm caches and lazily imported modules
            registration(900_000 + n, record=False)
        for n in range(1, registrations + 1):  # timed, without a profiler
            registration(n, record=True)
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(1, registrations + 1):
            registration(1_000_000 + n, record=False)
        profiler.disable()
    finally:
        (Redis.execute_command, psycopg.Cursor.execute,
         psycopg.Connection._exec_command) = originals

    hops = sum(len(v) for v in per_hop.values())
    total_ms = sum(v[0] for values in per_hop.values() for v in values)
    print(f"\nin-process, no HTTP server, one thread: {registrations} registrations, {hops} hops, "
          f"{total_ms / hops:.2f} ms/hop mean ({hops * 1000 / total_ms:.0f} hops/s)")
    print(f"{'hop':>4}{'mean ms':>9}{'SQL':>6}{'PG r/t':>8}{'pool':>6}{'Redis':>7}"
          "  screen reached")
    names = ["lang.choose", "main.guest", "reg.consent", "reg.consent2", "reg.name", "reg.id",
             "reg.yob", "reg.gender", "reg.county", "reg.edu", "reg.occ", "reg.where",
             "reg.dest", "reg.summary", "reg.done"]
    sums = [0.0] * 5
    for hop, values in sorted(per_hop.items()):
        means = [statistics.fmean(v[i] for v in values) for i in range(5)]
        sums = [a + b for a, b in zip(sums, means, strict=True)]
        print(f"{hop:>4}{means[0]:>9.2f}{means[1]:>6.1f}{means[2]:>8.1f}{means[3]:>6.1f}"
              f"{means[4]:>7.1f}  {names[hop - 1]}")
    print(f"{'all':>4}{sums[0]:>9.2f}{sums[1]:>6.1f}{sums[2]:>8.1f}{sums[3]:>6.1f}{sums[4]:>7.1f}"
          "  per registration (PG r/t = statements + pings + BEGIN/COMMIT/ROLLBACK)")

    times = _component_times(profiler, hops)
    print("\nwhere a hop goes: cProfile inclusive time per hop, mean over the 15 hops of a "
          "registration\n(the profiler adds overhead per Python call; compare rows, and use the "
          "unprofiled ms/hop above for totals)")
    print(f"{'':<48}{'us/hop':>8}{'calls/hop':>11}")
    for label, _file, _func in COMPONENTS:
        print(f"{label:<48}{times[label][0]:>8.0f}{times[label][1]:>11.2f}")
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        print(f"\n--- cProfile, by {sort}, top {top} ---")
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip() and not line.startswith("   Ordered")))
    svc.db.dispose()
    svc.redis.close()


# ---------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.ussd_gateway", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, default=32, help="phones posting at once (32)")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per target (20)")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first (3)")
    p.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    p.add_argument("--database-url", default=DEFAULT_DB, help=f"PostgreSQL ({DEFAULT_DB})")
    p.add_argument("--redis-url", default=DEFAULT_REDIS,
                   help=f"Redis db to flush ({DEFAULT_REDIS})")
    p.add_argument("--rounds", type=int, default=1,
                   help="alternate baseline and gateway this many times; report medians (1)")
    p.add_argument("--only", choices=("both", "gateway", "baseline"), default="both")
    p.add_argument("--compare", type=Path, metavar="TREE", default=None,
                   help="also run the gateway from source tree TREE (another checkout), "
                        "as target 'compare' in every round, to measure a change")
    p.add_argument("--output", type=Path, default=RESULTS / "ussd_gateway.json")
    p.add_argument("--force", action="store_true",
                   help="allow a database whose name lacks 'bench' (its schema is dropped)")
    p.add_argument("--profile", type=int, metavar="N", default=0,
                   help="instead of the load test: N registrations in-process under cProfile")
    p.add_argument("--top", type=int, default=30, help="profile rows to print (30)")
    return p.parse_args(argv)


def _sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    # Ctrl-C must stop gunicorn even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, str(ROOT))
    try:
        print(f"setup: database {args.database_url} (recreate schema, migrate); "
              f"redis {args.redis_url} (flush)", flush=True)
        prepare_database(args.database_url, args.force)
        flush_redis(args.redis_url)
        if args.profile:
            profile_in_process(args.database_url, args.redis_url, args.profile, args.top)
            return 0
        pii_key = new_fernet_key()
        env = gateway_env(args.database_url, args.redis_url, pii_key)
        targets = []
        if args.only in ("both", "baseline"):
            targets.append(("baseline", "bench.baseline_app:app", False))
        if args.only in ("both", "gateway"):
            targets.append(("gateway", "wsgi:app", True))
        if args.compare:
            targets.append(("compare", "wsgi:app", True))
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _t, _g in targets}
        for round_no in range(1, args.rounds + 1):
            for offset, (name, target, gateway) in enumerate(targets):
                flush_redis(args.redis_url)
                log = RESULTS / f"gunicorn-{name}.log"
                tag = f" (round {round_no}/{args.rounds})" if args.rounds > 1 else ""
                print(f"{name}{tag}: gunicorn -w {args.workers} {target} ...", flush=True)
                tree = args.compare.resolve() if name == "compare" else ROOT
                with Gunicorn(target, tree_env(env, tree), args.workers, log,
                              cwd=tree) as server:
                    print(f"{name}: up on :{server.port}; {args.concurrency} phones, "
                          f"{args.warmup:g}s warm-up + {args.duration:g}s measured", flush=True)
                    # Every round and target registers fresh numbers and national IDs.
                    r = run_load(name, server, args.concurrency, args.warmup, args.duration,
                                 gateway, first=1 + (round_no - 1) * 5_000_000
                                 + offset * 1_500_000)
                rounds[name].append(r)
                print(f"{name}: {r['hops_per_s']:.1f} hops/s, p50 {r['p50_ms']:.2f} ms, "
                      f"p99 {r['p99_ms']:.2f} ms, {r['errors']} errors", flush=True)
        results = {name: summarise(runs) for name, runs in rounds.items()}
        report: dict[str, Any] = {
            "benchmark": "ussd_gateway",
            "command": "python -m bench.ussd_gateway " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "rounds": args.rounds,
            "client": "raw-socket HTTP/1.1, one thread per phone, same process",
            "shared_cores_note": "load generator, gunicorn, Redis and PostgreSQL share the "
                                 "machine's cores",
            "results": results,
            "per_round": rounds,
        }
        if "baseline" in rounds and "gateway" in rounds:
            per_round = [ratios(b, g) for b, g in zip(rounds["baseline"], rounds["gateway"],
                                                      strict=True)]
            report["ratios"] = median_ratios(per_round)
            report["ratios_per_round"] = per_round
        if "baseline" in rounds and "compare" in rounds:
            per_round = [ratios(b, g) for b, g in zip(rounds["baseline"], rounds["compare"],
                                                      strict=True)]
            report["compare_tree"] = str(args.compare.resolve())
            report["compare_ratios"] = median_ratios(per_round)
            report["compare_ratios_per_round"] = per_round
        print()
        print(render(report))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nwrote {args.output}")
        errors = sum(r["errors"] for r in results.values())
        return 1 if errors else 0
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; gunicorn stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
