"""What the check-in campaign costs by part, and the least any design could cost.

``cpu_snapshot`` reads the CPU each part of the machine has used (PostgreSQL, Redis,
the workers, the AT server, the bench itself); the floors time PostgreSQL alone
making the campaign's per-recipient writes, and the contract's least writes, so the
tables can set the campaign against the time and CPU the 0.5 x target allows.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any


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


# ------------------------------------------------------------------------- floors


FLOOR_ROWS = (
    "INSERT INTO messages (to_phone, body, kind, queue, dedupe_key, status, attempts, "
    "created_at, updated_at) SELECT '+9667' || lpad(g::text, 8, '0'), "
    "repeat('x', 130), 'floor', 'bulk', 'floor:' || g, 'pending', 0, now(), now() "
    "FROM generate_series(1, :n) AS g")

DURABLE_WRITES = (
    # (what, statement): each per-recipient write the campaign makes, shaped as the
    # app writes it, for every person loaded. Run in order in one transaction.
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
    # under the contract (an outbound message lives in SQL, its state goes
    # pending -> sending -> sent/failed; each recipient's statusCode and AT messageId
    # are kept for delivery reports). Per-batch claims and records (one row
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


def due_read_sql(as_of: dt.datetime) -> str:
    """The campaign's own page query over everyone at once, a month after the run.

    A month on, everybody is due again (their last check-in is past ``MIN_GAP``), so
    every per-placement probe runs as it does in a campaign, and every row comes back.
    """
    from sqlalchemy.dialects import postgresql

    from app.checkins.eligible import page_query

    query = page_query(as_of + dt.timedelta(days=35), ["SA"], 0, 10**9)
    return str(query.compile(dialect=postgresql.dialect(),
                             compile_kwargs={"literal_binds": True}))


def contract_floor(database_url: str, as_of: dt.datetime) -> list[dict[str, Any]]:
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
                  f"SELECT count(*) FROM ({due_read_sql(as_of)}) AS due")]
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


# ------------------------------------------------------------------------- tables


def costs_table(report: dict[str, Any]) -> str:
    """What each per-recipient write costs PostgreSQL alone, against the 0.5 x budget."""
    lines = ["", "PostgreSQL alone, per-recipient writes (set-based, rolled back):", "",
             "| people | write | s | share of the 0.5 x budget² |", "|---:|---|---:|---:|"]
    for r in report["runs"]:
        budget = r["people"] / (report["target"] * r["baseline"]["recipients_per_s"])
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
        least = least_cpu(r, report["machine"]["nproc"], report["target"])
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


def least_cpu(run: dict[str, Any], cores: int, target: float) -> dict[str, float]:
    """The least CPU a campaign of ``run`` needs under the contract, and what 0.5 x leaves."""
    base = run["baseline"]["cpu_s"]
    at_server, posting = base["AT server"], base["bench"]
    postgres = sum(c["cpu_s"] for c in run["contract_floor"])
    budget = run["people"] / (target * run["baseline"]["recipients_per_s"])
    return {"at_server": at_server, "posting": posting, "postgres": round(postgres, 2),
            "least": round(at_server + posting + postgres, 2),
            "machine": round(cores * budget, 2)}
