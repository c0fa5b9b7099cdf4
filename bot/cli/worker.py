"""`uzibot worker`: the worker and the expiry scan without the intake; METRICS_PORT: /metrics."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.metrics import serve_worker_metrics
from bot.settings import Settings
from bot.wiring import Services, resolve_request_types

log = logging.getLogger("uzibot.worker")


def run_worker(
    services: Services,
    settings: Settings,
    stop: threading.Event,
    *,
    host: str = "127.0.0.1",
    err: TextIO | None = None,
) -> int:
    """Run until `stop` is set (SIGTERM) or Ctrl-C; 2 when METRICS_PORT cannot be bound."""
    stop_metrics: Callable[[], None] | None = None
    if settings.metrics_port is not None:
        try:
            stop_metrics = serve_worker_metrics(services.metrics, settings.metrics_port, host)
        except OSError as exc:
            print(
                f"uzibot worker: cannot serve metrics on port {settings.metrics_port}: "
                f"{exc.strerror or exc}; fix: set METRICS_PORT to a free port, or unset it",
                file=err or sys.stderr,
            )
            return 2
        log.info("worker metrics on %s:%d (/metrics)", host, settings.metrics_port)
    try:
        resolve_request_types(services, settings)  # the worker classifies: the site's ids
        services.scheduler.start(stop)  # the expiry scan beside the worker
        services.worker.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if stop_metrics is not None:
            stop_metrics()
    return 0
