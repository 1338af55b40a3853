"""Redis behind Sentinel: the app finds the master, and a failover loses nothing.

A real Sentinel group (``tests/sentinel_group.py``): a master, its replica and one
Sentinel, all ``redis-server`` processes. ``REDIS_URL`` is the group's
``redis+sentinel://`` URL, as production's would be (docs/deploy.md). The failover is
Sentinel's own (``SENTINEL FAILOVER``): the replica is promoted, the old master is
turned into its replica, and the app must follow without a restart.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from redis.sentinel import SentinelConnectionPool

from app.embedded_redis import ensure_redis
from app.redis_conn import connect
from app.schedule import LEADER_KEY
from app.sessions import SESSION_KEY
from tests.cli.test_worker_cli import start_leading_worker
from tests.protection.conftest import RUH_DUTY, only_case, received, sms
from tests.sentinel_group import SentinelGroup

SAUDI = "+966512345678"


@pytest.fixture(scope="module")
def sentinel_group() -> Iterator[SentinelGroup]:
    group = SentinelGroup().start()
    yield group
    group.stop()


@pytest.fixture
def config(config: dict, sentinel_group: SentinelGroup) -> dict:
    return {**config, "REDIS_URL": sentinel_group.url}


def test_the_app_reaches_redis_through_the_sentinel(svc, phone, sentinel_group) -> None:
    assert isinstance(svc.redis.connection_pool, SentinelConnectionPool)
    assert ensure_redis(sentinel_group.url) == (sentinel_group.url, None)  # `kazi dev` uses it
    p = phone()
    assert p.dial().startswith("CON Karibu Kazi Salama")
    # The session is on the master the Sentinel names, and copied to its replica.
    master = sentinel_group.master_port()
    with sentinel_group.client(master) as direct:
        assert direct.exists(SESSION_KEY.format(p.session_id)) == 1
        assert direct.info("replication")["role"] == "master"


def test_a_failover_mid_session_keeps_the_session_and_the_help_line(
        svc, phone, client, work, at_api, roster, sentinel_group) -> None:
    p = phone()
    p.dial()
    language_screen = p.send("1")  # English: the main menu
    assert language_screen.startswith("CON Kazi Salama: safe work")
    before = sentinel_group.master_port()

    after = sentinel_group.failover()

    assert after != before and sentinel_group.role(before) == "slave"
    # The next hop of the same session goes on from the main menu: nothing was lost,
    # and the write it makes lands on the new master (the old one refuses writes).
    assert "safe jobs" in p.send("1")
    with sentinel_group.client(after) as direct:
        assert direct.exists(SESSION_KEY.format(p.session_id)) == 1
    # A distress report after the failover is escalated as on any day: queued on the
    # new master, run by a worker connected through the Sentinel, one SMS per officer.
    assert_escalated(client, svc, work, at_api, "SOS they beat me")
    with sentinel_group.client(after) as direct:
        assert direct.info("replication")["role"] == "master"


def test_a_help_report_right_after_a_failover_is_escalated(
        svc, client, work, at_api, roster, sentinel_group) -> None:
    svc.redis.ping()  # the pool holds a connection to the master of the moment
    sentinel_group.failover()

    # The first Redis commands after the switch are this callback's enqueue.
    assert_escalated(client, svc, work, at_api, "HELP locked in")


def assert_escalated(client, svc, work, at_api, text: str) -> None:
    """Report ``text`` by SMS from Saudi Arabia; each Riyadh duty officer gets one alert."""
    sms(client, text, SAUDI)
    assert work() >= 1
    case = only_case(svc)
    for officer in RUH_DUTY:
        [alert] = received(at_api, officer)
        assert alert.startswith(f"SOS {case.ref} CRITICAL:")


class _Interrupted(Exception):
    """Raised by a timer inside a blocking read, as RQ's stop signal is."""


def test_a_read_cut_off_leaves_no_reply_for_the_next_command(sentinel_group) -> None:
    def interrupt(signum, frame) -> None:
        raise _Interrupted

    with connect(sentinel_group.url, socket_timeout=5) as client:
        client.delete("kazi:test:empty")
        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        try:
            with pytest.raises(_Interrupted):  # as a stop signal cuts off a waiting worker
                client.blpop(["kazi:test:empty"], timeout=1)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        time.sleep(1.2)  # the BLPOP's own reply (nil) has arrived by now
        # Each command reads its own reply, not the one left over from the BLPOP.
        assert client.set("kazi:test:k", "v") is True
        assert client.get("kazi:test:k") == b"v"
        assert client.ping() is True


def test_kazi_worker_on_sentinel_runs_its_cron_and_stops_on_sigterm(
        config, svc, sentinel_group, tmp_path) -> None:
    proc = start_leading_worker(config, svc, tmp_path)
    try:
        time.sleep(1)  # the worker is waiting on its queues now
        proc.send_signal(signal.SIGTERM)
        # Else a worker whose blocking read was cut off reads its stale reply in
        # teardown and then waits for ever.
        output, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, output
        assert "shutdown complete" in output and "Traceback" not in output
        assert svc.redis.get(LEADER_KEY) is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc.stdout.close()
