"""The worker: leases due deliveries, processes them, retries with backoff, parks failures."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

from bot.inbox.lease import Lease, LeaseLost, holding
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


WaitScope = Callable[[Callable[[], float]], AbstractContextManager[None]]


class StopSignal(Protocol):
    """A threading or multiprocessing Event."""

    def is_set(self) -> bool:
        """True once stopping."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout`; True once set."""
        ...


@dataclass(frozen=True)
class Retention:
    """How long finished deliveries are kept, and how often the worker prunes and checkpoints."""

    done_days: float = 14.0
    failed_days: float | None = 90.0
    every_seconds: float = 600.0


@dataclass
class Worker:
    """Claims due deliveries under leases, `concurrency` at a time; safe in several processes.

    Each claim is a Lease with a fresh token: a heartbeat renews it while the delivery is
    processed, every journal write is fenced on it (Store.record_effect) and every Jira call
    and wait stays within what is left of it (`limit_waits`).
    """

    store: Store
    process: Callable[[Delivery], str]
    metrics: Metrics
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    lease_seconds: float = 300.0
    poll_seconds: float = 1.0
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    rng: random.Random = field(default_factory=random.Random)
    concurrency: int = 1
    call_seconds: float = 30.0
    """Time reserved for one Jira call (its HTTP timeout): no call starts with less left."""
    retention: Retention | None = None
    limit_waits: WaitScope = field(default=lambda _remaining: nullcontext())
    """Scope in which the Jira calls of one delivery get a time budget (wiring passes
    bot.jira.retry.within_budget); the worker passes what is left of the lease."""
    _heartbeat: float = 0.0
    _held: dict[str, Lease] = field(default_factory=dict, repr=False)
    _held_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run_once(self, only_id: str | None = None, owner: str | None = None) -> Delivery | None:
        """Claim and handle one due delivery; None when nothing is due."""
        self._heartbeat = time.monotonic()
        owner = owner or self.owner
        delivery = self.store.claim(owner, self.lease_seconds, only_id=only_id)
        if delivery is None:
            return None
        token = delivery.lease_token or ""
        lease = Lease(
            delivery.id,
            owner,
            token,
            until=self.store.clock() + self.lease_seconds,
            seconds=self.lease_seconds,
            clock=self.store.clock,
        )
        with self._held_lock:
            self._held[token] = lease
        started = time.perf_counter()
        try:
            with (
                log_context(
                    delivery=delivery.id, event=delivery.event_name, issue=delivery.issue_key
                ),
                holding(lease),
                self.limit_waits(lambda: lease.remaining() - self.call_seconds),
            ):
                self._handle(delivery, lease)
        finally:
            self.metrics.processing_seconds.observe(time.perf_counter() - started)
            with self._held_lock:
                self._held.pop(token, None)
        return delivery

    def _handle(self, delivery: Delivery, lease: Lease) -> None:
        try:
            outcome = self.process(delivery)
        except LeaseLost as exc:
            self._lost(delivery, str(exc))
            return
        except JiraRetryable as exc:
            if lease.lost:
                self._lost(delivery, str(exc))
                return
            self._retry_or_park(delivery, lease, str(exc), exc.retry_after)
            return
        except Exception as exc:
            # Anything else is not going to heal by waiting: park it with the reason.
            add_log_fields(outcome="failed")
            log.exception("delivery %s failed", delivery.id)
            self.store.park(delivery.id, lease.owner, f"{type(exc).__name__}: {exc}", lease.token)
            self.metrics.processed.labels("failed").inc()
            return
        if self.store.finish(delivery.id, lease.owner, outcome, lease.token):
            self.metrics.processed.labels(outcome).inc()
            add_log_fields(outcome=outcome)
            log.info("delivery %s finished: %s", delivery.id, outcome)
        else:
            self._lost(delivery, "finished after the lease was taken over")

    def _lost(self, delivery: Delivery, why: str) -> None:
        add_log_fields(outcome="lease_lost")
        log.warning("delivery %s: lease lost, this worker stops (%s)", delivery.id, why)
        self.metrics.processed.labels("lease_lost").inc()

    def _retry_or_park(
        self, delivery: Delivery, lease: Lease, reason: str, retry_after: float | None
    ) -> None:
        if delivery.attempts >= self.schedule.max_attempts:
            add_log_fields(outcome="failed")
            log.error(
                "delivery %s parked after %d attempts: %s", delivery.id, delivery.attempts, reason
            )
            self.store.park(
                delivery.id,
                lease.owner,
                f"gave up after {delivery.attempts} attempts: {reason}",
                lease.token,
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
        self.store.reschedule(delivery.id, lease.owner, delay, reason, lease.token)
        self.metrics.processed.labels("retry").inc()

    def renew_leases(self) -> None:
        """Heartbeat: renew every lease this worker holds (a lost one is marked lost)."""
        with self._held_lock:
            held = list(self._held.values())
        for lease in held:
            try:
                if not self.store.renew(lease):
                    log.warning("delivery %s: lease taken over", lease.delivery_id)
            except Exception:
                # The database is unreachable: the lease runs down, and with it the budget.
                log.exception("could not renew the lease of %s", lease.delivery_id)

    def drain(self, limit: int = 10_000) -> int:
        """Process due deliveries until none is left (tests, `uzibot demo`); return the count."""
        count = 0
        while count < limit and self.run_once() is not None:
            count += 1
        return count

    def run_forever(self, stop: StopSignal, on_beat: Callable[[], None] | None = None) -> None:
        """Run `concurrency` claim loops, the lease heartbeat and retention until `stop` is set.

        Errors in a loop are logged, never fatal. `on_beat` is called about once a poll
        interval while the loops run (the `serve` supervisor reads it for /readyz).
        """
        log.info("worker %s started, %d at a time", self.owner, self.concurrency)
        threads = [
            threading.Thread(
                target=self._loop,
                args=(stop, f"{self.owner}:{n}"),
                name=f"uzibot-worker-{n}",
                daemon=True,
            )
            for n in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        renew_every = max(0.05, self.lease_seconds / 3)
        next_renewal = time.monotonic() + renew_every
        next_retention = time.monotonic()
        while not stop.wait(min(self.poll_seconds, renew_every)):
            now = time.monotonic()
            if now >= next_renewal:
                self.renew_leases()
                next_renewal = now + renew_every
            if self.retention is not None and now >= next_retention:
                self.apply_retention()
                next_retention = now + self.retention.every_seconds
            if on_beat is not None and self.is_alive():
                on_beat()
        for thread in threads:
            thread.join(timeout=max(10.0, self.poll_seconds * 2))
        log.info("worker %s stopped", self.owner)

    def _loop(self, stop: StopSignal, owner: str) -> None:
        while not stop.is_set():
            try:
                if self.run_once(owner=owner) is None:
                    stop.wait(self.poll_seconds)
            except Exception:
                log.exception("worker loop error")
                stop.wait(self.poll_seconds)

    def apply_retention(self) -> dict[str, int]:
        """Delete finished deliveries past their retention, then checkpoint the WAL."""
        if self.retention is None:
            return {}
        now = self.store.clock()
        failed_days = self.retention.failed_days
        try:
            removed = self.store.prune(
                now - self.retention.done_days * 86400,
                None if failed_days is None else now - failed_days * 86400,
            )
            self.store.checkpoint()
        except Exception:
            log.exception("retention pass failed; next pass retries")
            return {}
        if any(removed.values()):
            log.info("retention removed %s", removed)
        return removed

    def is_alive(self) -> bool:
        """True when a loop ran recently (within a few poll intervals plus a lease)."""
        return time.monotonic() - self._heartbeat < max(
            30.0, self.poll_seconds * 10, self.lease_seconds
        )
