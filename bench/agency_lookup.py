"""Agency lookup: the USSD hop that searches a 5,000-agency register, against the bare baseline.

    python -m bench.agency_lookup [--concurrency 32] [--slice 5] [--cycles 6] [--warmup 1]
                                  [--agencies 5000] [--database-url URL] [--redis-url URL]

What it does:

1. Setup: a dedicated PostgreSQL database (``kazi_bench_agencies``: schema dropped,
   recreated and migrated) holding a register of ``--agencies`` agencies (the demo
   generator's names, statuses and directors, imported through the register import),
   and ``Contact`` rows giving the bench phones a language, so a dial lands on the
   home menu. Redis db 14, flushed before the servers start.
2. Targets, each under ``gunicorn -w 3`` (sync workers), both servers up throughout,
   measured in interleaved slices: ``--cycles`` (6) cycles, each running every target
   for ``--slice`` seconds (5, after ``--warmup``, 1), starting with the next target in
   turn. A spell of host noise on this shared VM is so spread over the targets
   instead of landing on one; a target's figure is its total hops over its total
   measured time:
   - ``baseline``: ``bench.baseline_app`` (Flask + one Redis GET and one SET);
   - ``check``: the gateway, measuring only the hop that runs the agency search. Before
     the clock starts, sessions are parked on the "type a licence number or name"
     screen (a dial, then the home menu's "Check an agency", through the gateway);
     each measured request is then the next hop of one parked session: the query.
     That hop validates the query, searches the in-memory index (rebuilt only when the
     register changes), and for one match draws the answer and queues the check record
     and the rule rotation's increment on the session's save (no SQL);
   - ``menu``: the gateway's plain menu hop (home menu -> the query screen) measured
     the same way, to tell the foundation's cost per hop from the search's.
3. Queries: 40% licence numbers in various spellings, 30% full names, 20% names with a
   typo (one match is then offered as the nearest name, to confirm), 10% a first word
   only (usually a list of matches). Every reply must be 200 ``CON``: an answer, a
   list, the nearest name or a not-found warning.
4. Prints hops/s, p50, p99 and CPU per hop (gunicorn, the local Redis server, the load
   generator) per target, the ratio check / baseline (target >= 0.7) and each
   cycle's, and writes ``bench/results/agency_lookup.json``.

The register, the parked sessions and the slice's load are ``bench.agency_load``;
the database and Redis setup are ``bench.harness``'s, gunicorn and the raw-socket HTTP
client ``bench.server``'s.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

from bench.agency_load import (
    any_con,
    check_reply,
    menu_reply,
    park,
    phone_number,
    queries,
    run,
    seed,
)
from bench.harness import (
    RESULTS,
    ROOT,
    SetupError,
    append_docs,
    flush_redis,
    gateway_env,
    machine_info,
    new_fernet_key,
    percentile,
    prepare_database,
    stop_on_sigterm,
    write_result,
)
from bench.server import SERVICES, Gunicorn, all_process_cpu, tree_env

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_agencies"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
TARGET = 0.7


# -------------------------------------------------------------------------- report


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(report: dict[str, Any]) -> str:
    lines = [f"agency lookup, {report['agencies']} agencies, {report['concurrency']} connections, "
             f"gunicorn -w {report['workers']} (sync), {report['machine']['nproc']} CPUs "
             f"({report['machine']['cpu_model']}), {report['date']}",
             f"{report['cycles']} interleaved slices of {report['slice_s']:g} s per target",
             f"{'target':<14}{'hops/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/hop':>12}"
             f"{'Redis ms':>10}{'client ms':>10}{'errors':>8}  slices' hops/s"]

    for name, r in report["results"].items():
        lines.append(f"{name:<14}{r['hops_per_s']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
                     f"{ms(r['gunicorn_cpu_ms_per_hop']):>12}"
                     f"{ms(r.get('redis_cpu_ms_per_hop')):>10}"
                     f"{ms(r.get('client_cpu_ms_per_hop')):>10}{r['errors']:>8}  "
                     f"{r.get('slices_hops_per_s', '')}")
    for label, value in report.get("ratios", {}).items():
        lines.append(f"{label}: {value}")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """Give the figures as the section appended to docs/benchmarks.md."""
    m = report["machine"]
    rows = "\n".join(
        f"| {name} | {r['hops_per_s']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{ms(r['gunicorn_cpu_ms_per_hop'])} | {ms(r.get('redis_cpu_ms_per_hop'))} | "
        f"{ms(r.get('client_cpu_ms_per_hop'))} | {r['errors']} |"
        for name, r in report["results"].items())
    ratios = report.get("ratios", {})
    return (
        "\n## Agency lookup (issue 3)\n\n"
        f"`python -m bench.agency_lookup` on {report['date'][:10]}: {report['agencies']} agencies "
        f"in PostgreSQL, {report['concurrency']} connections, gunicorn -w {report['workers']} "
        f"(sync), {m['nproc']} CPUs ({m['cpu_model']}), shared with the load generator, Redis "
        f"and PostgreSQL; {report['cycles']} interleaved slices of {report['slice_s']:g} s per "
        "target (total hops over total measured time).\n\n"
        "| target | hops/s | p50 ms | p99 ms | gunicorn CPU ms/hop | Redis CPU ms/hop | "
        "load generator CPU ms/hop | errors |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        "- `baseline`: Flask + one Redis GET and SET (`bench/baseline_app.py`).\n"
        "- `check`: only the hop that runs the search (query typed on the \"licence number or "
        "name\" screen): 40% licence numbers, 30% names, 20% names with a typo, 10% first "
        "words; one match draws the answer and queues the check record on the session's "
        "save.\n"
        "- `menu`: the gateway's plain menu hop, measured the same way.\n\n"
        f"check / baseline = {ratios.get('check_over_baseline')} (per cycle "
        f"{ratios.get('cycles_check_over_baseline')}; target >= {TARGET}); "
        f"check / menu = {ratios.get('check_over_menu')}.\n")


# ---------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.agency_lookup",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--slice", type=float, default=5.0,
                   help="measured seconds per slice; each target gets --cycles slices (5)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per slice")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--agencies", type=int, default=5000)
    p.add_argument("--cycles", type=int, default=6,
                   help="slices of each target, interleaved (6)")
    p.add_argument("--database-url", default=DEFAULT_DB)
    p.add_argument("--redis-url", default=DEFAULT_REDIS)
    p.add_argument("--pool", type=int, default=0,
                   help="requests made ready per slice (default: 1.5 x the target's last "
                        "rate over warm-up + slice)")
    p.add_argument("--output", type=Path, default=RESULTS / "agency_lookup.json")
    p.add_argument("--append-docs", type=Path, default=None,
                   help="append the figures as a section to this markdown file")
    p.add_argument("--compare", type=Path, metavar="TREE", default=None,
                   help="also serve the gateway from source tree TREE (another checkout) and "
                        "measure its hops as targets 'check@compare' and 'menu@compare', "
                        "interleaved with the others, to measure a change")
    return p.parse_args(argv)


TARGETS = ("baseline", "check", "menu")
COMPARED = ("check@compare", "menu@compare")
"""The targets ``--compare`` adds: the same hops, served from the other source tree."""


class Target:
    """One target's server and how its requests are made: the pool is refilled per slice."""

    def __init__(self, name: str, server: Gunicorn, register: list[tuple[str, str]],
                 rng: random.Random, concurrency: int) -> None:
        self.name = name
        self.kind = name.split("@")[0]
        self.server = server
        self.register = register
        self.rng = rng
        self.concurrency = concurrency
        self.slices: list[dict[str, Any]] = []
        self.made = 0

    def pool(self, size: int) -> collections.deque:
        """Give ``size`` fresh requests: parked sessions' next hop (or baseline posts)."""
        self.made += 1
        tag = f"{self.name}{self.made}"
        if self.kind == "baseline":
            return collections.deque((f"{tag}_{n}", phone_number(n), "1") for n in range(size))
        parked = park(self.server.port, size, self.concurrency, self.kind == "check", tag)
        if self.kind == "menu":
            return collections.deque((sid, phone, option) for sid, phone, _t, option in parked)
        texts = queries(self.register, len(parked), self.rng)
        return collections.deque((sid, phone, f"{text}*{query}")
                                 for (sid, phone, text, _opt), query in zip(parked, texts,
                                                                            strict=True))

    def rate(self) -> float:
        return self.slices[-1]["hops_per_s"] if self.slices else 3000.0


def combine(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One target's figures over all its slices: total hops over total measured time."""
    latencies = sorted(ms for r in slices for ms in r["latencies_ms"])
    hops = len(latencies)
    seconds = sum(r["seconds"] for r in slices)

    def per_hop(part: str) -> float | None:
        return sum(r["cpu_s"][part] for r in slices) * 1000 / hops if hops else None

    errors = [e for r in slices for e in r["error_samples"]]
    return {
        "target": slices[0]["target"],
        "hops": hops,
        "seconds": round(seconds, 2),
        "hops_per_s": hops / seconds if seconds > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "gunicorn_cpu_ms_per_hop": per_hop("gunicorn"),
        "redis_cpu_ms_per_hop": per_hop("redis") if any(r["cpu_s"]["redis"] for r in slices)
        else None,
        "client_cpu_ms_per_hop": per_hop("client"),
        "errors": sum(r["errors"] for r in slices),
        "error_samples": sorted(set(errors))[:5],
        "slices_hops_per_s": [round(r["hops_per_s"], 1) for r in slices],
    }


def measure(args: argparse.Namespace, env: dict[str, str], register: list[tuple[str, str]],
            rng: random.Random, redis_pids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Run every target in short slices, interleaved, cycle after cycle; give the slices.

    Both servers stay up throughout (an idle sync worker costs nothing), and each
    cycle starts with the next target in turn, so a spell of host noise is shared
    out instead of landing on one target.
    """
    flush_redis(args.redis_url)
    names = TARGETS + (COMPARED if args.compare else ())
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(Gunicorn("bench.baseline_app:app", env, args.workers,
                                            RESULTS / "gunicorn-agency-baseline.log"))
        gateway = stack.enter_context(Gunicorn("wsgi:app", tree_env(env, ROOT), args.workers,
                                               RESULTS / "gunicorn-agency-gateway.log"))
        servers = {"": gateway}
        if args.compare:
            tree = args.compare.resolve()
            servers["compare"] = stack.enter_context(Gunicorn(
                "wsgi:app", tree_env(env, tree), args.workers,
                RESULTS / "gunicorn-agency-compare.log", cwd=tree))
        targets = {name: Target(name, base if name == "baseline"
                                else servers[name.partition("@")[2]], register, rng,
                                args.concurrency) for name in names}
        checks = {"baseline": any_con, "check": check_reply, "menu": menu_reply}
        for cycle in range(args.cycles):
            order = names[cycle % len(names):] + names[:cycle % len(names)]
            for name in order:
                target = targets[name]
                size = args.pool or int(target.rate() * (args.warmup + args.slice) * 1.5) + 500
                pool = target.pool(size)
                result = run(name, target.server, args.concurrency, args.warmup, args.slice,
                             pool, checks[target.kind], redis_pids)
                target.slices.append(result)
                print(f"cycle {cycle + 1}/{args.cycles} {name}: "
                      f"{result['hops_per_s']:.1f} hops/s, "
                      f"machine {result['machine_busy']:.0%} busy, "
                      f"gunicorn {result['cpu_s']['gunicorn'] * 1000 / max(result['hops'], 1):.2f} "
                      "CPU ms/hop"
                      + (" (pool ran out: raise --pool)" if not result["pool_left"] else ""),
                      flush=True)
        return {name: t.slices for name, t in targets.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    rng = random.Random(3)
    try:
        print(f"setup: database {args.database_url}; redis {args.redis_url}", flush=True)
        prepare_database(args.database_url, force=False)
        register = seed(args.database_url, args.agencies)
        env = gateway_env(args.database_url, args.redis_url, new_fernet_key())
        redis_pids = [pid for pid, (comm, _cpu) in all_process_cpu().items()
                      if comm in SERVICES["redis"]]
        slices = measure(args, env, register, rng, redis_pids)
        results = {name: combine(runs) for name, runs in slices.items()}
        cycle_ratios = [check["hops_per_s"] / base["hops_per_s"]
                        for base, check in zip(slices["baseline"], slices["check"], strict=True)]
        report: dict[str, Any] = {
            "benchmark": "agency_lookup",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "agencies": args.agencies,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "slice_s": args.slice,
            "cycles": args.cycles,
            "warmup_s": args.warmup,
            "results": results,
            "ratios": {
                "check_over_baseline": round(results["check"]["hops_per_s"]
                                             / results["baseline"]["hops_per_s"], 3),
                "check_over_menu": round(results["check"]["hops_per_s"]
                                         / results["menu"]["hops_per_s"], 3),
                "cycles_check_over_baseline": [round(r, 3) for r in cycle_ratios],
                "of": f"total hops over total time, {args.cycles} interleaved slices each",
                "target": f">= {TARGET} x baseline",
            },
        }
        report["ratios"]["met"] = report["ratios"]["check_over_baseline"] >= TARGET
        if args.compare:
            other = results["check@compare"]["hops_per_s"]
            report["compare_tree"] = str(args.compare.resolve())
            report["ratios"]["compare_check_over_baseline"] = round(
                other / results["baseline"]["hops_per_s"], 3)
            report["ratios"]["check_over_compare_check"] = round(
                results["check"]["hops_per_s"] / other, 3)
            report["ratios"]["cycles_compare_check_over_baseline"] = [
                round(c["hops_per_s"] / b["hops_per_s"], 3)
                for b, c in zip(slices["baseline"], slices["check@compare"], strict=True)]
        print()
        print(render(report))
        write_result(args.output, report)
        print(f"\nwrote {args.output}")
        if args.append_docs:
            append_docs(markdown(report), args.append_docs)
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
