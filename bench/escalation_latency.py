"""Escalation latency: from the HELP callback to the officer's SMS at AT.

    python -m bench.escalation_latency [--reports 200] [--rate 1] [--workers 4]
                                       [--backlog 10000] [--database-url URL]
                                       [--redis-url URL] [--no-docs]

What it does:

1. Setup: its own PostgreSQL database (``kazi_bench_cases``: schema dropped,
   recreated and migrated), Redis db 15 (flushed), the local AT SMS API server
   (``tests.fakes.at_api``) in this process, one duty officer at the Riyadh
   mission, the gateway under ``gunicorn -w 2`` (``wsgi:app``) and ``--workers``
   real ``kazi worker`` processes (queues ``critical default bulk``, with the cron
   scheduler) sending through the real africastalking SDK to the local AT server.
2. Phase "idle": ``--reports`` HELP SMS ("HELP boss took my passport ...", each
   from its own Saudi number) are posted to ``/sms/incoming`` at ``--rate`` per
   second, as AT posts them. Latency of one report = the moment the local AT
   server receives the officer's alert naming that reporter minus the moment the
   callback was posted (one clock: both happen in this process).
3. Phase "bulk backlog": ``--backlog`` check-in replies ("1", each from a migrant
   whose check-in was sent, so the real reply path runs: record the answer, queue
   the thank-you SMS) are stored and their handling jobs put on the ``bulk`` queue
   in one go; then the same HELP load is posted at once. ``critical`` must
   overtake: the report says how many bulk jobs were still waiting when the last
   alert arrived.
4. Prints p50/p95/max per phase against the targets (p95 <= 2 s idle, <= 3 s with
   the backlog), writes ``bench/results/escalation_latency.json`` and appends the
   figures to ``docs/benchmarks.md`` under its "Escalation latency" heading.

The load generator, the AT server and every service share this machine's cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    RESULTS,
    RedisSentinel,
    SetupError,
    Workers,
    append_docs,
    flush_redis,
    gateway_env,
    new_fernet_key,
    prepare_database,
    stop_on_sigterm,
    write_result,
)
from bench.server import Gunicorn, RawHttp
from tests.fakes.at_api import FakeATServer

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_cases"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
OFFICER = "+966500000001"
TARGETS = {"idle": 2.0, "bulk backlog": 3.0}
"""p95 targets in seconds."""
ALERT_FROM = re.compile(r"From (\+\d+)")
INBOUND_JOB = "workers.inbound.handle_inbound"


# ---------------------------------------------------------------------------- alerts


class Alerts:
    """Officer alerts as the local AT server receives them: reporter -> arrival time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived: dict[str, float] = {}
        self.requests = 0

    def on_request(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.requests += 1
            if OFFICER in record["to"] and (record["message"] or "").startswith("SOS "):
                match = ALERT_FROM.search(record["message"])
                if match:
                    self.arrived.setdefault(match.group(1), record["received_at"])


# ----------------------------------------------------------------------------- the load


def reporter(phase: int, n: int) -> str:
    """A distinct Saudi mobile number per report and phase (055…, 056…)."""
    return f"+9665{4 + phase}{n:07d}"


def post_reports(port: int, phase: int, reports: int, rate: float,
                 prefix: str) -> dict[str, float]:
    """Post HELP callbacks at ``rate`` per second; give each reporter's posting time."""
    posted: dict[str, float] = {}
    lock = threading.Lock()
    errors: list[str] = []
    local = threading.local()

    def one(n: int) -> None:
        phone = reporter(phase, n)
        body = urlencode({"from": phone, "to": "22384", "date": "2026-11-24 10:00:00",
                          "id": f"ATXid_{prefix}_{phase}_{n}", "linkId": "",
                          "networkCode": "42001",
                          "text": "HELP boss took my passport and I am not paid"}).encode()
        client = getattr(local, "client", None) or RawHttp("127.0.0.1", port, timeout=30)
        local.client = client
        start = time.monotonic()
        status, answer = client.request(b"POST", "/sms/incoming", body)
        if status != 200:
            errors.append(f"{status} {answer[:80]!r}")
            return
        with lock:
            posted[phone] = start

    with ThreadPoolExecutor(max_workers=16) as pool:
        begin = time.monotonic()
        futures = []
        for n in range(reports):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, n))
        for future in futures:
            future.result()
    if errors:
        raise SetupError(f"{len(errors)} HELP callbacks failed, e.g. {errors[0]}")
    return posted


def wait_for_alerts(alerts: Alerts, posted: dict[str, float], timeout: float) -> float:
    """Wait until every reporter's alert arrived; give when the last one did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with alerts.lock:
            missing = [p for p in posted if p not in alerts.arrived]
        if not missing:
            with alerts.lock:
                return max(alerts.arrived[p] for p in posted)
        time.sleep(0.05)
    raise SetupError(f"{len(missing)} of {len(posted)} officer alerts never arrived")


def latencies(alerts: Alerts, posted: dict[str, float]) -> list[float]:
    with alerts.lock:
        return sorted(alerts.arrived[p] - t for p, t in posted.items())


def percentile(values: list[float], q: float) -> float:
    index = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[index]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 0.50), "p95": percentile(values, 0.95),
            "max": values[-1], "mean": statistics.fmean(values)}


# --------------------------------------------------------------------------- the backlog


def seed(database_url: str, redis_url: str, pii_key: str, at_url: str) -> None:
    """Register the Riyadh duty officer through the app itself."""
    from app import create_app
    from app.protection import officers

    app = create_app(bench_config(database_url, redis_url, pii_key, at_url))
    svc = app.extensions["kazi"]
    with app.app_context(), svc.db.session() as session:
        officers.enrol(session, name="Bench Officer", phone=OFFICER, country="SA")
    svc.db.dispose()


def bench_config(database_url: str, redis_url: str, pii_key: str, at_url: str) -> dict:
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PII_KEYS": pii_key,
            "SECRET_KEY": "bench-secret", "AT_USERNAME": "sandbox", "AT_API_KEY": "bench-key",
            "AT_API_URL": at_url}


def queue_backlog(database_url: str, redis_url: str, pii_key: str, at_url: str,
                  count: int) -> float:
    """Store ``count`` check-in replies and put their jobs on ``bulk``; give seconds taken."""
    from rq import Queue
    from sqlalchemy import insert, select

    from app import create_app
    from app.db import utcnow
    from app.models import CheckIn, InboundSms, Placement
    from app.sms.inbound import handle_job

    app = create_app(bench_config(database_url, redis_url, pii_key, at_url))
    svc = app.extensions["kazi"]
    now = utcnow()
    phones = [f"+96659{n:07d}" for n in range(count)]
    with svc.db.session() as session:
        session.execute(insert(Placement), [
            {"phone": p, "country": "SA", "status": "arrived", "arrived_at": now,
             "irregular": False, "created_at": now, "updated_at": now} for p in phones])
        ids = dict(session.execute(select(Placement.phone, Placement.id)
                                   .where(Placement.phone.in_(phones))).all())
        session.execute(insert(CheckIn), [
            {"placement_id": ids[p], "phone": p, "sequence": 1, "due_at": now,
             "status": "sent", "sent_at": now} for p in phones])
        session.execute(insert(InboundSms), [
            {"at_id": f"ATXid_backlog_{n}", "from_phone": p, "text": "1", "status": "received",
             "received_at": now} for n, p in enumerate(phones)])
        inbound = list(session.scalars(select(InboundSms.id)
                                       .where(InboundSms.at_id.like("ATXid_backlog_%"))))
    start = time.monotonic()
    queue = Queue("bulk", connection=svc.redis)
    for chunk in range(0, len(inbound), 1000):
        with svc.redis.pipeline() as pipe:
            queue.enqueue_many([
                Queue.prepare_data(INBOUND_JOB, args=(i,), timeout=60, result_ttl=60,
                                   job_id=handle_job(i).rq_id)
                for i in inbound[chunk:chunk + 1000]], pipeline=pipe)
            pipe.execute()
    took = time.monotonic() - start
    svc.db.dispose()
    return took


def bulk_waiting(redis_url: str) -> int:
    from redis import Redis
    from rq import Queue

    return Queue("bulk", connection=Redis.from_url(redis_url)).count


# ------------------------------------------------------------------------------ running


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_start = os.getloadavg()[0]
    prepare_database(args.database_url, force=False)
    flush_redis(args.redis_url)
    pii_key = new_fernet_key()
    alerts = Alerts()
    with FakeATServer(api_key=None, on_request=alerts.on_request) as at_server:
        env = gateway_env(args.database_url, args.redis_url, pii_key)
        env.update(AT_USERNAME="sandbox", AT_API_KEY="bench-key", AT_API_URL=at_server.url,
                   SECRET_KEY="bench-secret")
        seed(args.database_url, args.redis_url, pii_key, at_server.url)
        RESULTS.mkdir(parents=True, exist_ok=True)
        with Gunicorn("wsgi:app", env, workers=2, log_path=RESULTS / "escalation-gateway.log") \
                as gateway, Workers(args.workers, env, RESULTS / "escalation-workers") as workers:
            workers.wait_ready(args.redis_url)
            sentinel = RedisSentinel(args.redis_url, "escalation")
            sentinel.plant()
            phases: dict[str, Any] = {}

            posted = post_reports(gateway.port, 1, args.reports, args.rate, "idle")
            last = wait_for_alerts(alerts, posted, timeout=120)
            sentinel.check("idle")
            phases["idle"] = {**summary(latencies(alerts, posted)),
                              "span_s": last - min(posted.values())}
            print(f"idle: {render_phase(phases['idle'])}", flush=True)

            time.sleep(2)
            queued_in = queue_backlog(args.database_url, args.redis_url, pii_key,
                                      at_server.url, args.backlog)
            waiting_at_start = bulk_waiting(args.redis_url)
            posted = post_reports(gateway.port, 2, args.reports, args.rate, "backlog")
            last = wait_for_alerts(alerts, posted, timeout=300)
            waiting_at_end = bulk_waiting(args.redis_url)
            sentinel.check("bulk backlog")
            phases["bulk backlog"] = {
                **summary(latencies(alerts, posted)), "span_s": last - min(posted.values()),
                "backlog": args.backlog, "backlog_enqueue_s": queued_in,
                "bulk_waiting_at_first_report": waiting_at_start,
                "bulk_waiting_at_last_alert": waiting_at_end,
            }
            print(f"bulk backlog: {render_phase(phases['bulk backlog'])}", flush=True)
            drain_start = time.monotonic()
            while bulk_waiting(args.redis_url) and time.monotonic() - drain_start < 120:
                time.sleep(0.5)
            left = bulk_waiting(args.redis_url)
            phases["bulk backlog"]["bulk_waiting_2_min_after_last_alert"] = left
            phases["bulk backlog"]["bulk_drained_after_s"] = None if left else round(
                time.monotonic() - drain_start + (last - min(posted.values())), 1)
    return {
        "benchmark": "escalation_latency",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "load_average_1m": {"start": load_start, "end": os.getloadavg()[0]},
        "setup": {"reports": args.reports, "rate_per_s": args.rate, "workers": args.workers,
                  "gateway": "gunicorn -w 2 wsgi:app", "database": "PostgreSQL",
                  "redis_db": args.redis_url.rsplit("/", 1)[-1]},
        "phases": phases,
        "targets_p95_s": TARGETS,
        "met": {name: phases[name]["p95"] <= TARGETS[name] for name in TARGETS},
    }


def render_phase(phase: dict[str, Any]) -> str:
    text = (f"n={phase['n']} p50={phase['p50']:.3f}s p95={phase['p95']:.3f}s "
            f"max={phase['max']:.3f}s")
    if "bulk_waiting_at_last_alert" in phase:
        text += (f"; bulk jobs waiting: {phase['bulk_waiting_at_first_report']} at the first "
                 f"report, {phase['bulk_waiting_at_last_alert']} at the last alert")
    return text


def markdown(report: dict[str, Any]) -> str:
    setup = report["setup"]
    lines = [
        "",
        "## Escalation latency (issue 4)",
        "",
        f"`python -m bench.escalation_latency` on {report['date']} ({report['machine']}). "
        f"From posting a HELP callback to `/sms/incoming` (gateway: {setup['gateway']}) to the "
        f"officer's alert arriving at the local AT server, through {setup['workers']} "
        f"`kazi worker` processes, {setup['database']}, Redis db {setup['redis_db']}; "
        f"{setup['reports']} reports per phase at {setup['rate_per_s']}/s, each from its own "
        f"Saudi number. Machine load average (1 min) {report['load_average_1m']['start']:.1f} "
        f"at the start and {report['load_average_1m']['end']:.1f} at the end (other work "
        "shared the machine).",
        "",
        "| phase | reports | p50 | p95 | max | target (p95) | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, target in report["targets_p95_s"].items():
        phase = report["phases"][name]
        lines.append(f"| {name} | {phase['n']} | {phase['p50']:.3f} s | {phase['p95']:.3f} s | "
                     f"{phase['max']:.3f} s | <= {target:.0f} s | "
                     f"{'yes' if report['met'][name] else 'NO'} |")
    backlog = report["phases"]["bulk backlog"]
    if backlog.get("bulk_drained_after_s") is not None:
        drained = f"the backlog drained {backlog['bulk_drained_after_s']} s after the first report"
    else:
        drained = (f"{backlog.get('bulk_waiting_2_min_after_last_alert', '?')} were still "
                   "waiting 2 minutes after the last alert (the bench stops there)")
    lines += [
        "",
        f"Bulk backlog: {backlog['backlog']} check-in replies (\"1\", the real reply path) "
        f"queued on `bulk` in {backlog['backlog_enqueue_s']:.1f} s just before the reports; "
        f"{backlog['bulk_waiting_at_first_report']} were still waiting at the first report and "
        f"{backlog['bulk_waiting_at_last_alert']} when the last alert arrived, so `critical` "
        f"overtook them; {drained}.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.0, help="HELP callbacks per second")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--no-docs", action="store_true", help="do not append to the docs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    try:
        report = run(args)
    except SetupError as exc:
        print(f"escalation_latency: {exc}", file=sys.stderr)
        return 2
    write_result(RESULTS / "escalation_latency.json", report)
    text = markdown(report)
    print(text)
    if not args.no_docs:
        append_docs(text)
    return 0 if all(report["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
