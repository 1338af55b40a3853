"""``kazi dev`` end to end: embedded Redis, migrations, gateway, worker, and a clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from app.embedded_redis import redis_answers

KAZI = [sys.executable, "-c", "from app.cli import main; main()"]
STARTED = re.compile(r"(web|worker) started \(pid (\d+)\)")
REDIS_STARTED = re.compile(r"embedded Redis started on (\S+) \(pid (\d+)\)")
HANG_GUARD = 300
"""Seconds before a wait gives up: only ever reached when something is broken."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int, group: bool = False) -> bool:
    try:
        (os.killpg if group else os.kill)(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_dev_runs_everything_and_ctrl_c_stops_everything(tmp_path: Path):
    port, redis_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AT_", "KAZI_", "FLASK_"))
           and k not in ("DATABASE_URL", "CALLBACK_TOKEN", "SECRET_KEY", "PII_KEYS")}
    env.update(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([*KAZI, "dev", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    groups: dict[str, int] = {}
    redis_pid = None
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{base}/healthz") or proc.poll() is not None, HANG_GUARD,
                   "/healthz")
        wait_until(lambda: answers(f"{base}/readyz") or proc.poll() is not None, HANG_GUARD,
                   "/readyz")
        assert proc.poll() is None, "".join(lines)
        wait_until(lambda: "Ctrl-C stops everything" in "".join(lines), HANG_GUARD,
                   "the usage lines")
        out = "".join(lines)
        groups = {name: int(pid) for name, pid in STARTED.findall(out)}
        assert set(groups) == {"web", "worker"}, out
        (redis_url, redis_pid), = [(u, int(p)) for u, p in REDIS_STARTED.findall(out)]
        # Nothing answered on the configured port, so dev started the embedded server there.
        assert redis_url == f"redis://127.0.0.1:{redis_port}/0"
        assert redis_answers(redis_url)
        assert (tmp_path / "instance" / "kazi.db").exists()
        assert (tmp_path / "instance" / "redis").is_dir()
        assert "seed-demo" in out  # the database was empty
        assert f"USSD callback  POST {base}/ussd" in out
        assert f"kazi phone +254712345678 --url {base}" in out
        assert "outbox backend" in out
        phone = requests.post(f"{base}/ussd", timeout=HANG_GUARD, data={
            "sessionId": "ATUid_dev_smoke", "serviceCode": "*384*2026#",
            "phoneNumber": "+254712345678", "networkCode": "63902", "text": ""})
        assert phone.text.startswith("CON Karibu Kazi Salama")

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=HANG_GUARD) == 0, "".join(lines)
        reader.join(HANG_GUARD)
        out = "".join(lines)
        assert out.rstrip().endswith("stopped"), out
        for name, pid in groups.items():
            assert not alive(pid, group=True), f"{name} (or one of its children) is still running"
        assert not alive(redis_pid), "the embedded redis-server is still running"
        assert not redis_answers(redis_url)
        assert not answers(f"{base}/healthz")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(HANG_GUARD)
        for pid in groups.values():
            if alive(pid, group=True):
                os.killpg(pid, signal.SIGKILL)
        if redis_pid and alive(redis_pid):
            os.kill(redis_pid, signal.SIGKILL)
        if proc.stdout:
            proc.stdout.close()


def test_dev_refuses_a_port_in_use(runner):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        result = runner.invoke(args=["dev", "--port", str(sock.getsockname()[1])])
    assert result.exit_code == 1
    assert "is in use" in result.output


def test_dev_seeds_only_an_empty_database(svc):
    from app.cli.dev import database_empty
    from app.models import Contact

    assert database_empty()
    with svc.db.session() as session:
        session.add(Contact(phone="+254712345678", lang="en"))
    assert not database_empty()
