"""The worker's thread pool: deliveries of different issues in parallel, retention on the way."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.inbox.db import open_store
from bot.inbox.store import Delivery
from bot.inbox.worker import Retention, Worker
from bot.metrics import create_metrics


def test_the_pool_processes_deliveries_of_different_issues_at_once(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'pool.db'}")
    for i in range(4):
        store.add_delivery(f"d{i}", "jira", "e", f"UZO-{i}", b"{}")
    together = threading.Barrier(4, timeout=20)  # broken unless four are in flight at once

    def process(_delivery: Delivery) -> str:
        together.wait()
        return "done"

    worker = Worker(store, process, create_metrics(), concurrency=4, poll_seconds=0.02)
    stop = threading.Event()
    runner = threading.Thread(target=worker.run_forever, args=(stop,))
    runner.start()
    try:
        for _ in range(400):
            if store.counts() == {"done": 4}:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        runner.join(timeout=30)
        store.close()
    assert not together.broken
    assert store.counts() == {"done": 4}


def test_the_running_worker_applies_retention(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = open_store(f"sqlite:///{tmp_path / 'ret.db'}", clock=lambda: now[0])
    store.add_delivery("old", "jira", "e", "UZO-1", b"{}")
    d = store.claim("w", 60)
    assert d is not None
    store.finish(d.id, "w", "ignored:echo")
    now[0] += 15 * 86400
    worker = Worker(
        store,
        lambda _d: "done",
        create_metrics(),
        poll_seconds=0.02,
        retention=Retention(done_days=14, failed_days=90, every_seconds=600),
    )
    stop = threading.Event()
    runner = threading.Thread(target=worker.run_forever, args=(stop,))
    runner.start()
    try:
        for _ in range(200):
            if store.get("old") is None:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        runner.join(timeout=30)
    assert store.get("old") is None
    store.close()
