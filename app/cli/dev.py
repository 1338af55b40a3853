"""``kazi dev``: the whole system in one terminal, on embedded defaults.

Redis (embedded if none answers), migrations, the gateway under gunicorn and one
``kazi worker`` with the scheduler. The children run in their own process groups
with their output prefixed here; Ctrl-C stops them, then the embedded Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from sqlalchemy import inspect, literal, select, table

from app import config as settings
from app import migrate
from app.embedded_redis import EmbeddedRedis, ensure_redis
from app.extensions import services

READY_TIMEOUT = 30
"""Seconds the gateway gets to answer /healthz."""

STOP_TIMEOUT = 15
"""Seconds each child gets to stop after SIGTERM before its process group is killed."""

KAZI = [sys.executable, "-c", "from app.cli import main; main()"]
"""Runs ``kazi`` with this interpreter, whatever PATH says."""

ACCESS_LOG = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
"""Gunicorn access log without the query string, so ``?token=`` never reaches the log."""

_print_lock = threading.Lock()


def say(prefix: str, text: str, colour: str = "white") -> None:
    """Print one line with a coloured prefix; lines from several threads never interleave."""
    with _print_lock, contextlib.suppress(OSError):
        # A closed terminal or pipe must not stop the relays (children would block) or
        # the shutdown.
        click.echo(f"{click.style(f'{prefix:>6} |', fg=colour)} {text}")


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP asked ``kazi dev`` to stop."""


@dataclass
class Child:
    """A process ``kazi dev`` started, with its output relayed line by line."""

    name: str
    colour: str
    proc: subprocess.Popen[str]
    relay: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.relay = threading.Thread(target=self._relay, name=f"relay-{self.name}", daemon=True)
        self.relay.start()

    def _relay(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            say(self.name, line.rstrip("\n"), self.colour)

    def signal(self, signum: int) -> None:
        """Signal the child's whole process group (gunicorn's workers, RQ's forks)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)

    def wait(self, timeout: float) -> bool:
        """Wait for the child to exit; True if it did."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


def spawn(name: str, colour: str, args: list[str], env: dict[str, str]) -> Child:
    """Start a child in its own process group, so only ``kazi dev`` decides when it stops."""
    proc = subprocess.Popen(
        args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1, process_group=0,
    )
    say("dev", f"{name} started (pid {proc.pid})")
    return Child(name, colour, proc)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into ``Interrupted`` while the body runs."""

    def interrupt(signum, frame) -> None:
        raise Interrupted(signal.Signals(signum).name)

    wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, interrupt) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def start_redis(url: str) -> tuple[str, EmbeddedRedis | None]:
    """Use the Redis at ``url``, or start the embedded one (data in ``instance/redis``)."""
    # The embedded server is our child in the terminal's process group, so a Ctrl-C
    # would reach it too and it would quit before the worker had said goodbye.
    # A blocked signal stays blocked across exec: it stops only when we stop it.
    block = hasattr(signal, "pthread_sigmask")
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if block else None
    try:
        return ensure_redis(url, data_dir=settings.INSTANCE_DIR / "redis")
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def database_empty() -> bool:
    """Tell whether no table holds a row (a fresh database)."""
    with services().db.engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
        for name in names:
            if conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first():
                return False
    return True


def port_free(host: str, port: int) -> bool:
    """Tell whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_ready(base: str, gateway: Child) -> None:
    """Wait until the gateway answers /healthz; fail if it exits or takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if gateway.proc.poll() is not None:
            raise click.ClickException(f"the gateway exited with code {gateway.proc.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise click.ClickException(f"the gateway did not answer {base}/healthz in {READY_TIMEOUT}s")


def gunicorn(host: str, port: int) -> list[str]:
    """Give the command that serves the gateway: threaded, as in production, one process."""
    import gunicorn.config

    args = [
        sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
        "--worker-class", "gthread", "--workers", "1", "--threads", "8",
        "--graceful-timeout", "5", "--access-logfile", "-", "--access-logformat", ACCESS_LOG,
    ]
    if hasattr(gunicorn.config, "ControlSocketDisable"):
        # Gunicorn 25+ opens ~/.gunicorn/gunicorn.ctl by default; two dev runs would share it.
        args.append("--no-control-socket")
    return [*args, "app:create_app()"]


def usage(app: Flask, base: str, redis_url: str, embedded: EmbeddedRedis | None,
          worker: bool) -> list[str]:
    """Give the lines that tell a developer what runs where and how to try it."""
    config = app.config
    token = "?token=<CALLBACK_TOKEN>" if config.get("CALLBACK_TOKEN") else ""
    phone = "kazi phone +254712345678" + ("" if base.endswith(":5000") else f" --url {base}")
    if config.get("AT_USERNAME") and config.get("AT_API_KEY"):
        where = config.get("AT_API_URL") or "Africa's Talking"
        sms = f"sent through Africa's Talking as {config['AT_USERNAME']} ({where})"
    else:
        sms = ("outbox backend (AT_USERNAME/AT_API_KEY unset): nothing leaves this machine; "
               "each SMS is a row in the messages table, and kazi phone shows the ones it got")
    redis = f"embedded redis-server, {redis_url} (logs in {embedded.data_dir})" if embedded \
        else f"{redis_url}"
    return [
        f"USSD callback  POST {base}/ussd{token}",
        f"try it         {phone}   (second terminal, this directory)",
        f"simulator      {base}/simulator   (a phone in the browser)",
        f"staff console  {base}/console   (kazi users create --email E --role nea_admin)",
        f"SMS            {sms}",
        f"health         {base}/healthz  {base}/readyz  {base}/metrics",
        f"Redis          {redis}",
        f"database       {config['DATABASE_URL']}",
        "worker         " + ("kazi worker (critical default bulk) with the scheduler" if worker
                             else "not started (--no-worker): jobs wait in Redis"),
        "Ctrl-C stops everything.",
    ]


@click.command("dev")
@with_appcontext
@click.option("--port", default=5000, show_default=True, help="Gateway port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Gateway address.")
@click.option("--no-worker", is_flag=True, help="Run the gateway only.")
def dev(port: int, host: str, no_worker: bool) -> None:
    """Run the whole system in one terminal: Redis, migrations, gateway, worker."""
    app = current_app._get_current_object()
    if not port_free(host, port):
        raise click.ClickException(f"port {port} is in use; pick another with --port")
    embedded: EmbeddedRedis | None = None
    children: list[Child] = []
    try:
        with stop_signals():
            redis_url, embedded = start_redis(app.config["REDIS_URL"])
            if embedded is not None:
                with Redis.from_url(redis_url) as client:
                    pid = client.info("server")["process_id"]
                say("dev", f"embedded Redis started on {redis_url} (pid {pid})")
            migrate.upgrade(app.config["DATABASE_URL"])
            say("dev", f"database migrated: {app.config['DATABASE_URL']}")
            if database_empty():
                from app.cli.ops import seed_demo

                click.get_current_context().invoke(seed_demo)
            env = {**os.environ, "REDIS_URL": redis_url,
                   "DATABASE_URL": app.config["DATABASE_URL"], "PYTHONUNBUFFERED": "1"}
            gateway = spawn("web", "cyan", gunicorn(host, port), env)
            children.append(gateway)
            if not no_worker:
                children.append(spawn("worker", "magenta", [*KAZI, "worker"], env))
            base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
            wait_ready(base, gateway)
            for line in usage(app, base, redis_url, embedded, not no_worker):
                say("dev", click.style(line, bold=True))
            while True:
                for child in children:
                    if child.proc.poll() is not None:
                        raise click.ClickException(
                            f"{child.name} exited with code {child.proc.returncode}")
                time.sleep(0.3)
    except Interrupted as exc:
        say("dev", f"{exc}: stopping")
    finally:
        shutdown(children, embedded)


def shutdown(children: list[Child], embedded: EmbeddedRedis | None) -> None:
    """Stop the children (SIGTERM, then SIGKILL), then the embedded Redis."""
    # A second Ctrl-C while we wait must not cut this cleanup short.
    with contextlib.ExitStack() as stack:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous = signal.signal(signum, signal.SIG_IGN)
            stack.callback(signal.signal, signum, previous)
        for child in children:
            child.signal(signal.SIGTERM)
        for child in children:
            if not child.wait(STOP_TIMEOUT):
                say("dev", f"{child.name} did not stop in {STOP_TIMEOUT}s; killing it")
                child.signal(signal.SIGKILL)
                child.wait(5)
            # Gunicorn's workers and RQ's forks share the child's group; wait for them too.
            _wait_group(child)
            child.relay.join(2)
        if embedded is not None:
            embedded.stop()
            say("dev", "embedded Redis stopped")
    if children or embedded is not None:
        say("dev", "stopped")


def _wait_group(child: Child, timeout: float = 5) -> None:
    """Wait until no process is left in the child's process group, killing stragglers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(child.proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.1)
    child.signal(signal.SIGKILL)


def register(app: Flask) -> None:
    app.cli.add_command(dev)
