"""The app factory: the intake endpoints, then FastAPI for health, readiness and metrics."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from bot.inbox.writer import InboxWriter
from bot.intake import (
    CHECKS,
    Answer,
    IntakeConfig,
    Receive,
    Scope,
    Send,
    automation_authenticator,
    jira_authenticator,
    receive,
)
from bot.metrics import WORKER_FAMILIES
from bot.settings import Settings
from bot.wiring import Services

log = logging.getLogger("uzibot.intake")
Endpoint = Callable[[Scope, Receive], Any]


class WorkerRunner(Protocol):
    """A worker started and stopped with the app (`uzibot serve` runs it in its own process)."""

    def start(self) -> None:
        """Start the worker."""

    def stop(self) -> None:
        """Stop it and wait (bounded) until it stopped."""

    def is_alive(self) -> bool:
        """True while it runs and its loops beat."""


class IntakeFront:
    """ASGI: the webhook POSTs go straight to the intake; everything else to the FastAPI app.

    Every delivery takes the intake path, and FastAPI's middleware stack, router and request
    objects cost more per request than the intake's own work, so they are passed by. The
    FastAPI app still runs the lifespan (the worker) and the other routes.
    """

    def __init__(self, app: FastAPI, endpoints: dict[str, Endpoint]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive_message: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        endpoint = None
        if scope["type"] == "http":
            endpoint = self.endpoints.get(route_path(scope).rstrip("/"))
        if endpoint is None:
            await self.app(scope, receive_message, send)
        elif scope["method"] != "POST":
            await Answer(405, {"status": "rejected", "error": "only POST"}).send(send, _ALLOW_POST)
        else:
            await self._serve(endpoint, scope, receive_message, send)

    @staticmethod
    async def _serve(endpoint: Endpoint, scope: Scope, receive_msg: Receive, send: Send) -> None:
        try:
            answer = await endpoint(scope, receive_msg)
        except Exception:  # a bug, not the sender's fault: answered 500 and logged with its cause
            log.exception("the intake failed on %s", scope["path"])
            answer = Answer(500, {"status": "error", "error": "internal error"})
        await answer.send(send)


_ALLOW_POST = [(b"allow", b"POST")]


def route_path(scope: Scope) -> str:
    """The path the routes see: without the root path (a proxy's prefix), as Starlette does."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def create_app(
    settings: Settings, services: Services, *, worker: WorkerRunner | None = None
) -> IntakeFront:
    """Build the HTTP app; `worker` is started and stopped with it and reported by /readyz."""
    cfg = IntakeConfig(
        writer=InboxWriter(services.store, settings.postgres_intake_commits),
        metrics=services.metrics,
        max_body_bytes=settings.max_body_bytes,
        webhook_secrets=settings.webhook_secrets(),
        automation_secrets=settings.automation_secrets(),
        clock=services.store.clock,
    )
    jira_auth = jira_authenticator(cfg)
    automation_auth = automation_authenticator(cfg)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything long-lived exists now: move it out of the collector's sight, so that
        # full collections stay short (they caused 50+ ms tail latency on the intake).
        gc.collect()
        gc.freeze()
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(title="uzibot", lifespan=lifespan, docs_url=None, redoc_url=None)

    async def jira_webhook(scope: Scope, receive_message: Receive) -> Answer:
        return await receive(scope, receive_message, cfg, "jira", jira_auth, CHECKS["jira"])

    async def automation_webhook(scope: Scope, receive_message: Receive) -> Answer:
        check = CHECKS["automation"]
        return await receive(scope, receive_message, cfg, "automation", automation_auth, check)

    add_health_routes(app, services, worker)

    worker_metrics = getattr(worker, "metrics_text", None)

    @app.get("/metrics")
    async def metrics() -> Response:
        if callable(worker_metrics):  # the worker's families come from its own process
            body = services.metrics.render(lambda name: name not in WORKER_FAMILIES)
            body += worker_metrics()
        else:
            body = services.metrics.render()
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return IntakeFront(
        app, {"/webhooks/jira": jira_webhook, "/webhooks/automation": automation_webhook}
    )


def add_health_routes(app: FastAPI, services: Services, worker: WorkerRunner | None) -> None:
    """`/healthz` (the process answers) and `/readyz` (store reachable, worker looping)."""

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        store_ok = services.store.ping()
        worker_ok = worker.is_alive() if worker is not None else True
        status = 200 if store_ok and worker_ok else 503
        return JSONResponse({"store": store_ok, "worker": worker_ok}, status_code=status)


def create_health_app(services: Services, worker: WorkerRunner | None = None) -> FastAPI:
    """Only the probes, for `HEALTH_PORT`: reachable while the webhook port is flooded.

    It has no lifespan of its own: the webhook app starts and stops the worker.
    """
    app = FastAPI(title="uzibot health", docs_url=None, redoc_url=None, openapi_url=None)
    add_health_routes(app, services, worker)
    return app
