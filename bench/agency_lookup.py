"""Agency lookup: the USSD hop that searches a 5,000-agency register, against the bare baseline.

    python -m bench.agency_lookup [--concurrency 32] [--duration 10] [--warmup 2]
                                  [--agencies 5000] [--database-url URL] [--redis-url URL]

What it does:

1. Setup: a dedicated PostgreSQL database (``kazi_bench_agencies``: schema dropped,
   recreated and migrated) holding a register of ``--agencies`` agencies (the demo
   generator's names, statuses and directors, imported through the register import),
   and ``Contact`` rows giving the bench phones a language, so a dial lands on the
   home menu. Redis db 14, flushed before each target.
2. Targets, each under ``gunicorn -w 3`` (sync workers), one after another:
   - ``baseline``: ``bench.baseline_app`` (Flask + one Redis GET and one SET);
   - ``check``: the gateway, measuring only the hop that runs the agency search. Before
     the clock starts, sessions are parked on the "type a licence number or name"
     screen (a dial, then the home menu's "Check an agency", through the gateway);
     each measured request is then the next hop of one parked session: the query.
     That hop validates the query, searches the in-memory index (rebuilt only when the
     register changes), and for one match records the check (SQL) and moves the rule
     rotation (Redis) before drawing the answer;
   - ``menu``: the gateway's plain menu hop (home menu -> the query screen) measured
     the same way, to tell the foundation's cost per hop from the search's.
3. Queries: 40% licence numbers in various spellings, 30% full names, 20% names with a
   typo, 10% a first word only (usually a list of matches). Every reply must be 200
   ``CON``: an answer, a list or a not-found warning.
4. Prints hops/s, p50 and p99 per target and the ratio check / baseline (target
   >= 0.7), and writes ``bench/results/agency_lookup.json``.

It reuses the gateway benchmark's helpers (``bench.ussd_gateway``): the database and
Redis setup, gunicorn control and the raw-socket HTTP client.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import random
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.ussd_gateway import (
    RESULTS,
    SERVICE_CODE,
    Gunicorn,
    HttpError,
    RawHttp,
    SetupError,
    cpu_seconds,
    flush_redis,
    gateway_env,
    machine_info,
    new_fernet_key,
    percentile,
    prepare_database,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_agencies"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
TARGET = 0.7
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
    if errors:
        raise SetupError(f"parking sessions failed {len(errors)} times, e.g. {errors[0]}")
    return parked


# ---------------------------------------------------------------------------- load


def run(name: str, server: Gunicorn, concurrency: int, warmup: float, duration: float,
        requests: collections.deque, check) -> dict[str, Any]:
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
    deadline = t0 + duration
    while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    t1 = min(deadline, time.perf_counter())
    cpu1 = cpu_seconds(server.pids())
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
        "pool_left": len(requests),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
    }


def any_con(status: int, reply: str) -> str | None:
    if status != 200 or not reply.startswith("CON "):
        return f"HTTP {status}: {reply[:100]!r}"
    return None


def check_reply(status: int, reply: str) -> str | None:
    problem = any_con(status, reply)
    if problem:
        return problem
    if not re.search(r"licence|agencies match|not on the NEA register", reply):
        return f"not an agency answer: {reply[:100]!r}"
    return None


def menu_reply(status: int, reply: str) -> str | None:
    problem = any_con(status, reply)
    if problem is None and "licence number" not in reply:
        return f"not the query screen: {reply[:100]!r}"
    return problem


# -------------------------------------------------------------------------- report


def render(report: dict[str, Any]) -> str:
    lines = [f"agency lookup, {report['agencies']} agencies, {report['concurrency']} connections, "
             f"gunicorn -w {report['workers']} (sync), {report['machine']['nproc']} CPUs "
             f"({report['machine']['cpu_model']}), {report['date']}",
             f"{'target':<10}{'hops/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/hop':>12}"
             f"{'errors':>8}"]
    for name, r in report["results"].items():
        cpu = r["gunicorn_cpu_ms_per_hop"]
        lines.append(f"{name:<10}{r['hops_per_s']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
                     f"{cpu if cpu is None else round(cpu, 2):>12}{r['errors']:>8}")
    for label, value in report.get("ratios", {}).items():
        lines.append(f"{label}: {value}")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """Give the figures as the section appended to docs/benchmarks.md."""
    m = report["machine"]
    rows = "\n".join(
        f"| {name} | {r['hops_per_s']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{(r['gunicorn_cpu_ms_per_hop'] or 0):.2f} | {r['errors']} |"
        for name, r in report["results"].items())
    ratios = report.get("ratios", {})
    return (
        "\n## Agency lookup (issue 3)\n\n"
        f"`python -m bench.agency_lookup` on {report['date'][:10]}: {report['agencies']} agencies "
        f"in PostgreSQL, {report['concurrency']} connections, gunicorn -w {report['workers']} "
        f"(sync), {m['nproc']} CPUs ({m['cpu_model']}), shared with the load generator, Redis "
        "and PostgreSQL.\n\n"
        "| target | hops/s | p50 ms | p99 ms | gunicorn CPU ms/hop | errors |\n"
        "|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        "- `baseline`: Flask + one Redis GET and SET (`bench/baseline_app.py`).\n"
        "- `check`: only the hop that runs the search (query typed on the \"licence number or "
        "name\" screen): 40% licence numbers, 30% names, 20% names with a typo, 10% first "
        "words; one match records the check (SQL) before the answer.\n"
        "- `menu`: the gateway's plain menu hop, measured the same way.\n\n"
        f"check / baseline = {ratios.get('check_over_baseline')} (target >= {TARGET}); "
        f"check / menu = {ratios.get('check_over_menu')}.\n")


# ---------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.agency_lookup",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per target")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--agencies", type=int, default=5000)
    p.add_argument("--database-url", default=DEFAULT_DB)
    p.add_argument("--redis-url", default=DEFAULT_REDIS)
    p.add_argument("--pool", type=int, default=0,
                   help="parked sessions per gateway target (default: enough for the "
                        "baseline's rate over warm-up + duration)")
    p.add_argument("--output", type=Path, default=RESULTS / "agency_lookup.json")
    p.add_argument("--append-docs", type=Path, default=None,
                   help="append the figures as a section to this markdown file")
    return p.parse_args(argv)


def _sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    rng = random.Random(3)
    try:
        print(f"setup: database {args.database_url}; redis {args.redis_url}", flush=True)
        prepare_database(args.database_url, force=False)
        register = seed(args.database_url, args.agencies)
        env = gateway_env(args.database_url, args.redis_url, new_fernet_key())
        results: dict[str, Any] = {}

        flush_redis(args.redis_url)
        with Gunicorn("bench.baseline_app:app", env, args.workers,
                      RESULTS / "gunicorn-agency-baseline.log") as server:
            pool = collections.deque((f"base{n}", phone_number(n), "1")
                                     for n in range(200_000))
            results["baseline"] = run("baseline", server, args.concurrency, args.warmup,
                                      args.duration, pool, any_con)
        print(f"baseline: {results['baseline']['hops_per_s']:.1f} hops/s", flush=True)
        size = args.pool or int(results["baseline"]["hops_per_s"]
                                * (args.warmup + args.duration) * 1.1) + 500

        flush_redis(args.redis_url)
        with Gunicorn("wsgi:app", env, args.workers,
                      RESULTS / "gunicorn-agency-gateway.log") as server:
            started = time.perf_counter()
            parked = park(server.port, size, args.concurrency, True, "chk")
            print(f"check: parked {len(parked)} sessions on the query screen in "
                  f"{time.perf_counter() - started:.0f}s", flush=True)
            texts = queries(register, len(parked), rng)
            pool = collections.deque((sid, phone, f"{text}*{query}")
                                     for (sid, phone, text, _opt), query in zip(parked, texts,
                                                                                strict=True))
            results["check"] = run("check", server, args.concurrency, args.warmup,
                                   args.duration, pool, check_reply)
            print(f"check: {results['check']['hops_per_s']:.1f} hops/s", flush=True)
            parked = park(server.port, size, args.concurrency, False, "menu")
            pool = collections.deque((sid, phone, option) for sid, phone, _t, option in parked)
            results["menu"] = run("menu", server, args.concurrency, args.warmup, args.duration,
                                  pool, menu_reply)
        report: dict[str, Any] = {
            "benchmark": "agency_lookup",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "agencies": args.agencies,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "results": results,
            "ratios": {
                "check_over_baseline": round(results["check"]["hops_per_s"]
                                             / results["baseline"]["hops_per_s"], 3),
                "check_over_menu": round(results["check"]["hops_per_s"]
                                         / results["menu"]["hops_per_s"], 3),
                "target": f">= {TARGET} x baseline",
            },
        }
        report["ratios"]["met"] = report["ratios"]["check_over_baseline"] >= TARGET
        print()
        print(render(report))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nwrote {args.output}")
        if args.append_docs:
            with open(args.append_docs, "a", encoding="utf-8") as fh:
                fh.write(markdown(report))
            print(f"appended to {args.append_docs}")
        return 1 if any(r["errors"] for r in results.values()) else 0
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; gunicorn stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
