"""Check-in campaign: people due abroad, sent by ``send_due`` and RQ workers, vs plain requests.

    python -m bench.checkin_campaign [--people 100000] [--small 10000] [--workers 2]
                                     [--database-url URL] [--redis-url URL]

What it does, for ``--small`` people and then ``--people`` people (memory must stay flat):

1. Setup: the PostgreSQL database ``kazi_bench_checkins`` (created if missing, its
   ``public`` schema dropped and recreated, migrated) and Redis db 11 (flushed).
   People are loaded with ``COPY``: one placement each (Saudi Arabia, employed,
   arrived 8 days before the run's moment), a third of them with a Kiswahili Contact.
2. The local AT server (``tests/fakes/at_api.py``) runs in its own process.
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
8. The least CPU any design needs under the contract (``CONTRACT_FLOOR``): the AT
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
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_checkins"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
API_KEY = "bench-api-key"
AS_OF = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
"""The run's moment: noon in Riyadh, so everyone is inside waking hours."""
TARGET = 0.5


# --------------------------------------------------------------------------- AT server


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
        from cryptography.fernet import Fernet

        _KEY.append(Fernet.generate_key().decode())
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


def _cpu(proc: Any) -> float:
    """CPU seconds a process and its reaped children have used (user + system)."""
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def cpu_snapshot(workers: list[int], at_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each part of the campaign, machine-wide.

    PostgreSQL and Redis are every ``postgres`` / ``redis-server`` process: a backend
    that exits is reaped by the postmaster, whose children's times then hold it, so
    the sum over the processes alive at each snapshot never loses a backend's work.
    ``bench`` is this process without its children: the baseline's client threads
    (and, during the campaign, the memory sampler and the polling of the AT server).
    """
    import psutil

    parts = {"PostgreSQL": 0.0, "Redis": 0.0}
    for proc in psutil.process_iter(["name"]):
        part = {"postgres": "PostgreSQL", "redis-server": "Redis"}.get(proc.info["name"])
        if part:
            try:
                parts[part] += _cpu(proc)
            except psutil.Error:
                continue
    parts["workers"] = 0.0
    for pid in workers:
        try:
            parts["workers"] += _cpu(psutil.Process(pid))
        except psutil.Error:
            continue
    parts["AT server"] = _cpu(psutil.Process(at_pid))
    own = psutil.Process().cpu_times()  # not its children: send_due counts on its own
    parts["bench"] = own.user + own.system
    return parts


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {part: round(after[part] - before[part], 2) for part in after}


# --------------------------------------------------------------------------- phases


def campaign(people: int, workers: int, database_url: str, redis_url: str,
             at: ATProcess) -> dict[str, Any]:
    """Load ``people``, run send_due with live workers, wait for AT to get them all."""
    from bench.ussd_gateway import flush_redis, prepare_database

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


FLOOR_ROWS = (
    "INSERT INTO messages (to_phone, body, kind, queue, dedupe_key, status, attempts, "
    "created_at, updated_at) SELECT '+9667' || lpad(g::text, 8, '0'), "
    "repeat('x', 130), 'floor', 'bulk', 'floor:' || g, 'pending', 0, now(), now() "
    "FROM generate_series(1, :n) AS g")

DURABLE_WRITES = (
    # (what, statement): each per-recipient write the campaign makes, shaped as the
    # app writes it, for every person loaded. Run in order in one transaction. (Before
    # commit "implied check-in dialogues" it also stored each person's reply dialogue.)
    ("store the check-in SMS (messages)",
     "INSERT INTO messages (to_phone, body, kind, queue, dedupe_key, status, attempts, "
     "person_id, created_at, updated_at) SELECT p.phone, repeat('x', 130), 'checkin', 'bulk', "
     "'cost:' || p.id, 'pending', 0, p.person_id, now(), now() FROM placements AS p"),
    ("store the check-in (checkins)",
     "INSERT INTO checkins (placement_id, phone, sequence, due_at, status, message_id, batch, "
     "sent_at) SELECT p.id, m.to_phone, 99, now(), 'sent', m.id, m.id, now() "
     "FROM messages AS m JOIN placements AS p ON 'cost:' || p.id = m.dedupe_key"),
    ("claim each SMS before sending",
     "UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = now() "
     "WHERE kind = 'checkin' AND dedupe_key LIKE 'cost:%' "
     "AND coalesce(status, status) = 'pending'"),
    ("record each SMS's outcome",
     "UPDATE messages SET status = 'sent', at_message_id = 'ATXid_' || md5(id::text), "
     "status_code = 101, cost = 'KES 0.8000', sent_at = now(), updated_at = now() "
     "WHERE kind = 'checkin' AND dedupe_key LIKE 'cost:%' "
     "AND coalesce(status, status) = 'sending'"),
)


CONTRACT_FLOOR = (
    # (what, statement): the least per-recipient writing any campaign design can do
    # under the contract (DESIGN.md §1: an outbound message lives in SQL, its state
    # goes pending -> sending -> sent/failed; §2: each recipient's statusCode and AT
    # messageId are kept for delivery reports). Per-batch claims and records (one row
    # per AT request, 220 per 100,000) are left out: they are too few to count.
    ("one row per person: the check-in, carrying its SMS's state",
     "INSERT INTO checkins (placement_id, phone, sequence, due_at, status, batch, sent_at) "
     "SELECT p.id, p.phone, 98, now(), 'sent', 1, now() FROM placements AS p"),
    ("one outcome per recipient: AT's messageId (indexed) and status code",
     "CREATE TABLE bench_outcomes (checkin_id integer NOT NULL, "
     "at_message_id varchar(80) NOT NULL, status_code smallint NOT NULL, cost varchar(20)); "
     "CREATE INDEX ix_bench_outcomes_at ON bench_outcomes (at_message_id); "
     "INSERT INTO bench_outcomes SELECT c.id, 'ATXid_' || md5(c.id::text), 101, "
     "'KES 0.8000' FROM checkins AS c WHERE c.sequence = 98"),
)


def due_read_sql() -> str:
    """The campaign's own page query over everyone at once, a month after the run.

    A month on, everybody is due again (their last check-in is past ``MIN_GAP``), so
    every per-placement probe runs as it does in a campaign, and every row comes back.
    """
    from sqlalchemy.dialects import postgresql

    from app.checkins.eligible import page_query

    query = page_query(AS_OF + dt.timedelta(days=35), ["SA"], 0, 10**9)
    return str(query.compile(dialect=postgresql.dialect(),
                             compile_kwargs={"literal_binds": True}))


def contract_floor(database_url: str) -> list[dict[str, Any]]:
    """Time the contract's least per-recipient writes (rolled back), wall and backend CPU.

    The backend's CPU is read from its process, so the floor given in CPU seconds is
    not inflated by waiting: it is what the machine must spend, whatever the design.
    """
    import psutil
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    costs = []
    with engine.connect() as conn:
        conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        conn.execute(text("SET LOCAL jit = off"))
        backend = psutil.Process(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        reads = [("find who is due: the campaign's page query, all pages as one",
                  f"SELECT count(*) FROM ({due_read_sql()}) AS due")]
        for what, sql in [*reads, *CONTRACT_FLOOR]:
            cpu, started = _cpu(backend), time.perf_counter()
            conn.exec_driver_sql(sql)
            costs.append({"write": what, "seconds": round(time.perf_counter() - started, 2),
                          "cpu_s": round(_cpu(backend) - cpu, 2)})
        conn.rollback()
    engine.dispose()
    return costs


def postgres_floor(database_url: str, people: int) -> float:
    """Time PostgreSQL alone inserting ``people`` message rows in one statement (rolled back).

    No Python, no network per row, no check-ins: a lower bound for what
    writing one durable row per recipient costs on this machine at this moment.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        started = time.perf_counter()
        conn.execute(text(FLOOR_ROWS), {"n": people})
        seconds = time.perf_counter() - started
        conn.rollback()
    engine.dispose()
    return seconds


def durable_writes(database_url: str) -> list[dict[str, Any]]:
    """Time PostgreSQL alone making each per-recipient write of a campaign (rolled back).

    One set-based statement per write, for every placement loaded, no Python per row:
    what the durability rules cost this machine before any SMS is sent or recorded.
    Run after the campaign, so the tables hold its rows as they would in production.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    costs = []
    with engine.connect() as conn:
        conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        conn.execute(text("SET LOCAL jit = off"))
        for what, sql in DURABLE_WRITES:
            started = time.perf_counter()
            rows = conn.execute(text(sql)).rowcount
            costs.append({"write": what, "rows": rows,
                          "seconds": round(time.perf_counter() - started, 2)})
        conn.rollback()
    engine.dispose()
    return costs


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

    at = ATProcess()
    runs = []
    try:
        for people in [n for n in (args.small, args.people) if n]:
            print(f"campaign of {people:,} ...", flush=True)
            run = campaign(people, args.workers, args.database_url, args.redis_url, at)
            run["baseline"] = baseline(at, args.workers)
            run["postgres_floor_s"] = round(postgres_floor(args.database_url, people), 2)
            run["durable_writes"] = durable_writes(args.database_url)
            run["contract_floor"] = contract_floor(args.database_url)
            run["ratio"] = round(run["recipients_per_s"] / run["baseline"]["recipients_per_s"], 3)
            runs.append(run)
            print(json.dumps(run, indent=1), flush=True)
    finally:
        at.stop()
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": machine(), "workers": args.workers, "runs": runs, "target": TARGET}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "checkin_campaign.json").write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    print(costs_table(report))
    print(cpu_table(report))
    return 0 if all(r["exactly_once"] and r["ratio"] >= TARGET for r in runs) else 1


def machine() -> dict[str, Any]:
    return {"nproc": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "load_avg": os.getloadavg()}


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


def costs_table(report: dict[str, Any]) -> str:
    """What each per-recipient write costs PostgreSQL alone, against the 0.5 x budget."""
    lines = ["", "PostgreSQL alone, per-recipient writes (set-based, rolled back):", "",
             "| people | write | s | share of the 0.5 x budget² |", "|---:|---|---:|---:|"]
    for r in report["runs"]:
        budget = r["people"] / (TARGET * r["baseline"]["recipients_per_s"])
        for cost in r["durable_writes"]:
            lines.append(f"| {r['people']:,} | {cost['write']} | {cost['seconds']} "
                         f"| {cost['seconds'] / budget:.0%} |")
        total = sum(c["seconds"] for c in r["durable_writes"])
        lines.append(f"| {r['people']:,} | **all of them** | **{round(total, 2)}** "
                     f"| **{total / budget:.0%}** |")
        lines.append(f"| {r['people']:,} | budget: the whole campaign at 0.5 x | "
                     f"{budget:.2f} | 100% |")
    lines += ["", "² The 0.5 x budget is the time the whole campaign may take to meet the "
              "target: people / (0.5 x the baseline's recipients/s), from the same run."]
    return "\n".join(lines)


def cpu_table(report: dict[str, Any]) -> str:
    """CPU seconds by part, campaign and baseline; and the least any design needs."""
    lines = ["", "CPU seconds by part (machine-wide, while each one ran):", "",
             "| people | part | campaign CPU s | baseline CPU s |", "|---:|---|---:|---:|"]
    for r in report["runs"]:
        base = r["baseline"]["cpu_s"]
        for part, used in r["cpu_s"].items():
            lines.append(f"| {r['people']:,} | {part} | {used} | {base.get(part, '-')} |")
        lines.append(f"| {r['people']:,} | **all** | **{round(sum(r['cpu_s'].values()), 2)}** "
                     f"| **{round(sum(base.values()), 2)}** |")
    lines += ["", "The least CPU any campaign under the contract needs, against what the "
              "machine has at 0.5 x:", "",
              "| people | AT server³ | posting³ | PostgreSQL floor⁴ | least CPU s "
              "| machine CPU s at 0.5 x⁵ | least / machine |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["runs"]:
        least = least_cpu(r, report["machine"]["nproc"])
        lines.append(
            f"| {r['people']:,} | {least['at_server']} | {least['posting']} "
            f"| {least['postgres']} | **{least['least']}** | {least['machine']} "
            f"| **{least['least'] / least['machine']:.0%}** |")
    lines += ["", "³ From the baseline: the AT server's CPU for these very requests, and "
              "plain `requests` posting them (the bench process).",
              "⁴ The contract floor's statements, as the PostgreSQL backend's own CPU: "
              + "; ".join(c["write"] for c in report["runs"][-1]["contract_floor"]) + ".",
              "⁵ Cores x the time 0.5 x the baseline allows the whole campaign."]
    return "\n".join(lines)


def least_cpu(run: dict[str, Any], cores: int) -> dict[str, float]:
    """The least CPU a campaign of ``run`` needs under the contract, and what 0.5 x leaves."""
    base = run["baseline"]["cpu_s"]
    at_server, posting = base["AT server"], base["bench"]
    postgres = sum(c["cpu_s"] for c in run["contract_floor"])
    budget = run["people"] / (TARGET * run["baseline"]["recipients_per_s"])
    return {"at_server": at_server, "posting": posting, "postgres": round(postgres, 2),
            "least": round(at_server + posting + postgres, 2),
            "machine": round(cores * budget, 2)}


if __name__ == "__main__":
    sys.exit(main())
