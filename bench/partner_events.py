"""Partner event ingestion under gunicorn against the bare hop baseline.

    python -m bench.partner_events [--events 100000] [--concurrency 16] [--workers 3]
                                   [--baseline-duration 20] [--database-url URL]
                                   [--redis-url URL]

What it does:

1. Setup: its own PostgreSQL database (``kazi_bench_partners``, created if missing,
   its ``public`` schema dropped and recreated, then migrated) and its own Redis db
   (9, flushed). It seeds ``--people`` registered people (national IDs encrypted and
   blind-indexed with the same ``PII_KEYS`` the gateway gets), 50 agencies with
   licences, an approved listing each, a pre-departure placement (``visa_issued``,
   through an agency) for 30 % of the people, and one partner of each kind.
2. The events, ``--events`` in all, built before the clock starts:
   - for each person, in order: ``immigration.departure`` (200 days ago),
     ``permit.issued`` (190 days ago), for 1 in 6 ``permit.revoked`` (100 days ago),
     ``immigration.arrival`` (back home, 5 days ago);
   - 10 % departures of people nobody registered (kept ``unmatched``, 202);
   - 1 % ``police.alert`` on an agency's licence (hold listings, flag recruits,
     a warning job each);
   - 10 % replays of an event the same thread already sent (200, no second effect).
   Each person's events go to one thread, in order; replays follow their original.
3. ``gunicorn -w 3`` (sync workers) serves ``wsgi:app``; ``--concurrency`` threads
   post the events, each signed at send time (``X-Kazi-Timestamp`` now). Every
   answer must be 200 or 202 with the status the event calls for; anything else is
   an error, counted and reported.
4. In the same run, the bare hop baseline (``bench.baseline_app``: Flask + one Redis
   GET and SET, same gunicorn settings, same concurrency) for ``--baseline-duration``
   seconds.
5. Prints events/s, latency percentiles, the answers by status, the baseline's
   requests/s and the ratio, with CPU per request for both, and writes JSON to
   ``bench/results/partner_events.json``. Then it checks the database: one row per
   distinct event, and the placements, permits and alerts the events call for.

No RQ worker runs, so the police alerts' warning jobs wait in Redis db 9.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    RESULTS,
    SetupError,
    flush_redis,
    gateway_env,
    machine_info,
    new_fernet_key,
    percentile,
    prepare_database,
    write_result,
)
from bench.partner_events_data import Job, build, seed
from bench.server import Gunicorn, HttpError, RawHttp, cpu_seconds, machine_busy_seconds

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_partners"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


# ------------------------------------------------------------------------- client


class SignedHttp(RawHttp):
    """The raw-socket client, posting JSON with extra headers."""

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host_header
                + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n"
                + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n")
        reused = self.sock is not None
        try:
            return self._exchange(head + body)
        except (OSError, HttpError):
            self.close()
            if not reused:
                raise
            return self._exchange(head + body)


@dataclass
class Lane:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def ingest(port: int, lanes: list[list[Job]], credentials: dict[str, tuple[int, str]]
           ) -> tuple[list[Lane], float]:
    """Send every lane's events from its own thread; give the results and the seconds taken."""
    from app.partners.signing import signature

    results = [Lane() for _ in lanes]

    def run(index: int) -> None:
        client = SignedHttp("127.0.0.1", port, timeout=30)
        out = results[index]
        clock = time.perf_counter
        try:
            for job in lanes[index]:
                partner_id, secret = credentials[job.kind]
                stamp = int(time.time())
                headers = {"X-Kazi-Partner": str(partner_id), "X-Kazi-Timestamp": str(stamp),
                           "X-Kazi-Signature": signature(secret, stamp, job.body)}
                start = clock()
                try:
                    status, reply = client.post("/api/v1/events", job.body, headers)
                except (OSError, HttpError) as exc:
                    out.errors.append(f"{job.label}: {type(exc).__name__}: {exc}")
                    client.close()
                    continue
                out.latencies.append((clock() - start) * 1000)
                out.statuses[status] = out.statuses.get(status, 0) + 1
                if status not in job.expect:
                    out.errors.append(f"{job.label}: HTTP {status} {reply[:160]!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(lanes))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def baseline(port: int, concurrency: int, duration: float) -> dict[str, Any]:
    """The bare hop: form POSTs to ``bench.baseline_app`` for ``duration`` seconds."""
    stop = threading.Event()
    counts = [0] * concurrency
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency

    def run(index: int) -> None:
        client = RawHttp("127.0.0.1", port, timeout=30)
        n = 0
        while not stop.is_set():
            n += 1
            body = urlencode({"sessionId": f"bench-{index}-{n}", "serviceCode": "*384*2026#",
                              "phoneNumber": "+254712345678", "networkCode": "63902",
                              "text": "1"}).encode()
            start = time.perf_counter()
            try:
                status, _ = client.request(b"POST", "/ussd", body)
            except (OSError, HttpError):
                errors[index] += 1
                client.close()
                continue
            latencies[index].append((time.perf_counter() - start) * 1000)
            if status == 200:
                counts[index] += 1
            else:
                errors[index] += 1
        client.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(2)  # warm-up, not counted
    start_counts = sum(counts)
    start_lat = [len(x) for x in latencies]
    began = time.perf_counter()
    time.sleep(duration)
    done = sum(counts) - start_counts
    elapsed = time.perf_counter() - began
    window = sorted(v for lane, first in zip(latencies, start_lat, strict=True)
                    for v in lane[first:])
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return {"requests": done, "seconds": elapsed, "requests_per_s": done / elapsed,
            "p50_ms": percentile(window, 0.5), "p99_ms": percentile(window, 0.99),
            "errors": sum(errors)}


def verify(database_url: str, lanes: list[list[Job]]) -> dict[str, Any]:
    """Check the database holds what the events call for, exactly once."""
    from sqlalchemy import text

    from app.db import make_engine

    distinct = len({job.body for lane in lanes for job in lane})
    by_label: dict[str, int] = {}
    for lane in lanes:
        for job in lane:
            by_label[job.label] = by_label.get(job.label, 0) + 1
    engine = make_engine(database_url)
    with engine.connect() as conn:
        counts = {name: conn.execute(text(sql)).scalar() for name, sql in {
            "partner_events": "SELECT count(*) FROM partner_events",
            "unmatched": "SELECT count(*) FROM partner_events WHERE status = 'unmatched'",
            "rejected": "SELECT count(*) FROM partner_events WHERE status = 'rejected'",
            "returned_placements": "SELECT count(*) FROM placements WHERE status = 'returned'",
            "transitions": "SELECT count(*) FROM placement_transitions",
            "movements": "SELECT count(*) FROM movements",
            "permits": "SELECT count(*) FROM permits",
            "revoked_permits": "SELECT count(*) FROM permits WHERE revoked_at IS NOT NULL",
            "police_alerts": "SELECT count(*) FROM police_alerts",
            "agency_alert_count": "SELECT coalesce(sum(police_alerts), 0) FROM agencies",
        }.items()}
    engine.dispose()
    expected = {
        "partner_events": distinct,
        "movements": by_label.get("departure", 0) + by_label.get("arrival", 0),
        "permits": by_label.get("permit.issued", 0),
        "revoked_permits": by_label.get("permit.revoked", 0),
        "police_alerts": by_label.get("police.alert", 0),
        "agency_alert_count": by_label.get("police.alert", 0),
        "unmatched": by_label.get("unmatched", 0),
        "rejected": 0,
        "transitions": by_label.get("departure", 0) + by_label.get("arrival", 0),
        "returned_placements": by_label.get("arrival", 0),
    }
    return {"counts": counts, "expected": expected, "sent_by_kind": by_label,
            "ok": all(counts[k] == v for k, v in expected.items())}


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=40_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--baseline-duration", type=float, default=20.0)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--force", action="store_true",
                        help="allow a database whose name has no 'bench' in it")
    parser.add_argument("--output", type=Path, default=RESULTS / "partner_events.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        prepare_database(args.database_url, args.force)
        flush_redis(args.redis_url)
    except SetupError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 2
    pii_key = new_fernet_key()
    print(f"seeding {args.people:,} people ...", flush=True)
    credentials = seed(args.database_url, pii_key, args.people)
    lanes = build(args.events, args.people, args.concurrency, random.Random(2026))
    env = gateway_env(args.database_url, args.redis_url, pii_key)
    print(f"ingesting {sum(map(len, lanes)):,} events with {args.concurrency} threads "
          f"through gunicorn -w {args.workers} ...", flush=True)
    with Gunicorn("wsgi:app", env, args.workers, RESULTS / "gunicorn-partner-events.log") as gw:
        cpu0, busy0 = cpu_seconds(gw.pids()), machine_busy_seconds()
        results, seconds = ingest(gw.port, lanes, credentials)
        cpu1, busy1 = cpu_seconds(gw.pids()), machine_busy_seconds()
    events = sum(len(r.latencies) for r in results)
    latencies = sorted(v for r in results for v in r.latencies)
    statuses: dict[int, int] = {}
    for r in results:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    errors = [e for r in results for e in r.errors]
    print(f"bare hop baseline for {args.baseline_duration:.0f} s ...", flush=True)
    flush_redis(args.redis_url)
    with Gunicorn("bench.baseline_app:app", env, args.workers,
                  RESULTS / "gunicorn-partner-baseline.log") as base:
        base_cpu0 = cpu_seconds(base.pids())
        hop = baseline(base.port, args.concurrency, args.baseline_duration)
        hop["gunicorn_cpu_ms_per_request"] = ((cpu_seconds(base.pids()) - base_cpu0) * 1000
                                              / max(hop["requests"], 1))
    checked = verify(args.database_url, lanes)
    report = {
        "benchmark": "partner_events",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "events": {
            "sent": events, "seconds": seconds, "events_per_s": events / seconds,
            "p50_ms": percentile(latencies, 0.5), "p90_ms": percentile(latencies, 0.9),
            "p99_ms": percentile(latencies, 0.99), "max_ms": latencies[-1] if latencies else 0,
            "mean_ms": statistics.fmean(latencies) if latencies else 0,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "errors": len(errors), "error_samples": errors[:10],
            "gunicorn_cpu_ms_per_event": (cpu1 - cpu0) * 1000 / max(events, 1),
            "machine_busy_pct": 100 * (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1e-9),
        },
        "baseline": hop,
        "ratio_events_over_baseline": (events / seconds) / hop["requests_per_s"],
        "database_check": checked,
    }
    write_result(args.output, report)
    ev = report["events"]
    print(f"\nmachine: {report['machine']['nproc']} CPU {report['machine']['cpu_model']}, "
          f"Python {report['machine']['python']}, {report['date']}")
    print(f"partner events : {ev['sent']:,} in {ev['seconds']:.1f} s = "
          f"{ev['events_per_s']:.0f} events/s; p50 {ev['p50_ms']:.1f} ms, "
          f"p99 {ev['p99_ms']:.1f} ms; gunicorn CPU {ev['gunicorn_cpu_ms_per_event']:.2f} "
          f"ms/event; answers {ev['statuses']}; errors {ev['errors']}")
    print(f"bare hop       : {hop['requests_per_s']:.0f} requests/s; p50 {hop['p50_ms']:.1f} ms,"
          f" p99 {hop['p99_ms']:.1f} ms; gunicorn CPU {hop['gunicorn_cpu_ms_per_request']:.2f}"
          f" ms/request")
    print(f"ratio          : {report['ratio_events_over_baseline']:.2f} x the bare hop")
    print(f"database check : {'ok' if checked['ok'] else 'MISMATCH'} {checked['counts']}")
    for sample in errors[:10]:
        print(f"  error: {sample}")
    return 0 if not errors and checked["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
