"""The limits `uzibot serve` puts on its ports, against the real app on 127.0.0.1 sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.app import create_health_app
from bot.server import ServerLimits, build_servers, run_servers
from bot.signature import sign
from tests.fakejira import FakeJira
from tests.harness import NEW_SECRET, load_fixture, make_harness

LIMITS = ServerLimits(
    max_header_bytes=16 * 1024,
    max_headers=40,
    header_timeout=0.5,
    request_timeout=1.0,
    keep_alive=1,
    max_connections=8,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(fake: FakeJira, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """The real app (and the health app) served with LIMITS in a thread; yields the ports."""
    h = make_harness(fake, tmp_path)
    port, health_port = _free_port(), _free_port()
    health = create_health_app(h.services)
    servers = build_servers(h.app, "127.0.0.1", port, LIMITS, health, health_port)
    thread = threading.Thread(target=asyncio.run, args=(run_servers(servers),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not all(s.started for s in servers):
        assert time.monotonic() < deadline, "servers did not start"
        time.sleep(0.02)
    try:
        yield port, health_port
    finally:
        servers[0].should_exit = True
        thread.join(timeout=10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or 5 s pass)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _get(port: int, path: str = "/healthz") -> bytes:
    with _connect(port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return _answer(sock)


def test_a_huge_header_is_refused_before_it_is_read_in_full(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    with running(fake_jira, tmp_path) as (port, _):
        with _connect(port) as sock:
            sock.sendall(b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nX-Big: ")
            sent = 0
            try:
                while sent < 10 * 1024 * 1024:  # never terminated: the server must not wait
                    sock.sendall(b"a" * 65536)
                    sent += 65536
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = _answer(sock)
        assert sent < 10 * 1024 * 1024
        assert answer.startswith(b"HTTP/1.1 431") or answer == b"", answer[:80]
        assert _get(port).startswith(b"HTTP/1.1 200")


def test_too_many_headers_get_431(fake_jira: FakeJira, tmp_path: Path) -> None:
    with running(fake_jira, tmp_path) as (port, _):
        with _connect(port) as sock:
            headers = "".join(f"X-H{i}: v\r\n" for i in range(LIMITS.max_headers + 5))
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
            assert _answer(sock).startswith(b"HTTP/1.1 431")
        with _connect(port) as sock:
            headers = "".join(f"X-H{i}: v\r\n" for i in range(LIMITS.max_headers - 5))
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "sent",
    [b"", b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\n", b"GET /healthz HTTP/1.1\r\nHo"],
    ids=["nothing", "half the headers", "half a header"],
)
def test_a_half_sent_request_is_closed_after_the_header_timeout(
    fake_jira: FakeJira, tmp_path: Path, sent: bytes
) -> None:
    with running(fake_jira, tmp_path) as (port, _):
        with _connect(port) as sock:
            sock.sendall(sent)
            started = time.monotonic()
            answer = _answer(sock)
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert LIMITS.header_timeout * 0.8 <= waited < LIMITS.header_timeout + 1.5


def test_a_body_that_stops_arriving_is_closed_after_the_request_timeout(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    with running(fake_jira, tmp_path) as (port, _):
        with _connect(port) as sock:
            sock.sendall(
                b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                b'Content-Type: application/json\r\n\r\n{"webhookEvent"'
            )
            started = time.monotonic()
            answer = _answer(sock)
            waited = time.monotonic() - started
        assert waited < LIMITS.request_timeout + 1.5
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer


def test_connections_beyond_the_cap_get_503_and_the_health_port_still_answers(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    with running(fake_jira, tmp_path) as (port, health_port):
        idle = [_connect(port) for _ in range(LIMITS.max_connections)]
        try:
            time.sleep(0.1)
            started = time.monotonic()
            refused = _get(port)
            assert refused.startswith(b"HTTP/1.1 503"), refused
            assert time.monotonic() - started < 0.5  # an answer, not a hang
            assert b'{"status":"ok"}' in _get(health_port)
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.2)
        assert _get(port).startswith(b"HTTP/1.1 200")


def test_a_signed_delivery_still_goes_through_the_limited_server(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    with running(fake_jira, tmp_path) as (port, _):
        body = json.dumps(load_fixture("practice_change-abonneenummer-promedico")).encode()
        head = (
            "POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature: {sign(body, NEW_SECRET.encode())}\r\n"
            "X-Atlassian-Webhook-Identifier: via-socket\r\nConnection: close\r\n\r\n"
        )
        with _connect(port) as sock:
            sock.sendall(head.encode() + body)
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
