"""The in-memory Jira sandbox over real HTTP on loopback, for benchmarks and the chaos test.

Run: python -m bench.jira_server --port P [--latency SECONDS] [--jitter SECONDS] [--seed FILE]
     [--error-rate R] [--lost-rate R] [--fault-seed N] [--write-limit N]
`--seed` names a file of webhook bodies (one JSON per line, or `signature<TAB>json`) whose
issues are created first, as the portal would have. `--latency` delays every answer, plus a
uniform random `--jitter`. Fault injection (off by default): `--error-rate` answers that share
of calls with 429 (Retry-After 1) or 503, half each, without applying them; `--lost-rate`
applies that share and then drops the connection without an answer. `--write-limit N`
answers writes beyond N per second with 429 (Retry-After: 1), as Jira's burst limit does.

Test-only endpoints under /__fake/ (never Jira paths, never faulted):
- GET /__fake/state: read-only counts (calls, faults by kind) and, for each seeded request,
  what a person would count in Jira: linked cases, sub-task summaries, public and internal
  comments;
- POST /__fake/storm?seconds=N&retry_after=S: every Jira call answers 429 for N seconds;
- GET /__fake/limits: writes accepted and refused under `--write-limit`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from bot.sandbox.site import DEFAULT_BOT_ACCOUNT, JiraSandbox

MAX_BODY = 8 * 1024 * 1024
CONTROL = "/__fake/"
MAX_STORM_SECONDS = 120.0


class Chaos:
    """Which fault, if any, the next Jira call gets; counts what it injected (thread-safe)."""

    def __init__(self, error_rate: float, lost_rate: float, seed: int | None) -> None:
        self.error_rate = error_rate
        self.lost_rate = lost_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.faults: Counter[str] = Counter()
        self.calls = 0
        self.storm_until = 0.0
        self.storm_retry_after = 1.0

    def draw(self) -> str | None:
        """None, "429", "503", "storm" (a 429 of the storm) or "lost"."""
        with self.lock:
            self.calls += 1
            if time.monotonic() < self.storm_until:
                kind: str | None = "storm"
            else:
                draw = self.rng.random()
                if draw < self.error_rate:
                    kind = "429" if draw < self.error_rate / 2 else "503"
                elif draw < self.error_rate + self.lost_rate:
                    kind = "lost"
                else:
                    kind = None
            if kind is not None:
                self.faults[kind] += 1
            return kind

    def storm(self, seconds: float, retry_after: float) -> None:
        """Answer every call with 429 for the next `seconds`."""
        with self.lock:
            self.storm_until = time.monotonic() + min(seconds, MAX_STORM_SECONDS)
            self.storm_retry_after = retry_after


def request_state(sandbox: JiraSandbox, key: str) -> dict[str, Any]:
    """What a person looking at Jira would count for one portal request."""
    links = sandbox.links(key)
    cases = [lk.source if lk.target == key else lk.target for lk in links]
    subtasks = [sandbox.issue(s).fields["summary"] for c in cases for s in sandbox.subtasks(c)]
    return {
        "cases": len(cases),
        "subtasks": sorted(subtasks),
        "public": len(sandbox.comments(key, public=True)),
        "internal": len(sandbox.comments(key, public=False)),
    }


class WriteLimit:
    """Jira's burst limit as a token bucket: `rate` writes per second, `rate` at once at most.

    A write over the limit gets 429 with Retry-After: 1 and changes nothing; `refused` counts
    them (answered at GET /__fake/limits).
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()
        self.lock = threading.Lock()
        self.accepted = 0
        self.refused = 0

    def take(self) -> bool:
        """True when a write may go through now."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                self.accepted += 1
                return True
            self.refused += 1
            return False


def make_handler(
    sandbox: JiraSandbox,
    latency: float,
    *,
    jitter: float = 0.0,
    chaos: Chaos | None = None,
    seeded: list[str] | None = None,
    limit: WriteLimit | None = None,
) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering every request from `sandbox`."""
    wait = random.Random(0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _control(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if self.command == "GET" and parts.path == CONTROL + "state":
                with sandbox._lock:  # a consistent picture while workers write
                    state = {
                        "calls": chaos.calls if chaos else len(sandbox.request_log),
                        "faults": dict(chaos.faults) if chaos else {},
                        "requests": {k: request_state(sandbox, k) for k in seeded or []},
                    }
                body = json.dumps(state).encode()
                self._send(200, {"Content-Type": "application/json"}, body)
            elif self.command == "GET" and parts.path == CONTROL + "limits" and limit:
                counts = {"accepted": limit.accepted, "refused": limit.refused}
                self._send(200, {"Content-Type": "application/json"}, json.dumps(counts).encode())
            elif self.command == "POST" and parts.path == CONTROL + "storm" and chaos:
                seconds = float(query.get("seconds", ["10"])[0])
                retry_after = float(query.get("retry_after", ["1"])[0])
                chaos.storm(seconds, retry_after)
                self._send(204, {}, b"")
            else:
                self._send(404, {}, b"")

        def _answer(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length) if length else None
            if self.path.startswith(CONTROL):
                self._control()
                return
            if limit is not None and self.command != "GET" and not limit.take():
                message = {"errorMessages": ["Rate limit exceeded."]}
                headers = {"Content-Type": "application/json", "Retry-After": "1"}
                self._send(429, headers, json.dumps(message).encode())
                return
            if latency or jitter:
                time.sleep(latency + (wait.uniform(0, jitter) if jitter else 0.0))
            fault = chaos.draw() if chaos else None
            if fault in ("429", "storm", "503"):
                retry_after = chaos.storm_retry_after if chaos and fault == "storm" else 1.0
                status = 503 if fault == "503" else 429
                headers = {"Content-Type": "application/json"}
                if status == 429:
                    headers["Retry-After"] = f"{retry_after:g}"
                message = {"errorMessages": ["Rate limit exceeded." if status == 429 else "Down"]}
                self._send(status, headers, json.dumps(message).encode())
                return
            url = sandbox.base_url + self.path
            try:
                answer = sandbox.handle(self.command, url, dict(self.headers.items()), body)
            except requests.RequestException:
                self.close_connection = True
                return
            if fault == "lost":  # applied, but the client never hears of it
                self.close_connection = True
                return
            self._send(answer.status, dict(answer.headers), answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a benchmark prints figures, not access logs."""

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--seed", default=None)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--lost-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=None)
    parser.add_argument(
        "--write-limit", type=float, default=0.0, help="writes per second, else 429 (0: none)"
    )
    args = parser.parse_args()
    limit = WriteLimit(args.write_limit) if args.write_limit > 0 else None
    sandbox = JiraSandbox(f"http://127.0.0.1:{args.port}", bot_account_id=DEFAULT_BOT_ACCOUNT)
    seeded: list[str] = []
    if args.seed:
        for line in Path(args.seed).read_text().splitlines():
            payload = json.loads(line.split("\t", 1)[-1])
            if payload["issue"]["key"] not in sandbox.issues:
                sandbox.seed_issue_from_webhook(payload["issue"])
                seeded.append(payload["issue"]["key"])
    chaos = Chaos(args.error_rate, args.lost_rate, args.fault_seed)
    handler = make_handler(
        sandbox, args.latency, jitter=args.jitter, chaos=chaos, seeded=seeded, limit=limit
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
