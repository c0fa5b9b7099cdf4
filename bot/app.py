"""The FastAPI app factory: intake endpoints, health, readiness and metrics."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.inbox.writer import InboxWriter
from bot.intake import (
    CHECKS,
    IntakeConfig,
    automation_authenticator,
    jira_authenticator,
    receive,
)
from bot.settings import Settings
from bot.wiring import Services


def create_app(settings: Settings, services: Services, *, run_worker: bool = False) -> FastAPI:
    """Build the HTTP app; with `run_worker` the worker thread runs beside it (`uzibot serve`)."""
    cfg = IntakeConfig(
        writer=InboxWriter(services.store),
        metrics=services.metrics,
        max_body_bytes=settings.max_body_bytes,
        webhook_secrets=settings.webhook_secrets(),
        automation_secrets=settings.automation_secrets(),
        clock=services.store.clock,
    )
    jira_auth = jira_authenticator(cfg)
    automation_auth = automation_authenticator(cfg)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything long-lived exists now: move it out of the collector's sight, so that
        # full collections stay short (they caused 50+ ms tail latency on the intake).
        gc.collect()
        gc.freeze()
        thread = None
        if run_worker:
            thread = threading.Thread(
                target=services.worker.run_forever, args=(stop,), name="uzibot-worker", daemon=True
            )
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=10)

    app = FastAPI(title="uzibot", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.post("/webhooks/jira")
    async def jira_webhook(request: Request) -> Response:
        return await receive(request, cfg, "jira", jira_auth, CHECKS["jira"])

    @app.post("/webhooks/automation")
    async def automation_webhook(request: Request) -> Response:
        return await receive(request, cfg, "automation", automation_auth, CHECKS["automation"])

    add_health_routes(app, services, run_worker=run_worker)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def add_health_routes(app: FastAPI, services: Services, *, run_worker: bool) -> None:
    """`/healthz` (the process answers) and `/readyz` (store reachable, worker looping)."""

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        store_ok = services.store.ping()
        worker_ok = services.worker.is_alive() if run_worker else True
        status = 200 if store_ok and worker_ok else 503
        return JSONResponse({"store": store_ok, "worker": worker_ok}, status_code=status)


def create_health_app(services: Services, *, run_worker: bool) -> FastAPI:
    """Only the probes, for `HEALTH_PORT`: reachable while the webhook port is flooded."""
    app = FastAPI(title="uzibot health", docs_url=None, redoc_url=None, openapi_url=None)
    add_health_routes(app, services, run_worker=run_worker)
    return app
