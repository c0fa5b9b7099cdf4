"""Inbox administration for the CLI: list deliveries, purge parked ones, replay one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO

from bot.inbox.store import Store
from bot.wiring import Services


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def list_deliveries(store: Store, *, failed_only: bool, limit: int, out: TextIO) -> int:
    """Print deliveries newest first, with status, attempts and the last error."""
    rows = store.list_deliveries("failed" if failed_only else None, limit=limit)
    counts = store.counts()
    print(
        "inbox: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"), file=out
    )
    for d in rows:
        line = (
            f"{d.id}  {d.status:<10} attempts={d.attempts:<2} received={_when(d.received_at)}"
            f"  {d.event_name} {d.issue_key or '-'}" + (f"  {d.outcome}" if d.outcome else "")
        )
        print(line, file=out)
        if d.last_error:
            print(f"    last error: {d.last_error}", file=out)
    return 0


def purge_failed(store: Store, *, out: TextIO) -> int:
    """Delete every parked delivery (they are otherwise kept RETENTION_FAILED_DAYS)."""
    removed = store.purge_failed()
    print(f"purged {removed} parked deliveries", file=out)
    return 0


def replay(services: Services, delivery_id: str, *, queue_only: bool, out: TextIO) -> int:
    """Make a delivery due again and (unless --queue-only) process it now; 1 when it failed."""
    if not services.store.requeue(delivery_id):
        print(f"uzibot: no delivery with id {delivery_id}", file=out)
        return 1
    if queue_only:
        print(f"{delivery_id}: queued", file=out)
        return 0
    services.worker.run_once(only_id=delivery_id)
    after = services.store.get(delivery_id)
    status = after.status if after else "missing"
    detail = (after.last_error or after.outcome) if after else None
    print(f"{delivery_id}: {status}" + (f" ({detail})" if detail else ""), file=out)
    return 0 if status == "done" else 1
