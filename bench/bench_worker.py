"""Draining a backlog of new cases through a Jira with latency: serial worker vs thread pool.

Run: python bench/bench_worker.py [--cases 500] [--latency 0.05] [--concurrency 1,8]
     [--write-limit 20]
A sandbox Jira over loopback HTTP (bench/jira_server.py) answers every request after
`--latency` seconds. `--cases` distinct portal requests are stored as due deliveries, then
one worker process (the real wiring: gateway, router, reconciler) drains them with
WORKER_CONCURRENCY threads. Prints the wall time, Jira requests per case and the ratio to
the serial bound (cases x requests per case x latency).

With `--write-limit N` the sandbox answers writes beyond N per second with 429 (as Jira's
burst limit does) and the worker's governor is set to JIRA_WRITES_PER_SECOND=N; the script
then also prints the writes, the 429s and the ratio to the rate bound (writes / N).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "practice_change-abonneenummer-promedico.json"


def distinct_practice(payload: dict[str, Any], i: int) -> None:
    """Make case `i` a practice of its own (abonneenummer, reporter): a new case, with no
    earlier case of the same practice to read back (that costs reads; see bench_lifecycle)."""
    fields = payload["issue"]["fields"]
    old, new = fields["customfield_10054"], fields["customfield_10055"]
    fields["customfield_10054"], fields["customfield_10055"] = f"{10000000 + i}", f"{20000000 + i}"
    fields["description"] = fields["description"].replace(new, f"{20000000 + i}")
    fields["description"] = fields["description"].replace(old, f"{10000000 + i}")
    fields["customfield_10051"] = f"{30000000 + i}"  # the mapped abonneenummer field
    fields["reporter"]["accountId"] = f"qm:bench-practice-{i}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--write-limit", type=float, default=0.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.bench_intake import free_port, wait_up
    from bench.bench_serve import start, stop
    from bot.inbox.store import NewDelivery
    from bot.settings import load_settings
    from bot.wiring import build_services

    print(
        f"{args.cases} new cases, Jira latency {args.latency * 1000:.0f} ms per request "
        f"(loopback sandbox), {os.cpu_count()} cores"
    )
    limited = args.write_limit > 0
    if limited:
        print(f"Jira limit {args.write_limit:g} writes/s (429 beyond), JIRA_WRITES_PER_SECOND same")
    header = f"{'threads':>7}{'seconds':>9}{'cases/s':>9}{'req/case':>9}{'x serial bound':>16}"
    if limited:
        header += f"{'writes':>8}{'429s':>6}{'rate bound s':>14}{'x rate bound':>14}"
    print(header)
    base = json.loads(FIXTURE.read_text())
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        with tempfile.TemporaryDirectory(prefix="uzibot-bench-worker-") as tmp:
            work = Path(tmp)
            lines, rows = [], []
            for i in range(args.cases):
                payload = json.loads(json.dumps(base))
                payload["issue"]["key"] = f"UZO-{7000 + i}"
                payload["issue"]["id"] = str(97000 + i)
                distinct_practice(payload, i)
                body = json.dumps(payload)
                lines.append(body)
                rows.append(
                    NewDelivery(
                        f"w-{i}", "jira", payload["webhookEvent"], f"UZO-{7000 + i}", body.encode()
                    )
                )
            seed = work / "seed.jsonl"
            seed.write_text("\n".join(lines) + "\n")
            port = free_port()
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            jira = start(
                [
                    sys.executable,
                    "-m",
                    "bench.jira_server",
                    "--port",
                    str(port),
                    "--seed",
                    str(seed),
                    "--latency",
                    str(args.latency),
                    "--write-limit",
                    str(args.write_limit),
                ],
                env,
                ROOT,
            )
            try:
                wait_up(port)
                settings = load_settings(
                    {
                        "JIRA_URL": f"http://127.0.0.1:{port}",
                        "JIRA_USER": "bench@example.org",
                        "JIRA_API_TOKEN": "bench-token-123",
                        "WEBHOOK_SECRET": "bench-secret-0123456789",
                        "SERVICE_DESK_PROJECT": "UZO",
                        "DATABASE_URL": f"sqlite:///{work / 'w.db'}",
                        "BOT_ACCOUNT_ID": "557058:bench-bot",
                        "WORKER_CONCURRENCY": str(concurrency),
                        "WORKER_POLL_SECONDS": "0.05",
                        "JIRA_WRITES_PER_SECOND": str(args.write_limit if limited else 1000),
                    },
                    env_file=None,
                )
                services = build_services(settings)
                services.gateway.field_ids(services.mappings.field_names())  # one-time lookup
                services.store.add_deliveries(rows)
                services.gateway.reset_stats()
                halt = threading.Event()
                runner = threading.Thread(target=services.worker.run_forever, args=(halt,))
                started = time.perf_counter()
                runner.start()
                deadline = started + max(600.0, args.cases * 10 * args.latency * 2)
                while time.perf_counter() < deadline:
                    counts = services.store.counts()
                    if counts.get("done", 0) + counts.get("failed", 0) >= args.cases:
                        break
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
                halt.set()
                runner.join(timeout=60)
                stats = services.gateway.stats
                requests_sent = sum(stats.values())
                writes = requests_sent - stats.get("GET", 0)
                limits = requests.get(f"http://127.0.0.1:{port}/__fake/limits", timeout=5)
                refused = limits.json()["refused"] if limits.ok else 0
                counts = services.store.counts()
                services.store.close()
            finally:
                stop(jira)
        per_case = requests_sent / args.cases
        bound = args.cases * per_case * args.latency
        line = (
            f"{concurrency:>7}{elapsed:>9.1f}{args.cases / elapsed:>9.1f}{per_case:>9.1f}"
            f"{elapsed / bound:>16.2f}"
        )
        if limited:
            rate_bound = writes / args.write_limit
            line += f"{writes:>8}{refused:>6}{rate_bound:>14.1f}{elapsed / rate_bound:>14.2f}"
        print(f"{line}   {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
