"""Draining a backlog of new cases through a Jira with latency: serial worker vs thread pool.

Run: python bench/bench_worker.py [--cases 500] [--latency 0.05] [--concurrency 1,8]
A sandbox Jira over loopback HTTP (bench/jira_server.py) answers every request after
`--latency` seconds. `--cases` distinct portal requests are stored as due deliveries, then
one worker process (the real wiring: gateway, router, reconciler) drains them with
WORKER_CONCURRENCY threads. Prints the wall time, Jira requests per case and the ratio to
the serial bound (cases x requests per case x latency).
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

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "practice_change-abonneenummer-promedico.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", default="1,8")
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
    print(f"{'threads':>7}{'seconds':>9}{'cases/s':>9}{'req/case':>9}{'x serial bound':>16}")
    base = json.loads(FIXTURE.read_text())
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        with tempfile.TemporaryDirectory(prefix="uzibot-bench-worker-") as tmp:
            work = Path(tmp)
            lines, rows = [], []
            for i in range(args.cases):
                payload = json.loads(json.dumps(base))
                payload["issue"]["key"] = f"UZO-{7000 + i}"
                payload["issue"]["id"] = str(97000 + i)
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
                requests_sent = sum(services.gateway.stats.values())
                counts = services.store.counts()
                services.store.close()
            finally:
                stop(jira)
        per_case = requests_sent / args.cases
        bound = args.cases * per_case * args.latency
        print(
            f"{concurrency:>7}{elapsed:>9.1f}{args.cases / elapsed:>9.1f}{per_case:>9.1f}"
            f"{elapsed / bound:>16.2f}   {counts}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
