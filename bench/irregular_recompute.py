"""The nightly irregular recompute on 200,000 placements in PostgreSQL (issue 5).

    python -m bench.irregular_recompute [--placements 200000] [--runs 3]
                                        [--database-url URL] [--explain-only]

What it does:

1. Setup: its own database (``kazi_bench_irregular``, created if missing, its ``public``
   schema dropped and recreated, then migrated). The data is made in SQL with
   ``generate_series`` (seeded ``setseed`` random), then ANALYZEd:
   - 500 agencies: 85 % valid, the rest suspended, revoked or expired, each with
     its register history (``licence_changes``): every licence valid three years ago,
     a fifth suspended at some point since, half of those valid again later;
   - 2,000 job listings: 70 % approved, some held after approval, the rest pending
     or rejected;
   - 150,000 people and ``--placements`` placements: 70 % abroad (departed,
     arrived, employed), 15 % before departure, 15 % ended or returned; 10 % with no
     agency, 15 % with no listing; visas mostly work, some visit or tourist;
     departures over the last three years;
   - about one work permit per placement abroad (4 in 5), expiring within a year
     either side of today, 5 % revoked, plus visit permits for 5 %;
   - 20,000 pre-departure declarations naming one of 500 agent phones, and police
     alerts on 5 agencies and 2 agent phones.
2. Times ``app.placements.irregular.recompute`` (the nightly job's code) ``--runs``
   times: the first run writes every flag (all placements start regular); later
   runs find nothing changed and write nothing, so they time the computing alone.
   Then resets the flags and times one more full write.
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of the main UPDATE, in a transaction rolled back.
4. Prints the times, the rows changed, the reasons found, and the plan; writes JSON
   to ``bench/results/irregular_recompute.json`` and the plan to
   ``bench/results/irregular_recompute_plan.txt``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import SetupError, machine_info, prepare_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/kazi_bench_irregular"

SEED_SQL = """
SELECT setseed(0.2026);

INSERT INTO agencies (id, name, name_key, phone, complaints_count, placements_count,
                      listings_total, listings_rejected, police_alerts, created_at, updated_at)
SELECT n, 'Agency ' || n, 'agency' || n, '+2547110' || lpad(n::text, 5, '0'), 0, 0, 4, 0,
       0, now(), now()
FROM generate_series(1, 500) AS n;

INSERT INTO licences (id, agency_id, licence_no, register_status, status, expires_on,
                      last_seen_at)
SELECT n, n, 'NEA/PEA/2024/' || lpad(n::text, 4, '0'), s, s,
       CASE WHEN s = 'expired' THEN current_date - 30 ELSE DATE '2099-12-31' END, now()
FROM (SELECT n, CASE WHEN n % 20 < 17 THEN 'valid' WHEN n % 20 = 17 THEN 'suspended'
                     WHEN n % 20 = 18 THEN 'revoked' ELSE 'expired' END AS s
      FROM generate_series(1, 500) AS n) AS x;

INSERT INTO licence_changes (licence_id, old_status, new_status, new_expires_on, source,
                             learned_at)
SELECT n, NULL, 'valid', DATE '2099-12-31', 'bench', now() - interval '3 years'
FROM generate_series(1, 500) AS n;

INSERT INTO licence_changes (licence_id, old_status, new_status, new_expires_on, source,
                             learned_at)
SELECT n, 'valid', 'suspended', DATE '2099-12-31', 'bench',
       now() - (random() * 700 || ' days')::interval
FROM generate_series(1, 500) AS n WHERE n % 5 = 0;

INSERT INTO licence_changes (licence_id, old_status, new_status, new_expires_on, source,
                             learned_at)
SELECT n, 'suspended', 'valid', DATE '2099-12-31', 'bench',
       now() - (random() * 20 || ' days')::interval
FROM generate_series(1, 500) AS n WHERE n % 10 = 0;

INSERT INTO job_listings (id, code, agency_id, title, occupation, destination, status,
                          status_before_hold, flags, payload, visa_type, source, submitted_at)
SELECT n, 'L' || lpad(n::text, 5, '0'), (n % 500) + 1, 'House help', 'domestic_worker', 'SA',
       CASE WHEN n % 10 < 7 THEN 'approved' WHEN n % 10 = 7 THEN 'held'
            WHEN n % 10 = 8 THEN 'pending' ELSE 'rejected' END,
       CASE WHEN n % 10 = 7 THEN 'approved' END, '[]', '{}', 'work', 'bench', now()
FROM generate_series(1, 2000) AS n;

INSERT INTO people (id, reg_no, phone, lang, minor_abroad, consent_version, consent_channel,
                    consent_at, status, created_at)
SELECT n, 'KS' || lpad(n::text, 8, '0'), '+2547' || lpad((20000000 + n)::text, 8, '0'),
       'en', false, 'v1', 'ussd', now(), 'active', now()
FROM generate_series(1, 150000) AS n;

INSERT INTO placements (id, person_id, agency_id, listing_id, phone, country, visa_type,
                        status, departed_on, irregular, created_at, updated_at)
SELECT n, ((n - 1) % 150000) + 1,
       CASE WHEN random() < 0.10 THEN NULL ELSE (random() * 499)::int + 1 END,
       CASE WHEN random() < 0.15 THEN NULL ELSE (random() * 1999)::int + 1 END,
       '+2547' || lpad((20000000 + ((n - 1) % 150000) + 1)::text, 8, '0'),
       (ARRAY['SA','SA','SA','QA','AE','KW','OM','RU'])[1 + (random() * 7)::int],
       (ARRAY['work','work','work','work','work','work','visit','tourist',NULL])
           [1 + (random() * 8)::int],
       st,
       CASE WHEN st IN ('departed','arrived','employed','ended','returned')
            THEN current_date - (random() * 1000)::int END,
       false, now(), now()
FROM (SELECT n, CASE WHEN r < 0.20 THEN 'departed' WHEN r < 0.30 THEN 'arrived'
                     WHEN r < 0.70 THEN 'employed' WHEN r < 0.75 THEN 'applied'
                     WHEN r < 0.80 THEN 'contracted' WHEN r < 0.85 THEN 'visa_issued'
                     WHEN r < 0.90 THEN 'ended' ELSE 'returned' END AS st
      FROM (SELECT n, random() AS r FROM generate_series(1, %(placements)s) AS n) AS a) AS b;

INSERT INTO permits (person_id, placement_id, country, permit_no, type, issued_on,
                     expires_on, revoked_at, created_at, updated_at)
SELECT person_id, id, country, 'W' || id, 'work', departed_on + 20,
       current_date + ((random() * 730)::int - 365),
       CASE WHEN random() < 0.05 THEN now() END, now(), now()
FROM placements
WHERE status IN ('departed','arrived','employed') AND random() < 0.8;

INSERT INTO permits (person_id, placement_id, country, permit_no, type, issued_on,
                     expires_on, created_at, updated_at)
SELECT person_id, id, country, 'V' || id, 'visit', departed_on + 1, departed_on + 90,
       now(), now()
FROM placements
WHERE status IN ('departed','arrived','employed') AND random() < 0.05;

INSERT INTO departure_declarations (person_id, placement_id, phone, country, agency_id,
                                    agency_status, agent_phone, employer_name, departure_on,
                                    visa_type, next_of_kin_phone, red_flags, channel,
                                    source_ref, created_at)
SELECT person_id, id, phone, country, agency_id, 'valid',
       '+2547990' || lpad(((id % 500) + 1)::text, 5, '0'), 'Employer', current_date,
       'work', '+254700000001', '[]', 'ussd', 'bench:' || id, now()
FROM placements WHERE id % 10 = 0;

INSERT INTO police_alerts (agency_id, licence_no, reason, raised_at, created_at)
SELECT n * 97, 'NEA/PEA/2024/' || lpad((n * 97)::text, 4, '0'), 'bench', now(), now()
FROM generate_series(1, 5) AS n;

INSERT INTO police_alerts (phone, reason, raised_at, created_at)
VALUES ('+254799000007', 'bench', now(), now()), ('+254799000123', 'bench', now(), now());

SELECT setval(pg_get_serial_sequence('placements', 'id'), (SELECT max(id) FROM placements));
ANALYZE;
"""


def seed(database_url: str, placements: int) -> dict[str, int]:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    conninfo = dict(host=url.host or "127.0.0.1", port=url.port or 5432,
                    user=url.username or "postgres", dbname=url.database)
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        for statement in SEED_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement.replace("%(placements)s", str(int(placements))))
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("placements", "permits", "licence_changes", "job_listings",
                                "departure_declarations", "police_alerts")}
        counts["abroad"] = conn.execute(
            "SELECT count(*) FROM placements WHERE status IN ('departed','arrived','employed')"
        ).fetchone()[0]
    return counts


def run(database_url: str, runs: int) -> dict[str, Any]:
    from sqlalchemy import func, select, text, update
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.orm import Session

    from app.db import make_engine
    from app.listings.service import today
    from app.models import Placement
    from app.placements.irregular import recompute, statements

    engine = make_engine(database_url)
    on = today()
    timings = []
    for n in range(runs):
        with Session(engine) as session:
            began = time.perf_counter()
            changed = recompute(session, on)
            session.commit()
            timings.append({"run": n + 1, "seconds": time.perf_counter() - began,
                            "rows_changed": changed})
    with Session(engine) as session:
        session.execute(update(Placement).values(irregular=False, irregular_reasons=None))
        session.commit()
        began = time.perf_counter()
        changed = recompute(session, on)
        session.commit()
        timings.append({"run": "after reset", "seconds": time.perf_counter() - began,
                        "rows_changed": changed})
        reasons: dict[str, int] = {}
        for value, count in session.execute(
                select(Placement.irregular_reasons, func.count())
                .group_by(Placement.irregular_reasons)):
            for code in (value or "").split(","):
                if code:
                    reasons[code] = reasons.get(code, 0) + count
        flagged = session.scalar(select(func.count()).select_from(Placement)
                                 .where(Placement.irregular.is_(True)))
    flag, _clear = statements(on)
    sql = str(flag.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        # Reset and commit first: rows written earlier in the same transaction would make
        # PostgreSQL re-check their foreign keys, which a nightly run never pays.
        with conn.begin():
            conn.execute(text("UPDATE placements SET irregular_reasons = NULL, "
                              "irregular = false"))
        trans = conn.begin()
        plan = "\n".join(row[0] for row in conn.execute(
            text("EXPLAIN (ANALYZE, BUFFERS) " + sql)))
        trans.rollback()
    engine.dispose()
    return {"timings": timings, "flagged": flagged, "reasons": reasons, "plan": plan,
            "sql": sql}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--placements", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "irregular_recompute.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        prepare_database(args.database_url, args.force)
    except SetupError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 2
    print(f"seeding {args.placements:,} placements ...", flush=True)
    began = time.perf_counter()
    counts = seed(args.database_url, args.placements)
    seeded = time.perf_counter() - began
    print(f"seeded in {seeded:.1f} s: {counts}", flush=True)
    result = run(args.database_url, args.runs)
    report = {"benchmark": "irregular_recompute", "load_average": os.getloadavg(),
              "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": machine_info(), "data": counts, "seed_seconds": seeded, **result}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    args.output.with_name("irregular_recompute_plan.txt").write_text(
        result["sql"] + "\n\n" + result["plan"] + "\n")
    print(f"\nmachine: {report['machine']['nproc']} CPU {report['machine']['cpu_model']}, "
          f"{report['date']}; load average {report['load_average'][0]:.1f} (other work "
          "on the machine)")
    for timing in result["timings"]:
        print(f"recompute run {timing['run']}: {timing['seconds']:.2f} s, "
              f"{timing['rows_changed']:,} rows changed")
    print(f"irregular placements: {result['flagged']:,}; reasons: {result['reasons']}")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the main UPDATE:\n" + result["plan"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
