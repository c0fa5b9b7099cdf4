"""Prometheus metrics, one registry per app (nothing registered at import time)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class Metrics:
    """The counters and histograms the intake and the worker update."""

    registry: CollectorRegistry
    intake: Counter
    intake_seconds: Histogram
    processed: Counter
    jira_effects: Counter
    watch_steps: Counter
    certificates: Gauge


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
        processed=Counter(
            "uzibot_deliveries_processed_total",
            "Deliveries finished by the worker, by outcome",
            ["outcome"],
            registry=registry,
        ),
        jira_effects=Counter(
            "uzibot_jira_effects_total",
            "Effects applied in Jira by kind",
            ["kind"],
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
