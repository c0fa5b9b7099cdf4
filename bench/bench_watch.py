"""Expiry watch figures: one scan over 5,000 certificates (nothing due / 5% due, Jira time
excluded), and the three-year calendar over 2,000 certificates with two watchers and an outage.

Run: python bench/bench_watch.py [--count 5000] [--sim 2000]   (prints figures; no asserts)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.watch_sim import simulate  # noqa: E402
from bot.certs.registry import record_certificates  # noqa: E402
from bot.jira.http import JiraHttp  # noqa: E402
from bot.plan import CertificateRecord  # noqa: E402
from bot.sandbox.site import JiraSandbox  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.wiring import build_services  # noqa: E402

TODAY = date(2027, 1, 1)


@dataclass(frozen=True)
class Figures:
    """One scan: wall and CPU seconds without the Jira calls, the Jira wall time, steps."""

    wall: float
    cpu: float
    jira: float
    steps: int


def scan_figures(count: int, due_share: float) -> Figures:
    """One scan over `count` registered certificates of which `due_share` are due today."""
    folder = Path(tempfile.mkdtemp(prefix="uzibot-bench-watch-"))
    sandbox = JiraSandbox()
    settings = load_settings(
        {
            "JIRA_URL": sandbox.base_url,
            "JIRA_USER": "uzibot@example.com",
            "JIRA_API_TOKEN": "api-token-for-bench",
            "WEBHOOK_SECRET": "bench-secret-value",
            "SERVICE_DESK_PROJECT": "UZO",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        },
        env_file=None,
    )
    services = build_services(settings, session=sandbox.mount(requests.Session()))
    due = int(count * due_share)
    records = []
    for n in range(count):
        # Due ones are 59 days from expiry (the 60-day threshold); the rest are a year out.
        days = 59 if n < due else 400 + n % 600
        expires = datetime.combine(TODAY + timedelta(days=days), datetime.min.time(), UTC)
        number = f"{30000000 + n}"
        sandbox.add_customer(f"qm:{number}", f"{number}@example.nl")
        records.append(
            CertificateRecord(
                fingerprint=f"{n:064x}",
                abonneenummer=number,
                not_after=(expires + timedelta(hours=9)).isoformat(),
                contact=f"qm:{number}",
                environment="production",
            )
        )
    record_certificates(services.store, records)
    jira = [0.0, 0.0]
    original = JiraHttp.send

    def timed_send(self: JiraHttp, *args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            jira[0] += time.perf_counter() - started
            jira[1] += time.process_time() - cpu

    JiraHttp.send = timed_send  # type: ignore[method-assign]
    try:
        services.watch.scan(TODAY - timedelta(days=5))  # warm-up: nothing due yet
        jira[0] = jira[1] = 0.0
        started, cpu = time.perf_counter(), time.process_time()
        found = services.watch.scan(TODAY)
        total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        JiraHttp.send = original  # type: ignore[method-assign]
    services.store.close()
    return Figures(total - jira[0], total_cpu - jira[1], jira[0], found.wrote())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--sim", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for share in (0.0, 0.05):
        runs = [scan_figures(args.count, share) for _ in range(args.rounds)]
        best = min(runs, key=lambda f: f.wall)
        print(
            f"scan over {args.count} certificates, {share:.0%} due ({best.steps} steps): "
            f"best of {args.rounds} {best.wall * 1000:.0f} ms wall / {best.cpu * 1000:.0f} ms CPU "
            f"without Jira (all runs: {', '.join(f'{f.wall * 1000:.0f}' for f in runs)} ms; "
            f"in-memory Jira {best.jira * 1000:.0f} ms excluded)"
        )
    if args.sim:
        started = time.perf_counter()
        result = simulate(args.sim, years=3, outage=(400, 10), watchers=2)
        wall = time.perf_counter() - started
        print(
            f"three years over {result.certificates} certificates, two watchers, 10-day outage: "
            f"{result.scans} scans, {result.raised} requests raised, {result.reminders} "
            f"reminders, {result.priorities} priorities, {result.newer} newer-certificate "
            f"notices; catch-up after the outage: {result.catch_up_reminders} reminders for "
            f"{result.catch_up_certificates} certificates ({result.catch_up_skipped} of them "
            f"had passed two or more thresholds); differences from the model: "
            f"{len(result.problems)}; {wall:.0f} s wall"
        )
        for line in result.problems[:20]:
            print("  ", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
