"""Builds the real parts from Settings: store, gateway, mappings, router, reconciler, worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import requests

from bot.certs.registry import registered_report
from bot.facts import Scope
from bot.inbox.cases import CaseIndex
from bot.inbox.db import open_store
from bot.inbox.pause import DatabasePauseBoard
from bot.inbox.store import Store
from bot.inbox.worker import Retention, RetrySchedule, Worker
from bot.jira.errors import JiraError
from bot.jira.gateway import CaseLayout, JiraGateway, RequestRaiser
from bot.jira.governor import PauseBoard, WriteGovernor
from bot.jira.retry import RetryPolicy, within_budget
from bot.mappings import Mappings, load_mappings
from bot.metrics import Metrics, create_metrics
from bot.processor import Processor
from bot.reconciler import Reconciler
from bot.router import Router
from bot.settings import Settings
from bot.watch import ExpiryWatch, Scheduler, WatchConfig

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
log = logging.getLogger("uzibot.wiring")


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
    watch: ExpiryWatch
    scheduler: Scheduler


def today_in_amsterdam() -> date:
    """The calendar date the practices live in."""
    return datetime.now(AMSTERDAM).date()


def count_effects(metrics: Metrics, then: Callable[[str], None]) -> Callable[[str], None]:
    """An effect hook that counts Jira effects by kind (the journal id's prefix), then calls on."""

    def on_effect(eid: str) -> None:
        kind = eid.split(":", 1)[0]
        if kind != "registry":
            metrics.jira_effects.labels(kind=kind).inc()
        then(eid)

    return on_effect


def build_gateway(
    settings: Settings,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    board: PauseBoard | None = None,
    on_governor_wait: Callable[[float], None] | None = None,
) -> JiraGateway:
    """The Jira gateway for the configured site, with the configured retry policy and write
    governor (its 429 pauses shared with other processes through `board`)."""
    return JiraGateway(
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
        governor=WriteGovernor(
            settings.jira_writes_per_second,
            issue_spacing=settings.jira_issue_write_spacing_seconds,
            board=board,
            on_wait=on_governor_wait,
        ),
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
    metrics = create_metrics()
    metrics.watch_store(store, today)
    gateway = build_gateway(
        settings,
        session=session,
        sleep=sleep,
        board=DatabasePauseBoard(store.engine),
        on_governor_wait=metrics.jira_governor_wait.inc,
    )
    gateway.observe(metrics.jira_call)
    from handlers.routing import build_router

    router = build_router()
    layout = CaseLayout(
        tracking_project=settings.tracking_project,
        issue_types={
            name: (flow.tracking_issue_type, flow.subtask_issue_type)
            for name, flow in mappings.workflows.items()
        },
    )
    raiser = RequestRaiser(gateway, settings.service_desk_project)
    reconciler = Reconciler(
        gateway,
        store,
        layout,
        on_effect=count_effects(metrics, on_effect or (lambda _eid: None)),
        raiser=raiser,
    )
    processor = Processor(
        gateway=gateway,
        router=router,
        reconciler=reconciler,
        mappings=mappings,
        scope=Scope(
            service_desk_project=settings.service_desk_project,
            tracking_project=settings.tracking_project,
            max_cert_bytes=settings.max_cert_bytes,
            max_cert_files=settings.max_cert_files,
            registry=lambda number, day: registered_report(store, number, day),
        ),
        today=today,
        bot_account_id=settings.bot_account_id,
        cases=CaseIndex(store),
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
        limit_waits=within_budget,
        call_seconds=settings.jira_timeout_seconds,
        retention=Retention(
            done_days=settings.retention_done_days,
            failed_days=settings.retention_failed_days or None,
        ),
    )
    watch = ExpiryWatch(
        store=store,
        gateway=gateway,
        reconciler=reconciler,
        mappings=mappings,
        config=WatchConfig(
            thresholds=settings.thresholds(),
            request_type=settings.expiry_request_type,  # empty: the mappings' (as resolved)
        ),
        metrics=metrics,
        raiser=raiser,
    )
    scheduler = Scheduler(watch.scan, today, settings.expiry_scan_seconds)
    return Services(
        store, gateway, mappings, router, reconciler, processor, worker, metrics, watch, scheduler
    )


def resolve_request_types(services: Services, settings: Settings) -> list[str]:
    """At start: match the mapped request types to the site's by id or name; log what changed.

    When the site cannot be asked, the mappings stay as written (the worker still matches a
    request's type by id, then by name).
    """
    try:
        desk = services.gateway.service_desk_id(settings.service_desk_project)
        site = (
            {str(t.get("id")): str(t.get("name")) for t in services.gateway.request_types(desk)}
            if desk is not None
            else {}
        )
    except JiraError as exc:
        log.warning("request types not resolved against the site (%s); using them as mapped", exc)
        return []
    if not site:
        log.warning("%s has no request types; using them as mapped", settings.service_desk_project)
        return []
    notes = services.mappings.resolve_request_types(site)
    for note in notes:
        log.warning("%s", note)
    return notes
