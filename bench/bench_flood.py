"""Hostile clients against `uzibot serve` on 127.0.0.1: idle floods, huge headers (prints figures).

Run: python bench/bench_flood.py [--idle 1100] [--nofile 1024]
Starts `uzibot serve` (SQLite, a Jira URL nobody answers, HEALTH_PORT set) with its descriptor
limit lowered to --nofile, then, each step bounded in time and stopping by itself:
1. opens --idle connections that send half a request and stall, and probes /healthz on the
   webhook port and on the health port while they are held; reports how long the server keeps
   the stalled connections;
2. sends one never-ending header (up to 256 MiB) and reports how much was sent before the
   server refused it, and the server's memory;
3. holds five such headers open at once and reports the server's memory.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(port: int, timeout: float = 3.0) -> tuple[str, float]:
    """GET /healthz: (status or error, seconds)."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
        status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "no answer"
    except OSError as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - started


def start_server(port: int, health_port: int, nofile: int, db: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JIRA_URL": "http://127.0.0.1:9",
        "JIRA_USER": "bench@example.com",
        "JIRA_API_TOKEN": "bench-token-0123",
        "WEBHOOK_SECRET": "bench-secret-0123456789",
        "SERVICE_DESK_PROJECT": "UZO",
        "BOT_ACCOUNT_ID": "bench-bot",
        "DATABASE_URL": f"sqlite:///{db}",
        "PORT": str(port),
        "HEALTH_PORT": str(health_port),
        "LOG_LEVEL": "ERROR",
    }

    def limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))

    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        preexec_fn=limit,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if probe(port, 0.5)[0] == "200":
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("uzibot serve did not start")


def idle_flood(port: int, health_port: int, count: int) -> None:
    socks: list[socket.socket] = []
    opened = failed = 0
    started = time.perf_counter()
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nContent-Le")
            socks.append(sock)
            opened += 1
        except OSError:
            failed += 1
    print(
        f"idle flood: {opened} half-sent connections opened, {failed} failed to open, "
        f"in {time.perf_counter() - started:.2f} s"
    )
    for name, p in (("webhook port", port), ("health port", health_port)):
        results = [probe(p) for _ in range(20)]
        ok = sum(1 for s, _ in results if s == "200")
        codes = sorted({s for s, _ in results})
        worst = max(t for _, t in results) * 1000
        print(
            f"  /healthz on the {name} during the flood: {ok}/20 answered 200 "
            f"(answers {codes}), slowest {worst:.0f} ms"
        )
    # How long the server keeps a stalled connection: wait (20 s at most) until it closes them.
    closed_at: list[float] = []
    waiting = selectors.DefaultSelector()
    for sock in socks:
        waiting.register(sock, selectors.EVENT_READ)
    deadline = time.perf_counter() + 20
    while waiting.get_map() and time.perf_counter() < deadline:
        for key, _ in waiting.select(timeout=max(0.0, deadline - time.perf_counter())):
            waiting.unregister(key.fileobj)
            closed_at.append(time.perf_counter() - started)
    for sock in socks:
        sock.close()
    print(
        f"  the server closed {len(closed_at)}/{opened} stalled connections within 20 s"
        + (f", the last {max(closed_at):.1f} s after the flood began" if closed_at else "")
    )
    status, seconds = probe(port)
    print(f"  /healthz on the webhook port after the flood: {status} in {seconds * 1000:.0f} ms")


def huge_header(port: int, pid: int, limit: int = 256 * 1024 * 1024) -> None:
    before = rss_mib(pid)
    sent = 0
    chunk = b"a" * (1024 * 1024)
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            while sent < limit and time.perf_counter() - started < 20:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        seconds = time.perf_counter() - started
        peak = rss_mib(pid)  # while the connection is still open
        try:
            sock.settimeout(2)
            answer = sock.recv(64)
        except OSError as exc:
            answer = type(exc).__name__.encode()
    print(
        f"huge header: stopped after {sent / 1024 / 1024:.0f} MiB sent (at most "
        f"{limit // 1024 // 1024} MiB or 20 s) in {seconds:.2f} s; answer "
        f"{answer[:12]!r}; server RSS {before:.0f} -> {peak:.0f} MiB"
    )


def five_big_headers(port: int, pid: int) -> None:
    before = rss_mib(pid)
    socks = []
    sent = [0] * 5
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        sock.sendall(b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\nX-Big: ")
        socks.append(sock)
    chunk = b"a" * (1024 * 1024)
    started = time.perf_counter()
    for _round in range(100):  # up to 100 MiB each, for at most 20 s
        if time.perf_counter() - started > 20:
            break
        for i, sock in enumerate(socks):
            if sent[i] < 0:
                continue
            try:
                sock.sendall(chunk)
                sent[i] += len(chunk)
            except OSError:
                sent[i] = -sent[i] - 1
        if all(s < 0 for s in sent):
            break
    peak = rss_mib(pid)
    for sock in socks:
        sock.close()
    refused = sum(1 for s in sent if s < 0)
    print(
        f"five never-ending headers: {refused}/5 cut off (refused, or no longer read); "
        f"server RSS {before:.0f} -> "
        f"{peak:.0f} MiB while they were held"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle + 200)), hard))
    port, health_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(port, health_port, args.nofile, Path(tmp) / "flood.db")
        try:
            print(
                f"uzibot serve pid {proc.pid}, descriptor limit {args.nofile}, "
                f"RSS {rss_mib(proc.pid):.0f} MiB"
            )
            idle_flood(port, health_port, args.idle)
            huge_header(port, proc.pid)
            five_big_headers(port, proc.pid)
            print(f"server still up: /healthz {probe(port)[0]}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
