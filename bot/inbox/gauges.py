"""Read-only figures about the inbox for /metrics: queue depth, oldest pending, parked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from bot.inbox.store import Store


@dataclass(frozen=True)
class InboxGauges:
    """What an operator watches: work waiting, how long the oldest has waited, what is parked."""

    queue_depth: int
    oldest_pending_seconds: float
    parked: int


def inbox_gauges(store: Store) -> InboxGauges:
    """One query over the deliveries table (uses the status index)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT "
                "SUM(CASE WHEN status IN ('pending', 'processing') THEN 1 ELSE 0 END), "
                "MIN(CASE WHEN status IN ('pending', 'processing') THEN received_at END), "
                "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) "
                "FROM deliveries WHERE status IN ('pending', 'processing', 'failed')"
            )
        ).first()
    depth, oldest, parked = row if row else (0, None, 0)
    age = max(0.0, store.clock() - float(oldest)) if oldest is not None else 0.0
    return InboxGauges(int(depth or 0), age, int(parked or 0))
