"""Check-in campaign: people due abroad, sent by ``send_due`` and RQ workers, vs plain requests.

    python -m bench.checkin_campaign [--people 100000] [--small 10000] [--workers 2]
                                     [--database-url URL] [--redis-url URL]

What it does, for ``--small`` people and then ``--people`` people (memory must stay flat):

1. Setup: the PostgreSQL database ``kazi_bench_checkins`` (created if missing, its
   ``public`` schema dropped and recreated, migrated) and Redis db 11 (flushed).
   People are loaded with ``COPY``: one placement each (Saudi Arabia, employed,
   arrived 8 days before the run's moment), a third of them with a Kiswahili Contact.
2. The local AT server (``tests/fakes/at_api.py``) runs in its own process
   (``bench.at_process``).
   ``--workers`` real RQ workers (``AppWorker``, the class ``kazi worker`` runs;
   it runs ``bulk`` jobs in its own process, no horse) listen on ``bulk``.
3. ``send_due`` runs in its own process, at noon in Riyadh: it streams the
   placements by keyset pages of 5,000, writes check-ins and messages,
   and defers ``send_batch`` jobs of 500 recipients with one body (rate-limited by
   RQ). The workers drain ``bulk`` while it writes. The clock starts when
   ``send_due`` is called and stops when the last recipient reaches the AT server.
4. Checks: every person got exactly one SMS, every message is ``sent``.
5. Baseline, same run: the exact batches the AT server received (same recipients,
   same bodies, same batch sizes), posted again with plain ``requests`` from
   ``--workers`` threads, no database, no Redis.
6. Memory: peak RSS (``ru_maxrss``) of the ``send_due`` process, of each worker
   (written by the worker as it stops) and of any work horse it forked (none for
   ``bulk`` jobs: the horse column then shows ``-``). CPU: the seconds each part
   used while the campaign ran and while the baseline ran (``cpu_snapshot``).
7. For scale, the PostgreSQL floor: one ``INSERT ... SELECT generate_series`` of as
   many message rows (rolled back): what storing a single row per recipient costs
   this machine, with no Python at all. Then each per-recipient write the campaign
   makes (store the SMS and the check-in; claim each SMS; record each outcome), as
   one set-based statement per write, timed in one transaction and rolled back, and
   set against the time 0.5 x the baseline allows the whole campaign.
8. The least CPU any design needs under the contract (``CONTRACT_FLOOR``, with the
   floors and the CPU by part in ``bench.checkin_floor``): the AT
   server's and plain ``requests``' CPU for these very batches (from the baseline),
   plus PostgreSQL's own CPU to find who is due (the campaign's query, all pages as
   one statement), write one row per person and one outcome row per recipient with
   AT's messageId. No RQ, no Redis, no Python per row, perfect use of every core:
   set against the CPU the machine has in the time 0.5 x the baseline allows.

Prints the tables and writes ``bench/results/checkin_campaign.json``. Target:
recipients/s >= 0.5 x the baseline's, with the same peak memory at both sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.at_process import API_KEY, ATProcess
from bench.checkin_floor import (
    contract_floor,
    costs_table,
    cpu_snapshot,
    cpu_table,
    cpu_used,
    durable_writes,
    postgres_floor,
)
from bench.harness import (
    RESULTS,
    ROOT,
    flush_redis,
    machine_info,
    new_fernet_key,
    prepare_database,
    stop_on_sigterm,
    write_result,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_checkins"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
AS_OF = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
"""The run's moment: noon in Riyadh, so everyone is inside waking hours."""
TARGET = 0.5


# --------------------------------------------------------------------------- setup


def env_for(database_url: str, redis_url: str, at_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AT_", "CALLBACK_TOKEN", "KAZI_", "USSD_", "CHECKIN_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, AT_USERNAME="sandbox",
               AT_API_KEY=API_KEY, AT_API_URL=at_url, KAZI_ENV="development",
               PII_KEYS=_pii_key(), SECRET_KEY="bench-checkins", PYTHONPATH=str(ROOT))
    return env


_KEY: list[str] = []


def _pii_key() -> str:
    if not _KEY:
        _KEY.append(new_fernet_key())
    return _KEY[0]


def load_people(database_url: str, people: int) -> float:
    """COPY ``people`` placements (and every third a Kiswahili Contact); give seconds."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(database_url)
    started = time.perf_counter()
    arrived = AS_OF - dt.timedelta(days=8)
    with psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                         dbname=parsed.database) as conn, conn.cursor() as cur:
        with cur.copy("COPY placements (phone, country, status, arrived_at, irregular, "
                      "created_at, updated_at) FROM STDIN") as copy:
            for n in range(people):
                copy.write_row((number(n), "SA", "employed", arrived, False, arrived, arrived))
        with cur.copy("COPY contacts (phone, lang, checkins_paused, created_at, updated_at) "
                      "FROM STDIN") as copy:
            for n in range(0, people, 3):
                copy.write_row((number(n), "sw", False, arrived, arrived))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE placements")
        cur.execute("VACUUM ANALYZE contacts")
    return time.perf_counter() - started


def number(n: int) -> str:
    return f"+9665{n:08d}"


# --------------------------------------------------------------------------- children


def worker_main() -> None:
    """Run one RQ worker on ``bulk`` (no cron: the benchmark drives send_due itself)."""
    from app import create_app
    from app.cli.worker import AppWorker

    app = create_app()
    # As ``kazi worker`` logs: INFO, one line per batch (workers.sms logs each message
    # of a batch at DEBUG only).
    svc = app.extensions["kazi"]
    worker = AppWorker([svc.queues["bulk"]], app=app, connection=svc.redis, cron_url=None)
    try:
        worker.work(burst=False, logging_level="INFO")
    finally:
        # The exact peaks, read once at the end: sampling them every few ms took a
        # tenth of a core from the campaign it measured.
        report = os.environ.get("BENCH_RSS_FILE")
        if report:
            Path(report).write_text(json.dumps({
                "worker_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "horse_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))


def send_due_main(as_of: str) -> None:
    """Run send_due once and print its counts, time and memory as JSON."""
    import logging

    from app import create_app
    from app.checkins.campaign import send_due

    logging.disable(logging.INFO)
    app = create_app()
    svc = app.extensions["kazi"]
    with app.app_context():
        from menus import build_flow  # noqa: F401 - imported before the clock starts

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_before = time.process_time()
        started = time.monotonic()
        counts = send_due(svc, as_of)
        finished = time.monotonic()
        cpu = time.process_time() - cpu_before
    print(json.dumps({"counts": counts, "started": started, "finished": finished,
                      "cpu_s": cpu,
                      "rss_before_kb": before,
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


# --------------------------------------------------------------------------- phases


def campaign(people: int, workers: int, database_url: str, redis_url: str,
             at: ATProcess) -> dict[str, Any]:
    """Load ``people``, run send_due with live workers, wait for AT to get them all."""
    prepare_database(database_url, force=False)
    flush_redis(redis_url)
    at.ask("reset")
    load_seconds = load_people(database_url, people)
    env = env_for(database_url, redis_url, at.url)
    rss_dir = Path(tempfile.mkdtemp(prefix="kazi-bench-rss-"))
    rss_files = [rss_dir / f"worker-{n}.json" for n in range(workers)]
    procs = [subprocess.Popen([sys.executable, "-m", "bench.checkin_campaign", "_worker"],
                              env={**env, "BENCH_RSS_FILE": str(rss_file)}, cwd=ROOT,
                              start_new_session=True)
             for rss_file in rss_files]
    try:
        time.sleep(1.5)  # workers up and listening
        cpu_before = cpu_snapshot([p.pid for p in procs], at.process.pid)
        run = subprocess.run(
            [sys.executable, "-m", "bench.checkin_campaign", "_send_due", AS_OF.isoformat()],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        result = json.loads(run.stdout.strip().splitlines()[-1])
        deadline = time.monotonic() + 600
        while at.ask("count") < people:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {at.ask('count')} of {people} reached AT in 600 s")
            time.sleep(0.05)
        cpu = cpu_used(cpu_before, cpu_snapshot([p.pid for p in procs], at.process.pid))
        stats = at.ask("stats")
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    peaks = [json.loads(f.read_text()) for f in rss_files if f.exists()]
    shutil.rmtree(rss_dir, ignore_errors=True)
    if len(peaks) != workers:
        raise RuntimeError(f"only {len(peaks)} of {workers} workers reported their peak RSS")
    sent = count_sent(database_url)
    elapsed = stats["last"] - result["started"]
    return {
        "people": people, "load_seconds": round(load_seconds, 2),
        "send_due": {"counts": result["counts"],
                     "seconds": round(result["finished"] - result["started"], 2),
                     "rss_before_mb": round(result["rss_before_kb"] / 1024, 1),
                     "peak_rss_mb": round(result["peak_rss_kb"] / 1024, 1)},
        "worker_peak_rss_mb": round(max(p["worker_kb"] for p in peaks) / 1024, 1),
        "horse_peak_rss_mb": round(max(p["horse_kb"] for p in peaks) / 1024, 1),
        "at": {k: v for k, v in stats.items() if k != "sizes"},
        "request_sizes": sorted(set(stats["sizes"])),
        "messages_sent": sent,
        "exactly_once": stats["recipients"] == stats["distinct"] == people == sent,
        "seconds": round(elapsed, 2),
        "drain_seconds": round(stats["last"] - stats["first"], 2),
        "recipients_per_s": round(people / elapsed, 1),
        "cpu_s": {**cpu, "send_due": round(result["cpu_s"], 2)},
    }


def count_sent(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT count(*) FROM messages WHERE status = 'sent'")).scalar()
    engine.dispose()
    return int(sent or 0)


def baseline(at: ATProcess, workers: int) -> dict[str, Any]:
    """Post the batches AT just received again, with plain requests and no database."""
    import requests

    batches = at.ask("batches")
    at.ask("reset")
    url = at.url + "/version1/messaging"
    headers = {"apiKey": API_KEY, "Accept": "application/json"}

    def post(batch: tuple[list[str], str]) -> int:
        to, message = batch
        response = requests.post(url, headers=headers, timeout=(3.05, 9.05), data={
            "username": "sandbox", "to": ",".join(to), "message": message,
            "bulkSMSMode": 1, "enqueue": 1})
        response.raise_for_status()
        return len(response.json()["SMSMessageData"]["Recipients"])

    cpu_before = cpu_snapshot([], at.process.pid)
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        answered = sum(pool.map(post, batches))
    finished = time.monotonic()
    cpu = cpu_used(cpu_before, cpu_snapshot([], at.process.pid))
    stats = at.ask("stats")
    people = sum(len(to) for to, _ in batches)
    assert answered == stats["recipients"] == people, (answered, stats["recipients"], people)
    return {"requests": len(batches), "recipients": people,
            "seconds": round(finished - started, 2),
            "recipients_per_s": round(people / (finished - started), 1),
            "cpu_s": {k: v for k, v in cpu.items() if k != "workers"}}


# --------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["_worker"]:
        worker_main()
        return 0
    if argv[:1] == ["_send_due"]:
        send_due_main(argv[1])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000,
                        help="a first, smaller campaign to compare memory with (0 skips it)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)

    stop_on_sigterm()
    at = ATProcess()
    runs = []
    try:
        for people in [n for n in (args.small, args.people) if n]:
            print(f"campaign of {people:,} ...", flush=True)
            run = campaign(people, args.workers, args.database_url, args.redis_url, at)
            run["baseline"] = baseline(at, args.workers)
            run["postgres_floor_s"] = round(postgres_floor(args.database_url, people), 2)
            run["durable_writes"] = durable_writes(args.database_url)
            run["contract_floor"] = contract_floor(args.database_url, AS_OF)
            run["ratio"] = round(run["recipients_per_s"] / run["baseline"]["recipients_per_s"], 3)
            runs.append(run)
            print(json.dumps(run, indent=1), flush=True)
    finally:
        at.stop()
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": {**machine_info(), "load_avg": os.getloadavg()},
              "workers": args.workers, "runs": runs, "target": TARGET}
    write_result(RESULTS / "checkin_campaign.json", report)
    print(table(report))
    print(costs_table(report))
    print(cpu_table(report))
    return 0 if all(r["exactly_once"] and r["ratio"] >= TARGET for r in runs) else 1


def table(report: dict[str, Any]) -> str:
    lines = [
        "| people | send_due s | end-to-end s | recipients/s | baseline recipients/s | ratio "
        "| AT requests | send_due peak RSS MB | worker peak RSS MB | horse peak RSS MB "
        "| exactly once | PostgreSQL floor s¹ |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['people']:,} | {r['send_due']['seconds']} | {r['seconds']} "
            f"| {r['recipients_per_s']:,} | {r['baseline']['recipients_per_s']:,} "
            f"| **{r['ratio']}** | {r['at']['requests']} | {r['send_due']['peak_rss_mb']} "
            f"| {r['worker_peak_rss_mb']} | {r['horse_peak_rss_mb'] or '-'} "
            f"| {'yes' if r['exactly_once'] else 'NO'} | {r['postgres_floor_s']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
