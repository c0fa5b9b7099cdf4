"""Inbox administration for the CLI: the deliveries table, purging parked ones, replaying."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from bot.cli.progress import Progress
from bot.cli.table import cut, format_table
from bot.inbox.store import Delivery, Store
from bot.wiring import Services

ERROR_WIDTH = 70


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def outcome_of(delivery: Delivery) -> str:
    """What became of a delivery: done, ignored:<why>, failed, retrying, pending, processing."""
    if delivery.status == "done":
        return delivery.outcome or "done"
    if delivery.status == "pending" and delivery.attempts:
        return "retrying"
    return delivery.status


def error_of(delivery: Delivery) -> str | None:
    """The last error of an unfinished or parked delivery, never an outcome."""
    return None if delivery.status == "done" else delivery.last_error


def _next_attempt(delivery: Delivery, now: float) -> str:
    if delivery.status != "pending":
        return "-"
    return "due now" if delivery.next_attempt_at <= now else _when(delivery.next_attempt_at)


def list_deliveries(
    store: Store, *, failed_only: bool, limit: int, out: TextIO, wide: bool = False
) -> int:
    """Print the inbox counts, then a table of deliveries, newest first."""
    rows = store.list_deliveries("failed" if failed_only else None, limit=limit)
    counts = store.counts()
    print(
        "inbox: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"), file=out
    )
    if not rows:
        return 0
    now = store.clock()
    table = [
        (
            d.id,
            d.event_name,
            d.issue_key or "-",
            outcome_of(d),
            str(d.attempts),
            _next_attempt(d, now),
            (error_of(d) or "-") if wide else cut(error_of(d), ERROR_WIDTH),
        )
        for d in rows
    ]
    headers = ("id", "event", "request", "outcome", "attempts", "next attempt", "last error")
    for line in format_table(headers, table):
        print(line, file=out)
    return 0


def purge_failed(store: Store, *, out: TextIO) -> int:
    """Delete every parked delivery (they are otherwise kept RETENTION_FAILED_DAYS)."""
    removed = store.purge_failed()
    print(f"purged {removed} parked deliveries", file=out)
    return 0


def replay(services: Services, delivery_id: str, *, queue_only: bool, out: TextIO) -> int:
    """Make a delivery due again and (unless --queue-only) process it now; 1 when it failed."""
    return replay_many(services, [delivery_id], queue_only=queue_only, out=out)


def replay_many(
    services: Services,
    delivery_ids: list[str],
    *,
    queue_only: bool,
    out: TextIO,
    progress: TextIO | None = None,
) -> int:
    """Replay each delivery in turn (a progress bar on a terminal); 1 when any did not finish."""
    failed = 0
    started = time.monotonic()
    with Progress(len(delivery_ids), "replaying", stream=progress or sys.stderr) as bar:
        for delivery_id in delivery_ids:
            failed += _replay_one(services, delivery_id, queue_only=queue_only, out=out)
            bar.advance()
    if len(delivery_ids) > 1:
        print(
            f"replayed {len(delivery_ids)} deliveries in {time.monotonic() - started:.1f} s; "
            f"{len(delivery_ids) - failed} ok, {failed} not done",
            file=out,
        )
    return 1 if failed else 0


def _replay_one(services: Services, delivery_id: str, *, queue_only: bool, out: TextIO) -> int:
    if not services.store.requeue(delivery_id):
        print(f"uzibot: no delivery with id {delivery_id}", file=out)
        return 1
    if queue_only:
        print(f"{delivery_id}: queued", file=out)
        return 0
    services.worker.run_once(only_id=delivery_id)
    after = services.store.get(delivery_id)
    if after is None:
        print(f"{delivery_id}: missing", file=out)
        return 1
    error = error_of(after)
    print(f"{delivery_id}: {outcome_of(after)}" + (f" ({error})" if error else ""), file=out)
    return 0 if after.status == "done" else 1
