"""Server factories for the intake benchmark: the real intake, and a bare endpoint to compare."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def real_app() -> FastAPI:
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
