"""Prometheus metrics, one registry per app (nothing registered at import time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import cast

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.inbox.gauges import inbox_gauges
from bot.inbox.store import Store

# Families the worker process updates (the expiry watch runs beside it). Under `uzibot serve`
# the worker runs in a child process: it writes these (render(WORKER_FAMILIES.__contains__))
# for the intake's /metrics to append.
WORKER_FAMILIES = frozenset(
    {
        "uzibot_deliveries_processed",
        "uzibot_processing_seconds",
        "uzibot_jira_effects",
        "uzibot_jira_calls",
        "uzibot_jira_throttled",
        "uzibot_jira_governor_wait_seconds",
        "uzibot_watch_steps",
        "uzibot_certificates",
    }
)

# The gauges read from the store at scrape time (`Metrics.watch_store`).
STORE_FAMILIES = frozenset(
    {"uzibot_queue_depth", "uzibot_oldest_pending_seconds", "uzibot_parked_failures"}
)

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]+-\d+$")
_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Metrics:
    """The counters and histograms the intake, the worker and the Jira client update."""

    registry: CollectorRegistry
    intake: Counter
    intake_seconds: Histogram
    duplicates: Counter
    processed: Counter
    processing_seconds: Histogram
    jira_effects: Counter
    jira_calls: Counter
    jira_throttled: Counter
    jira_governor_wait: Counter
    watch_steps: Counter
    certificates: Gauge

    def jira_call(self, method: str, path: str, status: str) -> None:
        """Count one HTTP attempt to Jira (the observer of bot.jira.http.JiraHttp)."""
        self.jira_calls.labels(operation=f"{method} {operation_of(path)}", status=status).inc()
        if status == "429":
            self.jira_throttled.inc()

    def render(self, keep: Callable[[str], bool] | None = None) -> bytes:
        """The Prometheus text of the families whose name `keep` accepts (all without it)."""
        if keep is None:
            return generate_latest(self.registry)
        return generate_latest(cast(CollectorRegistry, _Only(self.registry, keep)))

    def watch_store(self, store: Store, today: Callable[[], date]) -> None:
        """Add the gauges read from the store at scrape time (queue, oldest pending, parked)."""
        self.registry.register(_StoreCollector(store, today))


def serve_worker_metrics(metrics: Metrics, port: int, addr: str) -> Callable[[], None]:
    """Serve a standalone worker's families and the store gauges on `port` (/metrics) with
    prometheus_client's own HTTP server in a daemon thread; the function returned stops it.

    The intake's families are left out: they never move in a worker. Raises OSError when the
    port cannot be bound.
    """
    keep = (WORKER_FAMILIES | STORE_FAMILIES).__contains__
    view = cast(CollectorRegistry, _Only(metrics.registry, keep))
    server, thread = start_http_server(port, addr, registry=view)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop


class _Only:
    """A registry view with some families only (generate_latest needs only `collect`)."""

    def __init__(self, registry: CollectorRegistry, keep: Callable[[str], bool]) -> None:
        self.registry = registry
        self.keep = keep

    def collect(self) -> Iterator[Metric]:
        return (family for family in self.registry.collect() if self.keep(family.name))


def operation_of(path: str) -> str:
    """A path with issue keys and numeric ids replaced, so the label set stays bounded."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    out = []
    for i, part in enumerate(parts):
        if _ISSUE_KEY.match(part):
            part = "{key}"
        elif _NUMBER.match(part) and not (i and parts[i - 1] == "api"):  # keep rest/api/3
            part = "{id}"
        out.append(part)
    return "/" + "/".join(out)


class _StoreCollector(Collector):
    def __init__(self, store: Store, today: Callable[[], date]) -> None:
        self.store = store
        self.today = today

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            gauges = inbox_gauges(self.store)
        except Exception:  # a scrape must not fail because the database is briefly away
            return
        yield GaugeMetricFamily(
            "uzibot_queue_depth", "Deliveries pending or being processed", gauges.queue_depth
        )
        yield GaugeMetricFamily(
            "uzibot_oldest_pending_seconds",
            "Age of the oldest delivery not yet finished (0 when none)",
            gauges.oldest_pending_seconds,
        )
        yield GaugeMetricFamily(
            "uzibot_parked_failures",
            "Deliveries parked as failed (replay with uzibot replay)",
            gauges.parked,
        )


def create_metrics() -> Metrics:
    """A fresh registry with every uzibot metric."""
    registry = CollectorRegistry()
    return Metrics(
        registry=registry,
        intake=Counter(
            "uzibot_intake_total",
            "Webhook deliveries by endpoint and answer",
            ["endpoint", "status"],
            registry=registry,
        ),
        intake_seconds=Histogram(
            "uzibot_intake_seconds",
            "Time to verify, store and answer a delivery",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
            registry=registry,
        ),
        duplicates=Counter(
            "uzibot_duplicate_deliveries_total",
            "Deliveries whose id was already stored (Jira's retries)",
            registry=registry,
        ),
        processed=Counter(
            "uzibot_deliveries_processed_total",
            "Deliveries finished by the worker, by outcome",
            ["outcome"],
            registry=registry,
        ),
        processing_seconds=Histogram(
            "uzibot_processing_seconds",
            "Time the worker spent on one delivery attempt",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        ),
        jira_effects=Counter(
            "uzibot_jira_effects_total",
            "Effects applied in Jira by kind",
            ["kind"],
            registry=registry,
        ),
        jira_calls=Counter(
            "uzibot_jira_calls_total",
            "HTTP attempts to Jira by operation and status (error: no answer)",
            ["operation", "status"],
            registry=registry,
        ),
        jira_throttled=Counter(
            "uzibot_jira_throttled_total",
            "429 answers from Jira (rate limited)",
            registry=registry,
        ),
        jira_governor_wait=Counter(
            "uzibot_jira_governor_wait_seconds",
            "Seconds Jira calls waited for the write governor (rate, per-issue spacing, a 429 "
            "pause), all worker threads together",
            registry=registry,
        ),
        watch_steps=Counter(
            "uzibot_watch_steps_total",
            "Expiry watch steps taken (open-request, open-tracking, remind, priority, newer)",
            ["kind"],
            registry=registry,
        ),
        certificates=Gauge(
            "uzibot_certificates",
            "Current production certificates by days until DigiD is switched off",
            ["days_to_switch_off"],
            registry=registry,
        ),
    )
