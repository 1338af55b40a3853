"""USSD gateway throughput and latency against a bare Flask + Redis baseline.

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

The load is ``bench.ussd_load``, the ``--profile`` mode ``bench.ussd_profile``; this
module sets up, runs the rounds and reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.harness import (
    RESULTS,
    ROOT,
    SetupError,
    flush_redis,
    gateway_env,
    machine_info,
    new_fernet_key,
    prepare_database,
    stop_on_sigterm,
    write_result,
)
from bench.server import Gunicorn, tree_env
from bench.ussd_load import run_load
from bench.ussd_profile import profile_in_process

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
TARGET_THROUGHPUT = 0.8
TARGET_P99 = 2.0


# -------------------------------------------------------------------------- report


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
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
        write_result(args.output, report)
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
