"""Time to claim one delivery with a large backlog due (prints figures and the query plan).

Run: python bench/bench_claim.py [--due 50000] [--claims 300] [--database-url URL]
Fills a fresh store with `--due` pending deliveries (one issue per 10 deliveries, so the
same-issue check has work to do), then claims and finishes `--claims` of them one by one and
prints the median and p99 claim time. Default: a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--due", type=int, default=50_000)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bot.inbox.db import open_store
    from bot.inbox.store import NewDelivery

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/claim.db"
        store = open_store(url)
        batch = []
        for i in range(args.due):
            issue = f"UZO-{i // 10}"
            batch.append(NewDelivery(f"claim-{i}", "jira", "jira:issue_updated", issue, b"{}"))
            if len(batch) == 1000:
                store.add_deliveries(batch)
                batch = []
        if batch:
            store.add_deliveries(batch)
        times = []
        for _ in range(args.claims):
            start = time.perf_counter()
            d = store.claim("bench", 60)
            times.append((time.perf_counter() - start) * 1000)
            if d is None:
                break
            store.finish(d.id, "bench")
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{store.engine.dialect.name}: {args.due} due, {len(times)} claims: "
            f"median {statistics.median(times):.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.2f} ms"
        )
        plan = getattr(store, "claim_plan", None)
        if plan is not None:
            print("query plan:")
            for line in plan():
                print(f"  {line}")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
