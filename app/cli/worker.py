"""``kazi worker``: an RQ worker with the scheduler, running jobs inside the app context."""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import pkgutil
import signal
from collections.abc import Sequence
from multiprocessing.process import BaseProcess

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Queue, SimpleWorker, Worker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.worker import SHUTDOWN_SIGNAL, WorkerStatus

from app.extensions import QUEUES
from app.redis_conn import connect

log = logging.getLogger(__name__)

CRON_STOP_TIMEOUT = 10
"""Seconds the cron child gets to stop after SIGTERM before it is killed."""

IN_PROCESS_QUEUES = frozenset({"bulk"})
"""Queues whose jobs run in the worker process itself, as RQ's ``SimpleWorker`` runs them.

A campaign's ``send_batch`` job is short; forking a 100 MB worker for it, and opening
a fresh database connection in the horse, would cost as much again as the job.
Distress jobs (``critical``) and everything else keep a forked horse each, so a
crash or a leak in one job never takes the worker down with it.
"""


class AppWorker(Worker):
    """An RQ worker whose work horses run each job inside the Flask app context.

    Unless burst, it also keeps the cron scheduler (``app.schedule``) alive in a
    child process: RQ's ``CronScheduler`` installs signal handlers, so it needs a
    main thread of its own.
    """

    def __init__(self, queues: Sequence[Queue], *, app: Flask, cron_url: str | None = None,
                 **kwargs) -> None:
        super().__init__(queues, **kwargs)
        self.app = app
        preload_jobs()
        warm_database(app)
        self.cron_url = cron_url
        self.cron: BaseProcess | None = None
        self._early_signal: int | None = None
        self._pid = os.getpid()

    def work(self, burst: bool = False, **kwargs) -> bool:
        """Start the cron child (unless burst), work, and always stop the cron child."""
        # RQ installs its handlers only after forking its scheduler. A stop signal before
        # then is noted and honoured once they are in: raising from a handler instead can
        # land in a fork hook, where Python prints and ignores it.
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.signal(signum, self._note_signal) for signum in stops}
        try:
            if not burst and self.cron_url:
                self.start_cron()
            return super().work(burst=burst, **kwargs)
        finally:
            self.stop_cron()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def unsubscribe(self) -> None:
        """Leave the command channel without waiting on its listener for long.

        RQ stops the listener thread with redis-py's ``PubSubWorkerThread.stop()``,
        which waits with no bound: when the thread has already read the unsubscribe
        reply it sits out its 60 s poll, and a stopping worker (a deploy, a burst run)
        hangs that long. One second is plenty for a listener that is still reading.
        """
        if self.pubsub_thread:
            self.pubsub.unsubscribe()
            try:
                self.pubsub_thread.stop(timeout=1)
            except TypeError:  # redis-py before 8: stop() does not wait at all
                self.pubsub_thread.stop()
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()

    def _note_signal(self, signum: int, frame) -> None:
        if os.getpid() != self._pid:
            # A child forked while this handler was in (RQ's scheduler, forked before
            # RQ installs its handlers; the cron child) and not yet past installing its
            # own: stop as if it had none. Noting the signal there would lose it, and
            # the stopping worker would wait on that child for ever.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self._early_signal = signum

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        if self._early_signal is not None:
            self.log.info("stop requested (signal %s) while starting", self._early_signal)
            self._stop_requested = True  # the work loop checks this before its first job

    def request_stop(self, signum, frame) -> None:
        # RQ's handler stops an idle worker by raising StopRequested wherever the main
        # thread happens to be; a broad ``except Exception`` on the way (registry
        # cleaning logs and carries on) would swallow it and leave the worker waiting
        # on its queues for minutes. The flag outlives the raise: the work loop checks
        # it before each dequeue, and maintenance re-raises it (below).
        self._stop_requested = True
        super().request_stop(signum, frame)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Fork a horse for the job, or run it here if its queue is in ``IN_PROCESS_QUEUES``.

        In process is ``SimpleWorker.execute_job``: RQ's own timeout (SIGALRM), retry
        and failure handling apply as in a horse. A stop signal during the job lets it
        finish first (the worker is busy); a second one exits at once, and the
        reconciler puts the messages it left in ``sending`` back to ``pending``.
        """
        if queue.name not in IN_PROCESS_QUEUES:
            super().execute_job(job, queue)
            return
        execution = self.prepare_execution(job)
        self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        # A worker running a job itself cannot beat while it works: cover the job's
        # whole timeout, as SimpleWorker does, so RQ never takes it for dead.
        if job.origin in IN_PROCESS_QUEUES:
            return SimpleWorker.get_heartbeat_ttl(self, job, working_time)
        return super().get_heartbeat_ttl(job, working_time)

    def kill_horse(self, sig: signal.Signals = SHUTDOWN_SIGNAL) -> None:
        # RQ's stop-job command kills the horse's process group without asking whether
        # there is a horse; with none, that group is the worker's own (and whatever
        # shares it). A job running in process cannot be killed apart from its worker:
        # do nothing, as SimpleWorker does.
        if not self.horse_pid:
            self.log.warning("no work horse to kill: the job runs in the worker process")
            return
        super().kill_horse(sig)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # The horse is a fork: give it its own database connections instead of
        # sharing the parent's pooled sockets.
        self.app.extensions["kazi"].db.engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def perform_job(self, job: Job, queue: Queue, execution) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue, execution)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if self._stop_requested:  # a stop whose StopRequested something swallowed
            raise StopRequested()
        if self.cron is not None and not self.cron.is_alive():
            self.log.warning("cron scheduler exited (code %s); restarting it", self.cron.exitcode)
            self.start_cron()

    def start_cron(self) -> None:
        """Fork the cron scheduler, as RQ forks its own scheduler."""
        from app.schedule import run

        self.cron = multiprocessing.get_context("fork").Process(
            target=run, args=(self.cron_url,), name="kazi-cron", daemon=False
        )
        self.cron.start()
        self.log.info("cron scheduler started (pid %s)", self.cron.pid)

    def stop_cron(self) -> None:
        """Stop the cron child: SIGTERM, then SIGKILL if it does not go."""
        cron, self.cron = self.cron, None
        if cron is None or self.is_horse:
            return
        if cron.is_alive():
            cron.terminate()
            cron.join(CRON_STOP_TIMEOUT)
        if cron.is_alive():
            self.log.warning("cron scheduler did not stop; killing it")
            cron.kill()
        cron.join()


JOB_PACKAGE = "workers"
"""The package of RQ job functions. The app names it (jobs are dotted paths) and never
imports it statically: only a worker process loads it, here or as RQ runs a job."""


def preload_jobs() -> None:
    """Import every job module once in the worker, before it forks a horse per job.

    RQ imports a job's function in the horse, so a module the worker never imported
    was imported again (and, without bytecode on disk, compiled again) by every horse,
    with the feature modules it calls.
    """
    package = importlib.import_module(JOB_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__, f"{JOB_PACKAGE}."):
        importlib.import_module(module.name)


def warm_database(app: Flask) -> None:
    """Connect once before forking, so horses inherit a dialect that knows the server.

    SQLAlchemy asks a new engine's first connection about the server (version,
    encoding, schema); a worker that never connected left that to each horse, one
    extra round trip or five per job. The connection is closed again: every horse
    opens its own.
    """
    engine = app.extensions["kazi"].db.engine
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - a worker must start while the database is down
        log.warning("worker: database not reachable at start (%s)", type(exc).__name__)
    finally:
        engine.dispose()


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True,
              help="Run what is queued (and scheduled jobs now due), then exit; no cron.")
@click.argument("queues", nargs=-1)
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker on QUEUES (default: critical default bulk, in priority order)."""
    names = queues or QUEUES
    unknown = [name for name in names if name not in QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown)}; "
                                 f"choose from {' '.join(QUEUES)}", param_hint="QUEUES")
    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    with connect(url) as connection:
        rq_worker = AppWorker(
            [Queue(name, connection=connection) for name in names],
            connection=connection, app=app, cron_url=None if burst else url,
        )
        rq_worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def register(app: Flask) -> None:
    app.cli.add_command(worker)
