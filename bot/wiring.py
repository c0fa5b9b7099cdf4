"""Builds the real parts from Settings: store, gateway, mappings, router, reconciler, worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import requests

from bot.inbox.db import open_store
from bot.inbox.store import Store
from bot.inbox.worker import Retention, RetrySchedule, Worker
from bot.jira.gateway import JiraGateway
from bot.jira.retry import RetryPolicy
from bot.mappings import Mappings, load_mappings
from bot.metrics import Metrics, create_metrics
from bot.processor import Processor
from bot.reconciler import CaseLayout, Reconciler
from bot.router import Router
from bot.settings import Settings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass
class Services:
    """The process's collaborators, built once by `build_services` and passed around."""

    store: Store
    gateway: JiraGateway
    mappings: Mappings
    router: Router
    reconciler: Reconciler
    processor: Processor
    worker: Worker
    metrics: Metrics


def today_in_amsterdam() -> date:
    """The calendar date the practices live in."""
    return datetime.now(AMSTERDAM).date()


def build_router() -> Router:
    """Compose every concern's router in one place."""
    from handlers import lifecycle, practice_change, question, renewal, triage

    return Router(
        practice_change.router, renewal.router, question.router, triage.router, lifecycle.router
    )


def build_services(
    settings: Settings,
    *,
    session: requests.Session | None = None,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    today: Callable[[], date] = today_in_amsterdam,
    sleep: Callable[[float], None] = time.sleep,
    on_effect: Callable[[str], None] | None = None,
) -> Services:
    """Wire the real parts; tests pass a sandbox session, a fake clock or a crash hook."""
    store = store or open_store(settings.database_url, clock)
    mappings = load_mappings(settings.mappings_dir)
    gateway = JiraGateway(
        settings.jira_url,
        settings.jira_user,
        settings.jira_api_token.get_secret_value(),
        session=session,
        retry=RetryPolicy(
            max_attempts=settings.jira_max_attempts,
            max_wait=settings.jira_max_wait_seconds,
            sleep=sleep,
        ),
        timeout=settings.jira_timeout_seconds,
    )
    router = build_router()
    layout = CaseLayout(
        tracking_project=settings.tracking_project,
        issue_types={
            name: (flow.tracking_issue_type, flow.subtask_issue_type)
            for name, flow in mappings.workflows.items()
        },
    )
    reconciler = Reconciler(gateway, store, layout, on_effect=on_effect)
    metrics = create_metrics()
    processor = Processor(
        gateway=gateway,
        router=router,
        reconciler=reconciler,
        store=store,
        mappings=mappings,
        service_desk_project=settings.service_desk_project,
        tracking_project=settings.tracking_project,
        today=today,
        max_cert_bytes=settings.max_cert_bytes,
        bot_account_id=settings.bot_account_id,
    )
    worker = Worker(
        store=store,
        process=processor.process,
        metrics=metrics,
        schedule=RetrySchedule(
            max_attempts=settings.worker_max_attempts,
            base_seconds=settings.worker_backoff_base_seconds,
            cap_seconds=settings.worker_backoff_cap_seconds,
        ),
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
        concurrency=settings.worker_concurrency,
        call_seconds=settings.jira_timeout_seconds,
        retention=Retention(
            done_days=settings.retention_done_days,
            failed_days=settings.retention_failed_days or None,
        ),
    )
    return Services(store, gateway, mappings, router, reconciler, processor, worker, metrics)
