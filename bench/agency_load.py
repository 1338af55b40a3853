"""The agency lookup benchmark's register, parked sessions and load.

``seed`` loads the register and the bench phones; ``park`` opens sessions through the
gateway and leaves them on the home menu or the query screen; ``run`` plays one
slice's requests, each the next hop of a parked session, and measures it.
"""

from __future__ import annotations

import collections
import random
import re
import threading
import time
from typing import Any
from urllib.parse import urlencode

from bench.harness import SERVICE_CODE, SetupError, percentile
from bench.server import Gunicorn, HttpError, RawHttp, cpu_seconds, machine_busy_seconds

PHONES = 2000
"""Bench phone numbers, each with a language so a dial lands on the home menu."""


def phone_number(n: int) -> str:
    return f"+2547{20_000_000 + n % PHONES:08d}"


# ---------------------------------------------------------------------------- setup


def seed(database_url: str, agencies: int) -> list[tuple[str, str]]:
    """Load a register of ``agencies`` and the bench phones; give (licence, name) pairs."""
    from sqlalchemy import insert

    from app.agencies.demo import demo_rows
    from app.agencies.register import import_rows, kenya_today, record_import
    from app.db import Database
    from app.models import Contact

    db = Database(database_url)
    rows = demo_rows(agencies, kenya_today())
    started = time.perf_counter()
    with db.session() as session:
        result = import_rows(session, rows, source="bench.csv")
        record_import(session, result)
        session.execute(insert(Contact), [{"phone": phone_number(n), "lang": "en"}
                                          for n in range(PHONES)])
    print(f"setup: imported {result.added} agencies in {time.perf_counter() - started:.1f}s",
          flush=True)
    db.dispose()
    return [(row.licence_no, row.name) for row in rows]


def queries(register: list[tuple[str, str]], count: int, rng: random.Random) -> list[str]:
    """Make ``count`` queries: licence numbers, full names, typos and first words."""
    out = []
    for _ in range(count):
        licence, name = rng.choice(register)
        pick = rng.random()
        if pick < 0.4:
            year, number = licence.split("/")[2:]
            out.append(rng.choice([licence, licence.lower(), f"{year} {int(number)}",
                                   f"{year}{number}"]))
        elif pick < 0.7:
            out.append(name)
        elif pick < 0.9:
            first, _, rest = name.partition(" ")
            cut = rng.randrange(1, len(first)) if len(first) > 2 else 0
            out.append((first[:cut] + first[cut + 1:] + " " + rest).strip())
        else:
            out.append(name.split(" ")[0])
    return out


# ------------------------------------------------------------------------ sessions


def post(client: RawHttp, session_id: str, phone: str, text: str) -> tuple[int, str]:
    body = urlencode({"sessionId": session_id, "serviceCode": SERVICE_CODE,
                      "phoneNumber": phone, "networkCode": "63902", "text": text}).encode()
    status, reply = client.request(b"POST", "/ussd", body)
    return status, reply.decode("utf-8", "replace")


def park(port: int, count: int, concurrency: int, to_query: bool, tag: str) -> list[tuple]:
    """Open ``count`` sessions through the gateway; leave them on the home menu or query screen.

    Gives (session id, phone, text so far) per parked session.
    """
    parked: list[tuple] = []
    lock = threading.Lock()
    counter = iter(range(count))
    errors: list[str] = []

    def work() -> None:
        client = RawHttp("127.0.0.1", port)
        try:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                session_id, phone = f"ATUid_{tag}_{n}", phone_number(n)
                status, home = post(client, session_id, phone, "")
                option = re.search(r"^(\d+) Check an agency$", home[4:], re.M)
                if status != 200 or option is None:
                    errors.append(f"dial: {status} {home[:80]!r}")
                    continue
                text = ""
                if to_query:
                    text = option.group(1)
                    status, screen = post(client, session_id, phone, text)
                    if status != 200 or "licence number" not in screen:
                        errors.append(f"menu: {status} {screen[:80]!r}")
                        continue
                with lock:
                    parked.append((session_id, phone, text, option.group(1)))
        finally:
            client.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A few refusals (a busy reply when the shared machine stalls Redis past its
    # timeout) only leave those sessions out; more means the gateway is broken.
    if len(errors) > max(3, count // 100):
        raise SetupError(f"parking sessions failed {len(errors)} times, e.g. {errors[0]}")
    if errors:
        print(f"parking: {len(errors)} of {count} sessions left out, e.g. {errors[0]}",
              flush=True)
    return parked


# ---------------------------------------------------------------------------- load


def run(name: str, server: Gunicorn, concurrency: int, warmup: float, duration: float,
        requests: collections.deque, check, redis_pids: list[int]) -> dict[str, Any]:
    """Play ``requests`` (session id, phone, text) with ``concurrency`` threads; measure."""
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    stop = threading.Event()

    def phone_thread() -> None:
        client = RawHttp("127.0.0.1", server.port)
        clock = time.perf_counter
        try:
            while not stop.is_set():
                try:
                    session_id, phone, text = requests.popleft()
                except IndexError:
                    return  # the pool is used up
                start = clock()
                try:
                    status, reply = post(client, session_id, phone, text)
                except (OSError, HttpError, ValueError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    client.close()
                    continue
                end = clock()
                problem = check(status, reply)
                if problem:
                    errors.append(problem)
                else:
                    samples.append((start, end))
        finally:
            client.close()

    threads = [threading.Thread(target=phone_thread, daemon=True) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    t0 = began + warmup
    time.sleep(max(0.0, t0 - time.perf_counter()))
    cpu0 = cpu_seconds(server.pids())
    redis0 = cpu_seconds(redis_pids)
    own0 = time.process_time()
    busy0, total0, _irq0 = machine_busy_seconds()
    deadline = t0 + duration
    while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    t1 = min(deadline, time.perf_counter())
    cpu1 = cpu_seconds(server.pids())
    redis1 = cpu_seconds(redis_pids)
    own1 = time.process_time()
    busy1, total1, _irq1 = machine_busy_seconds()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    window = sorted((end - start) * 1000 for start, end in samples if t0 <= end <= t1)
    measured = t1 - t0
    return {
        "target": server.target,
        "hops": len(window),
        "seconds": round(measured, 2),
        "hops_per_s": len(window) / measured if measured > 0 else 0.0,
        "p50_ms": percentile(window, 0.50),
        "p99_ms": percentile(window, 0.99),
        "gunicorn_cpu_ms_per_hop": (cpu1 - cpu0) * 1000 / len(window) if window else None,
        "redis_cpu_ms_per_hop": ((redis1 - redis0) * 1000 / len(window)
                                 if window and redis_pids else None),
        "client_cpu_ms_per_hop": (own1 - own0) * 1000 / len(window) if window else None,
        "pool_left": len(requests),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "latencies_ms": window,
        "machine_busy": round((busy1 - busy0) / (total1 - total0), 3) if total1 > total0 else None,
        "cpu_s": {"gunicorn": cpu1 - cpu0, "redis": redis1 - redis0, "client": own1 - own0},
    }


def any_con(status: int, reply: str) -> str | None:
    if status != 200 or not reply.startswith("CON "):
        return f"HTTP {status}: {reply[:100]!r}"
    return None


def check_reply(status: int, reply: str) -> str | None:
    problem = any_con(status, reply)
    if problem:
        return problem
    if not re.search(r"licence|agencies match|not on the NEA register|exactly that name",
                     reply):
        return f"not an agency answer: {reply[:100]!r}"
    return None


def menu_reply(status: int, reply: str) -> str | None:
    problem = any_con(status, reply)
    if problem is None and "licence number" not in reply:
        return f"not the query screen: {reply[:100]!r}"
    return problem
