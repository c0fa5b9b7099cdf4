"""The in-memory Jira sandbox over real HTTP on loopback, for benchmarks of `uzibot serve`.

Run: python -m bench.jira_server --port P [--latency SECONDS] [--seed FILE]
`--seed` names a file of webhook bodies (one JSON per line, or `signature<TAB>json`) whose
issues are created first, as the portal would have. `--latency` delays every answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from bot.sandbox.site import DEFAULT_BOT_ACCOUNT, JiraSandbox

MAX_BODY = 8 * 1024 * 1024


def make_handler(sandbox: JiraSandbox, latency: float) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering every request from `sandbox`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length) if length else None
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
    args = parser.parse_args()
    sandbox = JiraSandbox(f"http://127.0.0.1:{args.port}", bot_account_id=DEFAULT_BOT_ACCOUNT)
    if args.seed:
        for line in Path(args.seed).read_text().splitlines():
            payload = json.loads(line.split("\t", 1)[-1])
            if payload["issue"]["key"] not in sandbox.issues:
                sandbox.seed_issue_from_webhook(payload["issue"])
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(sandbox, args.latency))
    server.daemon_threads = True
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
