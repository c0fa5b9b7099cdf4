"""The worker: leases due deliveries, processes them, retries with backoff, parks failures."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.inbox.store import Delivery, Store
from bot.jira.errors import JiraRetryable
from bot.logs import add_log_fields, log_context
from bot.metrics import Metrics

log = logging.getLogger("uzibot.worker")


@dataclass(frozen=True)
class RetrySchedule:
    """Exponential backoff with jitter over days: base * 2**n, capped, then park."""

    max_attempts: int = 25
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        jittered = ceiling / 2 + rng.uniform(0, ceiling / 2)
        return max(jittered, retry_after or 0.0)

    def span_seconds(self) -> float:
        """The longest total time a delivery is retried before it is parked."""
        return sum(
            min(self.cap_seconds, self.base_seconds * 2 ** (n - 1))
            for n in range(1, self.max_attempts)
        )


@dataclass
class Worker:
    """Claims one delivery at a time under a lease; safe to run in several processes."""

    store: Store
    process: Callable[[Delivery], str]
    metrics: Metrics
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    lease_seconds: float = 300.0
    poll_seconds: float = 1.0
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    rng: random.Random = field(default_factory=random.Random)
    _heartbeat: float = 0.0

    def run_once(self, only_id: str | None = None) -> Delivery | None:
        """Claim and handle one due delivery; None when nothing is due."""
        self._heartbeat = time.monotonic()
        delivery = self.store.claim(self.owner, self.lease_seconds, only_id=only_id)
        if delivery is None:
            return None
        with log_context(delivery=delivery.id, event=delivery.event_name, issue=delivery.issue_key):
            started = time.perf_counter()
            try:
                self._handle(delivery)
            finally:
                self.metrics.processing_seconds.observe(time.perf_counter() - started)
        return delivery

    def _handle(self, delivery: Delivery) -> None:
        try:
            outcome = self.process(delivery)
        except JiraRetryable as exc:
            self._retry_or_park(delivery, str(exc), exc.retry_after)
            return
        except Exception as exc:
            # Anything else is not going to heal by waiting: park it with the reason.
            add_log_fields(outcome="failed")
            log.exception("delivery %s failed", delivery.id)
            self.store.park(delivery.id, self.owner, f"{type(exc).__name__}: {exc}")
            self.metrics.processed.labels("failed").inc()
            return
        self.store.finish(delivery.id, self.owner, outcome)
        self.metrics.processed.labels(outcome).inc()
        add_log_fields(outcome=outcome)
        log.info("delivery %s finished: %s", delivery.id, outcome)

    def _retry_or_park(self, delivery: Delivery, reason: str, retry_after: float | None) -> None:
        if delivery.attempts >= self.schedule.max_attempts:
            add_log_fields(outcome="failed")
            log.error(
                "delivery %s parked after %d attempts: %s", delivery.id, delivery.attempts, reason
            )
            self.store.park(
                delivery.id, self.owner, f"gave up after {delivery.attempts} attempts: {reason}"
            )
            self.metrics.processed.labels("failed").inc()
            return
        delay = self.schedule.delay(delivery.attempts, retry_after, self.rng)
        add_log_fields(outcome="retry")
        log.warning(
            "delivery %s attempt %d failed (%s); retry in %.0f s",
            delivery.id,
            delivery.attempts,
            reason,
            delay,
        )
        self.store.reschedule(delivery.id, self.owner, delay, reason)
        self.metrics.processed.labels("retry").inc()

    def drain(self, limit: int = 10_000) -> int:
        """Process due deliveries until none is left (tests, `uzibot demo`); return the count."""
        count = 0
        while count < limit and self.run_once() is not None:
            count += 1
        return count

    def run_forever(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; errors in the loop itself are logged, never fatal."""
        log.info("worker %s started", self.owner)
        while not stop.is_set():
            try:
                if self.run_once() is None:
                    stop.wait(self.poll_seconds)
            except Exception:
                log.exception("worker loop error")
                stop.wait(self.poll_seconds)
        log.info("worker %s stopped", self.owner)

    def is_alive(self) -> bool:
        """True when the loop ran recently (within a few poll intervals plus a lease)."""
        return time.monotonic() - self._heartbeat < max(
            30.0, self.poll_seconds * 10, self.lease_seconds
        )
