"""`uzibot serve`: the intake in this process; the worker and the expiry scan in a child process."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from ctypes import c_double
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

from bot.logs import configure_logging
from bot.metrics import WORKER_FAMILIES, Metrics
from bot.settings import Settings

log = logging.getLogger("uzibot.serve")

WORKER_NICENESS = 10
METRICS_EVERY_SECONDS = 1.0


class WorkerProcess:
    """Runs the worker in a child process, restarts it if it dies, and says whether it beats.

    The worker's CPU (parsing, classification, certificates) then never holds the intake's
    GIL. The child beats through shared memory about once a poll interval; /readyz reports
    the worker dead when the child exited or has not beaten for a while. Nothing here takes a
    lock shared with the child (a child killed while holding one would hang the intake): the
    beat is a lock-free double, and the child is stopped with SIGTERM.
    """

    def __init__(self, settings: Settings, *, stop_seconds: float = 30.0) -> None:
        self.settings = settings
        self.stop_seconds = stop_seconds
        self._ctx = multiprocessing.get_context("spawn")
        self._beat: Any = self._ctx.RawValue(c_double, 0.0)
        self._closing = threading.Event()
        self._proc: SpawnProcess | None = None
        self._monitor: threading.Thread | None = None
        self.restarts = 0
        self._metrics_dir = Path(tempfile.mkdtemp(prefix="uzibot-worker-metrics-"))
        self.metrics_path = self._metrics_dir / "worker.prom"

    def metrics_text(self) -> bytes:
        """The worker's metric families as the child last wrote them (empty before that)."""
        try:
            return self.metrics_path.read_bytes()
        except OSError:
            return b""

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the child and the thread that restarts it when it dies."""
        self._spawn()
        self._monitor = threading.Thread(
            target=self._watch, name="uzibot-worker-monitor", daemon=True
        )
        self._monitor.start()

    def _spawn(self) -> None:
        self._beat.value = time.monotonic()  # a grace period for the child's start-up
        self._proc = self._ctx.Process(
            target=run_worker_process,
            args=(self.settings, self._beat, os.getpid(), str(self.metrics_path)),
            name="uzibot-worker",
        )
        self._proc.start()
        log.info("worker process %s started", self._proc.pid)

    def _watch(self) -> None:
        delay = 1.0
        while not self._closing.wait(1.0):
            proc = self._proc
            if proc is None or proc.is_alive():
                continue
            started = time.monotonic()
            log.error("worker process exited (code %s); restarting in %.0f s", proc.exitcode, delay)
            if self._closing.wait(delay):
                return
            self.restarts += 1
            self._spawn()
            # A child that keeps dying at once is restarted ever more slowly (up to 30 s).
            delay = 1.0 if time.monotonic() - started > 60 else min(30.0, delay * 2)

    def stop(self) -> None:
        """Ask the child to finish its current deliveries, then end it (bounded)."""
        self._closing.set()
        if self._monitor is not None:
            self._monitor.join(5)
        proc = self._proc
        if proc is None:
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
            return
        proc.terminate()  # SIGTERM: the child finishes its current deliveries and exits
        proc.join(self.stop_seconds)
        if proc.is_alive():
            log.warning("worker process did not stop in %.0f s; killing it", self.stop_seconds)
            proc.kill()
            proc.join(5)
        shutil.rmtree(self._metrics_dir, ignore_errors=True)

    def is_alive(self) -> bool:
        """The child runs and its claim loops beat recently."""
        proc = self._proc
        if proc is None or not proc.is_alive():
            return False
        quiet = time.monotonic() - self._beat.value
        return quiet < max(15.0, self.settings.worker_poll_seconds * 5)


def run_worker_process(
    settings: Settings, beat: Any, parent_pid: int, metrics_path: str | None = None
) -> None:
    """The child's main: build the services, run the worker until SIGTERM or orphaned."""
    configure_logging(settings.log_level, secrets=settings.secret_values())
    # The intake answers Jira within milliseconds; the worker's work can wait. On a busy
    # machine the scheduler gives the intake's process the CPU first.
    os.nice(WORKER_NICENESS)
    # A worker thread between its statement and its commit holds SQLite's write lock, which
    # the intake waits for; with CPU-bound sibling threads it would wait for the GIL first.
    sys.setswitchinterval(0.001)
    stop = threading.Event()
    # Ctrl-C reaches the whole process group: the parent stops us with SIGTERM instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    from bot.wiring import build_services, resolve_request_types

    services = build_services(settings)
    resolve_request_types(services, settings)  # the worker classifies: it needs the site's ids

    written = 0.0

    def on_beat() -> None:
        nonlocal written
        beat.value = now = time.monotonic()
        if metrics_path is not None and now - written >= METRICS_EVERY_SECONDS:
            written = now
            write_worker_metrics(services.metrics, Path(metrics_path))

    def watch_parent() -> None:
        # Killed parent (kill -9): the child is re-parented; stop instead of running unseen.
        while not stop.wait(1.0):
            if os.getppid() != parent_pid:
                log.error("serve process %s is gone; worker stops", parent_pid)
                stop.set()

    threading.Thread(target=watch_parent, name="uzibot-parent-watch", daemon=True).start()
    services.scheduler.start(stop)  # the expiry scan runs beside the worker, in this child
    try:
        services.worker.run_forever(stop, on_beat=on_beat)
    finally:
        if metrics_path is not None:
            write_worker_metrics(services.metrics, Path(metrics_path))
        services.store.close()


def write_worker_metrics(metrics: Metrics, path: Path) -> None:
    """Replace the file with the worker's families (atomically: a scrape never reads half)."""
    partial = path.with_suffix(".tmp")
    try:
        partial.write_bytes(metrics.render(WORKER_FAMILIES.__contains__))
        os.replace(partial, path)
    except OSError:
        log.exception("could not write the worker's metrics to %s", path)


def run_serve(settings: Settings, host: str, port: int, **uvicorn_options: Any) -> int:
    """Build the intake, start the worker process with it, serve until stopped.

    The webhook port runs with bot/server.py's bounds (header size and count, read
    timeouts, a connection cap); `HEALTH_PORT`, when set, serves only the probes.
    """
    import asyncio

    from bot.app import create_app, create_health_app
    from bot.server import build_servers, run_servers, server_limits
    from bot.wiring import build_services

    services = build_services(settings)
    worker = WorkerProcess(settings)
    app = create_app(settings, services, worker=worker)
    health = create_health_app(services, worker) if settings.health_port else None
    uvicorn_options = {
        "log_level": settings.log_level.lower(),
        "access_log": settings.access_log,
        **uvicorn_options,
    }
    servers = build_servers(
        app, host, port, server_limits(settings), health, settings.health_port, **uvicorn_options
    )
    # The loop uvicorn itself would pick ("auto": uvloop where installed, as with
    # uvicorn[standard]); asyncio.run would give the pure-Python loop, about half as fast.
    loop_factory = servers[0].config.get_loop_factory()
    log.info(
        "uzibot serve on %s:%d (intake on %s; worker in a child process); settings: %s",
        host,
        port,
        getattr(loop_factory, "__module__", "asyncio").split(".")[0],
        " ".join(f"{k}={v}" for k, v in settings.masked().items()),
    )
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(run_servers(servers))
    services.store.close()
    return 0
