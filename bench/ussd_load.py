"""The USSD gateway benchmark's load: phone threads playing whole registrations.

Each thread posts every hop of a registration exactly as Africa's Talking does
(``text`` is every input so far joined by ``*``), with a fresh session id, phone
number and national ID each time; ``run_load`` counts the hops that end inside the
measured window and reads the CPU every part of the machine used meanwhile.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.harness import SERVICE_CODE, percentile
from bench.server import (
    SERVICES,
    Gunicorn,
    HttpError,
    RawHttp,
    all_process_cpu,
    cpu_seconds,
    machine_busy_seconds,
    process_delta,
)

# One registration: what the person types on each hop after the first dial.
# lang=English, Register, Next, I agree, name, ID, year, gender, county, education,
# occupation, where=both, destinations, Confirm. The name, ID, gender, county,
# education and occupation vary per registration (see ``inputs_for``).
HOPS_PER_REGISTRATION = 15


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
