"""The national scale bench's database: created, migrated and filled inside PostgreSQL.

``prepare`` makes the database (or keeps one already loaded, with ``--reuse``);
``generate`` fills it set-based (``INSERT … SELECT generate_series``, ``setseed``
for repeatability); ``flag_irregular`` then runs the nightly irregular recompute.
"""

from __future__ import annotations

import json
import sys
import time

import psycopg

from bench.harness import libpq_url

COUNTRIES = (["SA"] * 35 + ["AE"] * 15 + ["QA"] * 12 + ["KW"] * 6 + ["OM"] * 5 + ["BH"] * 3
             + ["LB"] * 2 + ["JO"] * 2 + ["GB"] * 4 + ["US"] * 3 + ["DE"] * 3 + ["CA"] * 2
             + ["RU"] * 1 + ["IL"] * 2 + ["PL"] * 2 + ["TR"] * 1 + ["IQ"] * 1 + ["EG"] * 1)
"""Destinations, weighted like Kenya's labour migration (Gulf first)."""

RULES = ("worker_fee", "salary_norm", "tourist_visa", "contract_language", "vague_title",
         "conflict_destination")


def _array(values: list[str] | tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def _pick(values: list[str] | tuple[str, ...], r: str) -> str:
    return f"({_array(values)})[1 + floor({r} * {len(values)})::int]"


def generate(conn: psycopg.Connection) -> dict[str, float]:
    """Fill the database; give the seconds each table took."""
    from app.reference.missions import mission_for
    from app.reference.salary_norms import OCCUPATIONS

    occupations = ["domestic_worker"] * 14 + list(OCCUPATIONS)
    missions = " ".join(f"WHEN '{c}' THEN '{mission_for(c).code}'" for c in sorted(set(COUNTRIES)))
    flag_sets = ["[]", "[]", "[]"] + [
        json.dumps([{"rule": r, "severity": "review", "message": r} for r in combo])
        for combo in ((RULES[0],), (RULES[1],), (RULES[0], RULES[2]), (RULES[3],),
                      (RULES[4], RULES[5]), (RULES[0], RULES[1], RULES[3]))]
    steps = {
        "agencies": """
            INSERT INTO agencies (id, name, name_key, phone, complaints_count, placements_count,
                                  listings_total, listings_rejected, police_alerts, created_at,
                                  updated_at)
            SELECT i, 'Agency ' || i || ' Ltd', 'agency' || i, '+2547' || lpad(i::text, 8, '0'),
                   0, 0, 0, 0, 0, now(), now()
            FROM generate_series(1, 5000) i""",
        "licences": """
            INSERT INTO licences (agency_id, licence_no, register_status, status, expires_on,
                                  last_seen_at)
            SELECT i, 'NEA/PEA/' || (2020 + i % 6) || '/' || lpad(i::text, 5, '0'), s, s,
                   date '2025-06-01' + (i * 37) % 1500, now()
            FROM (SELECT i, CASE WHEN i % 100 < 85 THEN 'valid' WHEN i % 100 < 93
                                 THEN 'suspended' WHEN i % 100 < 97 THEN 'revoked'
                                 ELSE 'expired' END AS s
                  FROM generate_series(1, 5000) i) x""",
        "employers": f"""
            INSERT INTO employers (id, name, name_key, country, created_at)
            SELECT i, 'Employer ' || i, 'employer' || i, {_pick(COUNTRIES, 'random()')}, now()
            FROM generate_series(1, 20000) i""",
        "people": f"""
            INSERT INTO people (id, reg_no, phone, full_name, birth_year, gender, county_code,
                                occupation, lang, minor_abroad, consent_version, consent_channel,
                                consent_at, status, created_at)
            SELECT i, 'KS' || lpad(i::text, 8, '0'), '+2547' || lpad(i::text, 8, '0'),
                   'Person ' || i, 1970 + i % 35,
                   CASE WHEN r1 < 0.55 THEN 'female' WHEN r1 < 0.99 THEN 'male' ELSE 'other' END,
                   CASE WHEN r2 < 0.3 THEN 47 ELSE 1 + floor(random() * 46)::int END,
                   {_pick(occupations, 'r3')}, 'en', false, 'v1', 'ussd',
                   now() - interval '3 years', 'active', now() - interval '3 years'
            FROM (SELECT i, random() r1, random() r2, random() r3
                  FROM generate_series(1, 1000000) i) x""",
        "placements": f"""
            INSERT INTO placements (id, person_id, agency_id, employer_id, phone, country,
                                    occupation, status, departed_on, arrived_at, ended_at,
                                    irregular, created_at, updated_at)
            SELECT i, CASE WHEN i % 50 = 0 THEN NULL ELSE i END,
                   1 + floor(5000 * r4 * r4)::int,
                   CASE WHEN st IN ('arrived', 'employed', 'ended', 'returned')
                        THEN 1 + floor(r5 * 20000)::int END,
                   '+2547' || lpad(i::text, 8, '0'), {_pick(COUNTRIES, 'r6')},
                   p.occupation, st,
                   CASE WHEN st IN ('departed', 'arrived', 'employed', 'ended', 'returned')
                        THEN d END,
                   CASE WHEN st IN ('arrived', 'employed', 'ended', 'returned')
                        THEN (d + 1)::timestamptz END,
                   CASE WHEN st IN ('ended', 'returned')
                        THEN least(now(), (d + 30 + floor(r5 * 700)::int)::timestamptz) END,
                   false, d - 60, d - 60
            FROM (SELECT i, random() r4, random() r5, random() r6,
                         date '2021-01-01' + floor(random() * 2140)::int AS d,
                         CASE WHEN s < 0.05 THEN 'applied' WHEN s < 0.08 THEN 'offered'
                              WHEN s < 0.11 THEN 'contracted' WHEN s < 0.15 THEN 'visa_issued'
                              WHEN s < 0.25 THEN 'departed' WHEN s < 0.40 THEN 'arrived'
                              WHEN s < 0.85 THEN 'employed' WHEN s < 0.90 THEN 'ended'
                              ELSE 'returned' END AS st
                  FROM (SELECT i, random() s FROM generate_series(1, 1000000) i) y) x
            LEFT JOIN people p ON p.id = x.i""",
        "cases": f"""
            INSERT INTO cases (id, ref, reporter_phone, reporter_is_subject, person_id,
                               placement_id, agency_id, employer_id, country, mission_code,
                               category, severity, channel, lang, status, escalation_level,
                               opened_at, acknowledged_at, closed_at, updated_at)
            SELECT n, 'KS-' || lpad(n::text, 7, '0'), p.phone, true, p.person_id, p.id,
                   p.agency_id, p.employer_id, p.country,
                   CASE p.country {missions} ELSE 'HQ' END,
                   {_pick(('unpaid_wages', 'passport_held', 'abuse', 'confinement', 'deception',
                           'medical', 'wants_return', 'other'), 'r1')},
                   CASE WHEN r2 < 0.1 THEN 'critical' WHEN r2 < 0.35 THEN 'high'
                        ELSE 'normal' END, 'sms', 'en',
                   CASE WHEN r3 < 0.15 THEN 'open' WHEN r3 < 0.5 THEN 'acknowledged'
                        ELSE 'closed' END, 0, opened,
                   CASE WHEN r3 >= 0.15 THEN opened + (r4 * r4 * interval '30 hours') END,
                   CASE WHEN r3 >= 0.5 THEN opened + interval '10 days' END, opened
            FROM (SELECT row_number() OVER () AS n, p.*, random() r1, random() r2,
                         random() r3, random() r4,
                         timestamptz '2024-01-01' + random() * (now() - '2024-01-01') AS opened
                  FROM placements p WHERE p.id % 5 = 0) p""",
        "checkins": """
            INSERT INTO checkins (placement_id, phone, sequence, due_at, status, sent_at,
                                  answered_at)
            SELECT p.id, p.phone, s, p.arrived_at + s * interval '30 days',
                   st, CASE WHEN st <> 'due' THEN p.arrived_at + s * interval '30 days' END,
                   CASE WHEN st = 'answered'
                        THEN p.arrived_at + s * interval '30 days' + interval '2 hours' END
            FROM (SELECT p.id, p.phone, p.arrived_at, s,
                         CASE WHEN r < 0.65 THEN 'answered' WHEN r < 0.85 THEN 'missed'
                              WHEN r < 0.95 THEN 'sent' ELSE 'due' END AS st
                  FROM placements p CROSS JOIN generate_series(1, 3) s
                  CROSS JOIN LATERAL (SELECT random() + 0 * p.id AS r) r
                  WHERE p.status IN ('arrived', 'employed') AND p.id % 2 = 0) p""",
        "messages": """
            INSERT INTO messages (to_phone, body, kind, queue, dedupe_key, status, attempts,
                                  person_id, created_at, sent_at, updated_at)
            SELECT '+2547' || lpad((1 + i % 1000000)::text, 8, '0'),
                   'Kazi Salama: your check-in ' || i, 'checkin', 'bulk', 'bench:' || i,
                   'sent', 1, 1 + i % 1000000, now() - (i % 1000) * interval '1 day',
                   now() - (i % 1000) * interval '1 day', now()
            FROM generate_series(1, 3000000) i""",
        "job_listings": f"""
            INSERT INTO job_listings (code, agency_id, title, occupation, destination, status,
                                      flags, submitted_at, payload, source)
            SELECT 'J' || lpad(upper(to_hex(i)), 5, '0'), 1 + floor(5000 * r1 * r1)::int,
                   'Job ' || i, {_pick(occupations, 'r2')}, {_pick(COUNTRIES, 'r3')},
                   CASE WHEN f < 3 THEN 'approved' WHEN f IN (3, 5, 8) THEN 'rejected'
                        ELSE 'needs_review' END,
                   ({_array(flag_sets)})[1 + f]::json,
                   timestamptz '2023-01-01' + r4 * (now() - '2023-01-01'), '{{}}'::json, 'api'
            FROM (SELECT i, random() r1, random() r2, random() r3, random() r4,
                         floor(random() * {len(flag_sets)})::int AS f
                  FROM generate_series(1, 100000) i) x""",
        "agency_complaints": """
            INSERT INTO agency_complaints (agency_id, phone, kind, channel, created_at)
            SELECT 1 + floor(5000 * r * r)::int, '+2547' || lpad(i::text, 8, '0'), 'fee', 'sms',
                   timestamptz '2023-01-01' + random() * (now() - '2023-01-01')
            FROM (SELECT i, random() r FROM generate_series(1, 50000) i) x""",
        "police_alerts": """
            INSERT INTO police_alerts (agency_id, reason, raised_at, created_at)
            SELECT 1 + floor(5000 * r * r)::int, 'suspected trafficking',
                   timestamptz '2023-01-01' + random() * (now() - '2023-01-01'), now()
            FROM (SELECT i, random() r FROM generate_series(1, 2000) i) x""",
    }
    took = {}
    with conn.cursor() as cur:
        # Loading is faster without the secondary indexes; they are built again after.
        indexes = cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                              "'public' AND indexname LIKE 'ix\\_%'").fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        conn.commit()
        cur.execute("SELECT setseed(0.42)")
        for table, sql in steps.items():
            start = time.perf_counter()
            cur.execute(sql)
            conn.commit()
            took[table] = time.perf_counter() - start
            print(f"  {table:<18} {cur.rowcount:>9,} rows  {took[table]:6.1f} s", flush=True)
        for table in ("agencies", "employers", "people", "placements", "cases"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        conn.commit()
        start = time.perf_counter()
        for _, definition in indexes:
            cur.execute(definition)
        conn.commit()
        took["indexes"] = time.perf_counter() - start
        print(f"  {len(indexes)} indexes rebuilt in {took['indexes']:.1f} s", flush=True)
        conn.autocommit = True  # VACUUM runs outside a transaction
        start = time.perf_counter()
        # VACUUM too, not only ANALYZE: it sets the visibility map, without which an
        # index-only scan still reads the table (4 s instead of 0.7 s for ``stock``).
        cur.execute("VACUUM ANALYZE")
        took["vacuum_analyze"] = time.perf_counter() - start
    return took


def prepare(url: str, reuse: bool) -> dict[str, float]:
    """Create, migrate and fill the bench database (unless ``reuse`` finds it loaded)."""
    from app.migrate import upgrade

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit(f"refusing to wipe {name!r}: a bench database has 'bench' in its name")
    admin = libpq_url(url.rsplit("/", 1)[0]) + "/postgres"
    plain = libpq_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    if reuse:
        with psycopg.connect(plain) as conn:
            try:
                count = conn.execute("SELECT count(*) FROM placements").fetchone()[0]
            except psycopg.Error:
                count = 0
        if count >= 1_000_000:
            print(f"reusing {name}: {count:,} placements")
            upgrade(url)  # new indexes from the models, if any
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            return {}
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade(url)
    print(f"generating in {name}")
    with psycopg.connect(plain) as conn:
        took = generate(conn)
    took["irregular_flags"] = flag_irregular(url, plain)
    return took


def flag_irregular(url: str, plain: str) -> float:
    """Run the nightly irregular recompute (the app's code), as production would have."""
    from app.db import Database
    from app.placements.irregular import recompute

    start = time.perf_counter()
    db = Database(url)
    with db.session() as session:
        changed = recompute(session)
    db.dispose()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE placements")
    seconds = time.perf_counter() - start
    print(f"  irregular flags    {changed:>9,} rows  {seconds:6.1f} s", flush=True)
    return seconds
