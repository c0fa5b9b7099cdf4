"""`uzibot serve` as shipped, worker live and processing, next to a bare endpoint (prints figures).

Run: python bench/bench_serve.py [--seconds 10] [--connections 8,32] [--requests 300]
     [--with-thread-layout] [--database-url postgresql://...]
Needs `wrk`. Everything on loopback: a sandbox Jira over HTTP (bench/jira_server.py) seeded
with `--requests` distinct portal requests; signed ~9 KB `jira:issue_created` deliveries for
them, round robin, each with a delivery id used once (a tag per wrk run plus a counter). For
each connection count, in one run: the bare endpoint, then `uzibot serve` (fresh database),
whose worker creates cases in the sandbox while the load runs. `--with-thread-layout` adds
the old layout (worker as a thread in the intake process) for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789"  # noqa: S105 - a throwaway benchmark secret
FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "practice_change-abonneenummer-promedico.json"

LUA = """
local sigs, bodies = {{}}, {{}}
for line in io.lines("{bodies}") do
  local tab = line:find("\\t", 1, true)
  sigs[#sigs + 1] = line:sub(1, tab - 1)
  bodies[#bodies + 1] = line:sub(tab + 1)
end
local counter = 0
local tag = "{tag}"
request = function()
  counter = counter + 1
  local i = (counter % #bodies) + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["X-Hub-Signature"] = sigs[i]
  headers["X-Atlassian-Webhook-Identifier"] = tag .. "-" .. counter
  return wrk.format("POST", "/webhooks/jira", headers, bodies[i])
end
"""


def write_bodies(path: Path, count: int) -> int:
    """`count` signed deliveries, one distinct portal request each; returns the body size."""
    from bot.signature import sign

    base = json.loads(FIXTURE.read_text())
    size = 0
    with path.open("w") as out:
        for i in range(count):
            payload = json.loads(json.dumps(base))
            payload["issue"]["key"] = f"UZO-{5000 + i}"
            payload["issue"]["id"] = str(95000 + i)
            body = json.dumps(payload).encode()
            size = len(body)
            out.write(f"{sign(body, SECRET.encode())}\t{body.decode()}\n")
    return size


def start(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def start_jira(seed: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The sandbox Jira over HTTP (bench/jira_server.py) seeded with `seed`, and its port."""
    from bench.bench_intake import free_port

    port = free_port()
    cmd = [sys.executable, "-m", "bench.jira_server", "--port", str(port), "--seed", str(seed)]
    return start(cmd, dict(os.environ, PYTHONPATH=str(ROOT)), ROOT), port


def counts(url: str) -> dict[str, int]:
    from bot.inbox.db import open_store

    store = open_store(url)
    try:
        return store.counts()
    finally:
        store.close()


def bot_env(jira_port: int, database_url: str) -> dict[str, str]:
    """The environment of a `uzibot` process against the bench's Jira on `jira_port`."""
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        JIRA_URL=f"http://127.0.0.1:{jira_port}",
        JIRA_USER="bench@example.org",
        JIRA_API_TOKEN="bench-token-123",  # noqa: S106 - the sandbox's
        WEBHOOK_SECRET=SECRET,
        SERVICE_DESK_PROJECT="UZO",
        DATABASE_URL=database_url,
        BOT_ACCOUNT_ID="557058:bench-bot",
    )


def fresh_url(args: argparse.Namespace, work: Path, name: str) -> str:
    if not args.database_url:
        return f"sqlite:///{work / name}.db"
    import psycopg

    admin = args.database_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "bench_{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "bench_{name}"')
    return admin.rsplit("/", 1)[0] + f"/bench_{name}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="8,32")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--with-thread-layout", action="store_true")
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE for the bot")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)")
        return 2
    sys.path.insert(0, str(ROOT))
    from bench.bench_intake import free_port, run_wrk, wait_up

    work = Path(tempfile.mkdtemp(prefix="uzibot-bench-serve-"))
    bodies = work / "bodies.tsv"
    size = write_bodies(bodies, args.requests)
    jira, jira_port = start_jira(bodies)
    layouts: list[tuple[str, list[str]]] = [
        ("bare endpoint", ["-m", "uvicorn", "bench.intake_server:bare_app", "--factory"]),
        ("uzibot serve", ["-m", "bot.cli.main", "serve", "--host", "127.0.0.1"]),
    ]
    if args.with_thread_layout:
        layouts.append(
            (
                "worker thread",
                ["-m", "uvicorn", "bench.intake_server:thread_worker_app", "--factory"],
            )
        )
    rows: list[tuple[int, str, dict[str, Any]]] = []
    try:
        wait_up(jira_port)
        for conns in [int(c) for c in args.connections.split(",")]:
            for name, cmd in layouts:
                slug = f"{name.split()[0]}-{conns}"
                url = fresh_url(args, work, slug.replace("-", "_"))
                env = bot_env(jira_port, url)
                env.update(item.split("=", 1) for item in args.set)
                port = free_port()
                extra = ["--port", str(port)]
                if "uvicorn" in cmd:
                    extra += ["--log-level", "warning", "--no-access-log"]
                proc = start([sys.executable, *cmd, *extra], env, work)
                try:
                    wait_up(port)
                    time.sleep(3 if name != "bare endpoint" else 0.5)  # the worker starts
                    scripts = {}
                    for phase in ("warm", "run"):
                        scripts[phase] = work / f"{slug}-{phase}.lua"
                        scripts[phase].write_text(
                            LUA.format(bodies=bodies, tag=f"{phase}-{slug}-{time.time_ns()}")
                        )
                    run_wrk(port, scripts["warm"], 2, conns)
                    before = counts(url) if name != "bare endpoint" else {}
                    result = run_wrk(port, scripts["run"], args.seconds, conns)
                    after = counts(url) if name != "bare endpoint" else {}
                finally:
                    stop(proc)
                finished = sum(v for k, v in after.items() if k in ("done", "failed"))
                finished -= sum(v for k, v in before.items() if k in ("done", "failed"))
                result["processed"] = finished if name != "bare endpoint" else None
                result["stored"] = sum(after.values()) if after else None
                result["failed"] = after.get("failed", 0) if after else None
                rows.append((conns, name, result))
    finally:
        stop(jira)
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{db}; {args.requests} distinct requests of {size} bytes, round robin, every delivery "
        f"id used once; wrk -t1, {args.seconds} s after a 2 s warm-up; {os.cpu_count()} cores "
        "shared by wrk, the server(s) and the sandbox Jira"
    )
    head = f"{'conns':>5} {'layout':15}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'non2xx':>7}"
    print(head + f"{'ratio':>7}{'processed':>10}{'failed':>7}")
    bare: dict[int, float] = {}
    for conns, name, r in rows:
        if name == "bare endpoint":
            bare[conns] = r["rps"]
        ratio = r["rps"] / bare[conns] if bare.get(conns) else 0.0
        processed = "" if r["processed"] is None else str(r["processed"])
        failed = "" if r["failed"] is None else str(r["failed"])
        print(
            f"{conns:>5} {name:15}{r['rps']:>8.0f}{r['p50']:>8.2f}{r['p99']:>8.2f}"
            f"{r['errors']:>7}{ratio:>7.2f}{processed:>10}{failed:>7}"
        )
    print("processed: deliveries the worker finished during the measured seconds")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
