"""Server factories for the intake benchmark: the real intake, and a bare endpoint to compare."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

if TYPE_CHECKING:
    from bot.app import IntakeFront


def real_app() -> IntakeFront:
    """The real app from the environment's settings, without the worker (intake only)."""
    from bot.app import create_app
    from bot.settings import load_settings
    from bot.wiring import build_services

    settings = load_settings()
    return create_app(settings, build_services(settings))


def bare_app() -> FastAPI:
    """The same framework answering 202 after reading the body: no auth, no parse, no store."""
    app = FastAPI()

    @app.post("/webhooks/jira")
    async def accept(request: Request) -> Response:
        await request.body()
        return JSONResponse({"status": "accepted"}, status_code=202)

    return app


class ThreadWorker:
    """The layout before issue 10: the worker as a thread in the intake's process."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=worker.run_forever, args=(self.stopping,), name="uzibot-worker", daemon=True
        )

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop it (bounded)."""
        self.stopping.set()
        self.thread.join(timeout=10)

    def is_alive(self) -> bool:
        """The worker's own liveness."""
        return bool(self.worker.is_alive())


def thread_worker_app() -> IntakeFront:
    """The real app with the worker as a thread beside the event loop (the old `serve`)."""
    from bot.app import create_app
    from bot.settings import load_settings
    from bot.wiring import build_services

    settings = load_settings()
    services = build_services(settings)
    return create_app(settings, services, worker=ThreadWorker(services.worker))
