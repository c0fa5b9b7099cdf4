"""A small synchronous client that calls the ASGI app in-process through httpx."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
from starlette.types import ASGIApp


class AppClient:
    """`post`/`get` against the real app without a server (no lifespan, like a bare client)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def post(
        self, path: str, *, content: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return asyncio.run(self._send("POST", path, content, headers))

    def get(self, path: str) -> httpx.Response:
        return asyncio.run(self._send("GET", path, b"", None))

    async def _send(
        self, method: str, path: str, content: bytes, headers: Mapping[str, str] | None
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://uzibot") as client:
            return await client.request(method, path, content=content, headers=headers)
