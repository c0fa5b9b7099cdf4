"""How `uzibot serve` runs uvicorn: bounded headers, read timeouts, connection cap, health port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.settings import Settings

log = logging.getLogger("uzibot.server")

_RESERVED_DESCRIPTORS = 64
"""Descriptors kept free for the database, the Jira client, logs and the health port."""


@dataclass(frozen=True)
class ServerLimits:
    """What one listening port allows a client (a stranger) to hold."""

    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    request_timeout: float = 30.0
    keep_alive: int = 5
    max_connections: int = 900


def server_limits(settings: Settings) -> ServerLimits:
    """The webhook port's limits from the settings."""
    return ServerLimits(
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        header_timeout=settings.header_timeout_seconds,
        request_timeout=settings.request_timeout_seconds,
        keep_alive=settings.keep_alive_seconds,
        max_connections=settings.max_connections,
    )


def _response(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds a public port needs.

    - the request line plus headers may hold `max_header_bytes` and `max_headers` (431 beyond;
      counted as bytes arrive, so a huge header is refused before it is buffered);
    - a request must have sent its headers `header_timeout` seconds after the connection
      opened (or after its first byte on a kept-alive connection), and all of its body
      `request_timeout` seconds after its first byte (408 and close; no slowloris);
    - beyond `max_connections` open connections a new one is answered 503 and closed at once,
      so descriptors never run out and nobody waits on a hung accept.
    """

    limits: ClassVar[ServerLimits] = ServerLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_headers = True
        self._header_bytes = 0
        self._header_count = 0
        self._refusal: bytes | None = None

    # -- connection ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("refused a connection: %d open", len(self.connections) - 1)
            transport.write(_response(503, "Service Unavailable", "too many connections\n"))
            transport.close()
            return
        self._arm(self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_headers and self.parser is not None and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._refuse(431, "Request Header Fields Too Large", "headers too large")

    # -- parser callbacks ----------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._header_count = 0
        if self._deadline is None:  # a kept-alive connection's next request
            self._arm(self.limits.header_timeout)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            self._refusal = _response(431, "Request Header Fields Too Large", "too many headers\n")
            raise ValueError("too many headers")  # httptools stops; send_400_response answers
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        self._arm(self.limits.request_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
            return
        log.warning("refused a request: %s", self._refusal.rsplit(b"\n", 2)[-2].decode())
        self.transport.write(self._refusal)
        self.transport.close()

    # -- deadlines -----------------------------------------------------------------------
    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self._refuse(408, "Request Timeout", "request not received in time")
        else:
            self.transport.close()

    def _refuse(self, status: int, reason: str, why: str) -> None:
        log.warning("refused a request with %d: %s", status, why)
        self.transport.write(_response(status, reason, why + "\n"))
        self.transport.close()


def protocol_for(limits: ServerLimits) -> type[LimitedHttpTools]:
    """A protocol class bound to these limits (uvicorn instantiates it per connection)."""
    return type("LimitedHttpTools", (LimitedHttpTools,), {"limits": limits})


def descriptor_bound(wanted: int) -> int:
    """`wanted`, lowered so open connections stay below the process's descriptor limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - _RESERVED_DESCRIPTORS))


def uvicorn_config(app: Any, host: str, port: int, limits: ServerLimits, **extra: Any) -> Any:
    """A uvicorn Config that uses the limited protocol and these limits."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_for(limits),
        timeout_keep_alive=limits.keep_alive,
        # log_config=None: uvicorn's lines go through the root handler (uzibot's JSON lines).
        **{"log_level": "info", "log_config": None, **extra},
    )


class _QuietServer(uvicorn.Server):
    """The health server: the main server owns the signals; this one stops when it does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_servers(
    app: Any,
    host: str,
    port: int,
    limits: ServerLimits,
    health_app: Any | None = None,
    health_port: int | None = None,
    **uvicorn_options: Any,
) -> list[uvicorn.Server]:
    """The webhook server, then (when given) the health server on its own port."""
    bounded = ServerLimits(
        **{**limits.__dict__, "max_connections": descriptor_bound(limits.max_connections)}
    )
    if bounded.max_connections < limits.max_connections:
        log.warning("MAX_CONNECTIONS lowered to %d (descriptor limit)", bounded.max_connections)
    servers = [uvicorn.Server(uvicorn_config(app, host, port, bounded, **uvicorn_options))]
    if health_app is not None and health_port is not None:
        config = uvicorn_config(health_app, host, health_port, PROBE_LIMITS, lifespan="off")
        servers.append(_QuietServer(config))
    return servers


PROBE_LIMITS = ServerLimits(
    max_header_bytes=8 * 1024,
    max_headers=50,
    header_timeout=2.0,
    request_timeout=2.0,
    keep_alive=2,
    max_connections=32,
)
"""The health port's limits: only probes use it, so a small pool with short timeouts."""


async def run_servers(servers: list[uvicorn.Server]) -> None:
    """Serve until the first server stops (a signal); the others stop with it."""
    main, *others = servers
    tasks = [asyncio.create_task(s.serve()) for s in others]
    try:
        await main.serve()
    finally:
        for other in others:
            other.should_exit = True
        await asyncio.gather(*tasks)
