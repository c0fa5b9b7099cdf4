"""The in-memory Jira sandbox over real HTTP on loopback, for benchmarks of `uzibot serve`.

Run: python -m bench.jira_server --port P [--latency SECONDS] [--seed FILE] [--write-limit N]
`--seed` names a file of webhook bodies (one JSON per line, or `signature<TAB>json`) whose
issues are created first, as the portal would have. `--latency` delays every answer.
`--write-limit N` answers writes beyond N per second with 429 (Retry-After: 1), as Jira's
burst limit does; GET /bench/limits tells how many writes were accepted and refused.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from bot.sandbox.site import DEFAULT_BOT_ACCOUNT, JiraSandbox

MAX_BODY = 8 * 1024 * 1024


class WriteLimit:
    """Jira's burst limit as a token bucket: `rate` writes per second, `rate` at once at most.

    A write over the limit gets 429 with Retry-After: 1 and changes nothing; `refused` counts
    them (answered at GET /bench/limits).
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
    sandbox: JiraSandbox, latency: float, limit: WriteLimit | None = None
) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering every request from `sandbox`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _answer(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length) if length else None
            if self.path == "/bench/limits" and limit is not None:
                counts = {"accepted": limit.accepted, "refused": limit.refused}
                self._send(200, json.dumps(counts).encode(), {"Content-Type": "application/json"})
                return
            if limit is not None and self.command != "GET" and not limit.take():
                self._send(429, b'{"errorMessages":["rate limited"]}', {"Retry-After": "1"})
                return
            if latency:
                time.sleep(latency)
            url = sandbox.base_url + self.path
            try:
                answer = sandbox.handle(self.command, url, dict(self.headers.items()), body)
            except requests.RequestException:
                self.close_connection = True
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a benchmark prints figures, not access logs."""

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--seed", default=None)
    parser.add_argument(
        "--write-limit", type=float, default=0.0, help="writes per second, else 429 (0: none)"
    )
    args = parser.parse_args()
    limit = WriteLimit(args.write_limit) if args.write_limit > 0 else None
    sandbox = JiraSandbox(f"http://127.0.0.1:{args.port}", bot_account_id=DEFAULT_BOT_ACCOUNT)
    if args.seed:
        for line in Path(args.seed).read_text().splitlines():
            payload = json.loads(line.split("\t", 1)[-1])
            if payload["issue"]["key"] not in sandbox.issues:
                sandbox.seed_issue_from_webhook(payload["issue"])
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), make_handler(sandbox, args.latency, limit)
    )
    server.daemon_threads = True
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
