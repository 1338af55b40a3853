"""Where a USSD hop's time goes: registrations played in-process, timed and profiled.

``python -m bench.ussd_gateway --profile N`` runs this instead of the load test.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from urllib.parse import urlencode

from bench.harness import SERVICE_CODE, new_fernet_key
from bench.ussd_load import HOPS_PER_REGISTRATION, inputs_for



COMPONENTS = (
    # (label, file name or "" for any, function name); indented rows are nested.
    ("whole request (Flask wsgi_app)", "app.py", "wsgi_app"),
    ("  form parsing (werkzeug, callbacks.form)", "callbacks.py", "form"),
    ("  phone number check (phonenumbers)", "phones.py", "try_normalise"),
    ("  _hop", "ussd.py", "_hop"),
    ("    session load: Redis GET + Fernet decrypt", "sessions.py", "load"),
    ("    _advance", "ussd.py", "_advance"),
    ("      first hop lookups (_first_state)", "ussd.py", "_first_state"),
    ("      engine.step (incl. validators)", "engine.py", "step"),
    ("        national ID lookup (port)", "", "national_id_registered"),
    ("      events committed (_commit)", "ussd.py", "_commit"),
    ("        set_language", "", "set_language"),
    ("        register", "registration.py", "register"),
    ("        RQ enqueue after commit", "extensions.py", "enqueue_all"),
    ("      engine.render", "engine.py", "render"),
    ("        registration.derive (every render)", "registration.py", "derive"),
    ("    session save: Fernet encrypt + EVALSHA", "sessions.py", "save"),
    ("  Fernet encrypt (all)", "crypto.py", "encrypt"),
    ("  Fernet decrypt (all)", "crypto.py", "decrypt"),
    ("  SQLAlchemy Session.execute (all)", "session.py", "_execute_internal"),
    ("  SQLAlchemy flush (all)", "session.py", "_flush"),
    ("  Redis commands, redis-py (all)", "client.py", "_execute_command"),
    ("  psycopg waiting on the server (all)", "connection.py", "wait"),
)
"""Functions whose inclusive time says where a hop goes (cProfile, per hop).

Several functions of one name (a port method calling a helper of the same name)
count once: the largest inclusive time is taken."""


def _component_times(profiler, hops: int) -> dict[str, tuple[float, float]]:
    """Inclusive microseconds per hop and calls per hop of each ``COMPONENTS`` row."""
    import pstats

    stats = pstats.Stats(profiler).stats
    out: dict[str, tuple[float, float]] = {}
    for label, filename, func in COMPONENTS:
        best = (0.0, 0)
        for (path, _line, name), (_cc, nc, _tt, ct, _callers) in stats.items():
            if name != func or (filename and os.path.basename(path) != filename):
                continue
            if func == "wait" and "psycopg" not in path:
                continue
            if func == "_execute_command" and "redis" not in path:
                continue
            if not filename and not any(part in path for part in ("/app/", "/menus/")):
                continue
            if ct > best[0]:
                best = (ct, nc)
        out[label] = (best[0] * 1e6 / hops, best[1] / hops)
    return out


def profile_in_process(database_url: str, redis_url: str, registrations: int,
                       top: int) -> None:
    """Play registrations through the WSGI app in this process, measured three ways.

    1. Plain timing per hop position, with SQL statements, PostgreSQL round trips
       (statements + pings + BEGIN/COMMIT/ROLLBACK), pool checkouts and Redis
       commands counted per hop.
    2. cProfile (wall clock): inclusive time of the hop's stages (``COMPONENTS``)
       and the top functions by own time and by inclusive time.
    No HTTP server and one thread, so this is the app's own cost per hop.
    """
    import cProfile
    import io
    import pstats

    import psycopg
    from redis import Redis
    from sqlalchemy import event

    from app import create_app

    os.environ.pop("CALLBACK_TOKEN", None)
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                      "PII_KEYS": new_fernet_key(), "SECRET_KEY": "bench",
                      "KAZI_ENV": "development", "USSD_SERVICE_CODE": SERVICE_CODE})
    svc = app.extensions["kazi"]
    counts = {"sql": 0, "pg": 0, "checkout": 0, "redis": 0}

    def bump(name: str) -> None:
        counts[name] += 1

    event.listen(svc.db.engine, "before_cursor_execute", lambda *a, **k: bump("sql"))
    event.listen(svc.db.engine.pool, "checkout", lambda *a, **k: bump("checkout"))
    # Count-only wrappers, in this process only (diagnostics, not behaviour).
    originals = (Redis.execute_command, psycopg.Cursor.execute,
                 psycopg.Connection._exec_command)

    def redis_command(self, *args, **kwargs):
        bump("redis")
        return originals[0](self, *args, **kwargs)

    def pg_execute(self, *args, **kwargs):
        bump("pg")
        return originals[1](self, *args, **kwargs)

    def pg_command(self, *args, **kwargs):
        bump("pg")
        return originals[2](self, *args, **kwargs)

    Redis.execute_command = redis_command
    psycopg.Cursor.execute = pg_execute
    psycopg.Connection._exec_command = pg_command
    per_hop: dict[int, list[tuple[float, int, int, int, int]]] = {}

    def post(body: bytes) -> str:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/ussd", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status_holder = []
        chunks = app.wsgi_app(environ, lambda s, h, e=None: status_holder.append(s))
        try:
            out = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if not status_holder[0].startswith("200"):
            raise SystemExit(f"profile: HTTP {status_holder[0]}: {out[:200]!r}")
        return out.decode()

    def registration(n: int, record: bool) -> None:
        phone = f"+2547{10_000_000 + n:08d}"
        session_id = f"ATUid_profile_{n}"
        typed: list[str] = []
        script = inputs_for(n)
        for hop in range(1, HOPS_PER_REGISTRATION + 1):
            body = urlencode({"sessionId": session_id, "serviceCode": SERVICE_CODE,
                              "phoneNumber": phone, "networkCode": "63902",
                              "text": "*".join(typed)}).encode()
            before = dict(counts)
            t0 = time.perf_counter()
            reply = post(body)
            if record:
                per_hop.setdefault(hop, []).append(
                    ((time.perf_counter() - t0) * 1000,
                     *(counts[k] - before[k] for k in ("sql", "pg", "checkout", "redis"))))
            if hop == HOPS_PER_REGISTRATION:
                if not (reply.startswith("END ") and "Registered" in reply):
                    raise SystemExit(f"profile: last screen is not registered: {reply!r}")
            else:
                if not reply.startswith("CON "):
                    raise SystemExit(f"profile: hop {hop} ended the session: {reply!r}")
                typed.append(script[hop - 1])

    try:
        for n in range(1, 21):  # warm caches and lazily imported modules
            registration(900_000 + n, record=False)
        for n in range(1, registrations + 1):  # timed, without a profiler
            registration(n, record=True)
        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(1, registrations + 1):
            registration(1_000_000 + n, record=False)
        profiler.disable()
    finally:
        (Redis.execute_command, psycopg.Cursor.execute,
         psycopg.Connection._exec_command) = originals

    hops = sum(len(v) for v in per_hop.values())
    total_ms = sum(v[0] for values in per_hop.values() for v in values)
    print(f"\nin-process, no HTTP server, one thread: {registrations} registrations, {hops} hops, "
          f"{total_ms / hops:.2f} ms/hop mean ({hops * 1000 / total_ms:.0f} hops/s)")
    print(f"{'hop':>4}{'mean ms':>9}{'SQL':>6}{'PG r/t':>8}{'pool':>6}{'Redis':>7}"
          "  screen reached")
    names = ["lang.choose", "main.guest", "reg.consent", "reg.consent2", "reg.name", "reg.id",
             "reg.yob", "reg.gender", "reg.county", "reg.edu", "reg.occ", "reg.where",
             "reg.dest", "reg.summary", "reg.done"]
    sums = [0.0] * 5
    for hop, values in sorted(per_hop.items()):
        means = [statistics.fmean(v[i] for v in values) for i in range(5)]
        sums = [a + b for a, b in zip(sums, means, strict=True)]
        print(f"{hop:>4}{means[0]:>9.2f}{means[1]:>6.1f}{means[2]:>8.1f}{means[3]:>6.1f}"
              f"{means[4]:>7.1f}  {names[hop - 1]}")
    print(f"{'all':>4}{sums[0]:>9.2f}{sums[1]:>6.1f}{sums[2]:>8.1f}{sums[3]:>6.1f}{sums[4]:>7.1f}"
          "  per registration (PG r/t = statements + pings + BEGIN/COMMIT/ROLLBACK)")

    times = _component_times(profiler, hops)
    print("\nwhere a hop goes: cProfile inclusive time per hop, mean over the 15 hops of a "
          "registration\n(the profiler adds overhead per Python call; compare rows, and use the "
          "unprofiled ms/hop above for totals)")
    print(f"{'':<48}{'us/hop':>8}{'calls/hop':>11}")
    for label, _file, _func in COMPONENTS:
        print(f"{label:<48}{times[label][0]:>8.0f}{times[label][1]:>11.2f}")
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        print(f"\n--- cProfile, by {sort}, top {top} ---")
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip() and not line.startswith("   Ordered")))
    svc.db.dispose()
    svc.redis.close()
