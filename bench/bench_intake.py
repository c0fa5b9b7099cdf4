"""Webhook intake throughput and latency vs a bare endpoint of the same framework (prints figures).

Run: .venv/bin/python bench/bench_intake.py [--seconds 10] [--connections 32]
Needs `wrk` (Debian package `wrk`). Each request is a signed ~5 KB Jira webhook with a distinct
X-Atlassian-Webhook-Identifier, so every one is a new delivery stored in SQLite (WAL).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789"  # noqa: S105 - a throwaway benchmark secret


def payload_5kb() -> bytes:
    """A real-shaped jira:issue_created envelope padded to about 5 KB with a description."""
    fixture = {
        "timestamp": 1795852800000,
        "webhookEvent": "jira:issue_created",
        "issue_event_type_name": "issue_created",
        "user": {"accountId": "qm:bench-customer", "accountType": "customer"},
        "issue": {
            "id": "10001",
            "key": "UZO-1",
            "fields": {
                "project": {"key": "UZO"},
                "issuetype": {"name": "Service Request", "subtask": False},
                "summary": "Ons abonneenummer is gewijzigd",
                "description": "",
                "customfield_10010": {"requestType": {"id": "102", "name": "Abonneenummer"}},
            },
        },
        "changelog": {"id": "1", "items": []},
    }
    base = len(json.dumps(fixture).encode())
    fixture["issue"]["fields"]["description"] = "Wij zijn verhuisd. " * ((5120 - base) // 18)
    return json.dumps(fixture).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


# Delivery ids are "<run tag>-<counter>": each wrk run (warm-up, measurement) gets its own tag,
# so no id repeats across runs. (The old script reused its warm-up's ids: math.random is not
# seeded in wrk, so every run drew the same sequence and a quarter of the measured requests
# were cheap duplicate answers.)
LUA = """
counter = 0
local body = io.open("{body}", "rb"):read("*a")
local tag = "{tag}"
request = function()
  counter = counter + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["X-Hub-Signature"] = "{sig}"
  headers["X-Atlassian-Webhook-Identifier"] = tag .. "-" .. counter
  return wrk.format("POST", "/webhooks/jira", headers, body)
end
"""


def run_wrk(port: int, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/webhooks/jira",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"\s+(50|99)%\s+([\d.]+\w+)", out)}
    return {
        "rps": rps,
        "total": total,
        "p50": lat.get("50", 0.0),
        "p99": lat.get("99", 0.0),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def serve(factory: str, port: int, env: dict[str, str], http: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"bench.intake_server:{factory}",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--http",
            http,
        ],
        cwd=ROOT,
        env=env,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--http",
        default="auto",
        help="uvicorn protocol for both servers; bot.server:LimitedHttpTools is `uzibot serve`'s",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)")
        return 2
    sys.path.insert(0, str(ROOT))
    from bot.signature import sign

    work = Path(tempfile.mkdtemp(prefix="uzibot-bench-"))
    body = payload_5kb()
    (work / "body.json").write_bytes(body)
    sig = sign(body, SECRET.encode())
    db = work / "inbox.db"
    env = dict(
        os.environ,
        JIRA_URL="https://bench.atlassian.net",
        JIRA_USER="bench@example.org",
        JIRA_API_TOKEN="bench-token-123",  # noqa: S106 - never used: intake only
        WEBHOOK_SECRET=f"{SECRET},older-secret",
        SERVICE_DESK_PROJECT="UZO",
        DATABASE_URL=f"sqlite:///{db}",
        BOT_ACCOUNT_ID="557058:bench",
    )
    results = {}
    for name, factory in (("bare endpoint", "bare_app"), ("uzibot intake", "real_app")):
        warm, measure = work / f"{factory}-warm.lua", work / f"{factory}.lua"
        for script, tag in ((warm, f"warm-{factory}"), (measure, f"run-{factory}")):
            script.write_text(LUA.format(body=work / "body.json", sig=sig, tag=tag))
        port = free_port()
        proc = serve(factory, port, env, args.http)
        try:
            wait_up(port)
            run_wrk(port, warm, 2, args.connections)
            results[name] = run_wrk(port, measure, args.seconds, args.connections)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    stored = sqlite3.connect(db).execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    print(
        f"payload {len(body)} bytes, {args.connections} connections, {args.seconds} s, "
        f"wrk -t1, server: 1 uvicorn process (--http {args.http}), "
        f"{os.cpu_count()} cores shared with wrk"
    )
    print(f"{'':16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in results.items():
        print(f"{name:16}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['errors']:>10.0f}")
    ratio = results["uzibot intake"]["rps"] / results["bare endpoint"]["rps"]
    print(f"ratio intake/bare: {ratio:.2f}; deliveries stored in SQLite: {stored}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
