"""The durable inbox and the effect journal (SQLAlchemy Core on SQLite or PostgreSQL)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.inbox.schema import deliveries, effects

log = logging.getLogger("uzibot.store")
Clock = Callable[[], float]


@dataclass(frozen=True)
class NewDelivery:
    """What the intake stores for one accepted delivery."""

    id: str
    source: str
    event_name: str
    issue_key: str | None
    body: bytes
    # (id, since): the delivery is also a duplicate when a row with that id was received at
    # or after `since` (the Automation endpoint's time window; see bot/intake.py).
    seen_as: tuple[str, float] | None = None


_CLAIM_LOCK = 0x757A69  # "uzi": the advisory lock id that serialises claims on PostgreSQL


@dataclass(frozen=True)
class Delivery:
    """One stored webhook delivery as the worker and the CLI see it."""

    id: str
    source: str
    event_name: str
    issue_key: str | None
    body: bytes
    status: str
    attempts: int
    received_at: float
    next_attempt_at: float
    last_error: str | None


class Store:
    """All persistence; one instance per process, shared by intake and worker threads."""

    def __init__(self, engine: Engine, clock: Clock = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.is_postgres = engine.dialect.name == "postgresql"
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()

    # -- inbox ---------------------------------------------------------------
    def add_delivery(
        self, delivery_id: str, source: str, event_name: str, issue_key: str | None, body: bytes
    ) -> bool:
        """Store one delivery unless its id was seen; True when it is new."""
        return self.add_deliveries([NewDelivery(delivery_id, source, event_name, issue_key, body)])[
            0
        ]

    def add_deliveries(self, rows: Sequence[NewDelivery]) -> list[bool]:
        """Store several deliveries in one transaction (group commit); True where new.

        Runs on the DB-API connection: this is the intake's hot path, and SQLAlchemy's
        per-statement overhead was most of its cost. One SELECT finds the ids already
        stored, one executemany inserts the rest (the primary key still guards races).
        """
        now = self.clock()
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        fresh: dict[str, NewDelivery] = {}
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            wanted = [row.id for row in rows] + [row.seen_as[0] for row in rows if row.seen_as]
            ids = list(dict.fromkeys(wanted))
            cur.execute(
                "SELECT id, received_at FROM deliveries "  # noqa: S608
                f"WHERE id IN ({', '.join([mark] * len(ids))})",
                ids,
            )
            seen = {r[0]: float(r[1]) for r in cur.fetchall()}
            for row in rows:
                if row.id in seen or row.id in fresh or _seen_recently(row, seen, fresh):
                    continue
                fresh[row.id] = row
            cur.executemany(
                "INSERT INTO deliveries (id, source, event_name, issue_key, body, status, "  # noqa: S608
                f"attempts, received_at, next_attempt_at) VALUES ({mark}, {mark}, {mark}, "
                f"{mark}, {mark}, 'pending', 0, {mark}, {mark}) ON CONFLICT (id) DO NOTHING",
                [
                    (r.id, r.source, r.event_name, r.issue_key, r.body, now, now)
                    for r in fresh.values()
                ],
            )
            cur.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()
        # The first occurrence of a new id in the batch is new; repeats are duplicates. (Two
        # processes racing on one id both answer "accepted"; the table still holds one row.)
        out = []
        for row in rows:
            out.append(fresh.pop(row.id, None) is not None)
        return out

    def claim(
        self, owner: str, lease_seconds: float, only_id: str | None = None
    ) -> Delivery | None:
        """Lease the next due delivery (pending and due, or processing with an expired lease).

        Deliveries of one issue are serialised: none is handed out while another delivery of
        the same issue is leased, so two workers never build the same case at once.
        """
        now = self.clock()
        due = (
            "((d.status = 'pending' AND d.next_attempt_at <= :now) "
            "OR (d.status = 'processing' AND d.lease_until < :now)) "
            "AND NOT EXISTS (SELECT 1 FROM deliveries b WHERE b.issue_key = d.issue_key "
            "AND b.id <> d.id AND b.status = 'processing' AND b.lease_until >= :now)"
        )
        if only_id is not None:
            due = f"({due}) AND d.id = :only_id"
        lock = " FOR UPDATE SKIP LOCKED" if self.is_postgres else ""
        # Only constant fragments are interpolated; every value is a bound parameter.
        sql = text(
            "UPDATE deliveries SET status = 'processing', lease_owner = :owner, "  # noqa: S608
            "lease_until = :lease_until, attempts = attempts + 1 "
            f"WHERE id = (SELECT d.id FROM deliveries d WHERE {due} "
            f"ORDER BY d.next_attempt_at LIMIT 1{lock}) "
            "RETURNING id, source, event_name, issue_key, body, status, attempts, "
            "received_at, next_attempt_at, last_error"
        )
        params: dict[str, Any] = {"now": now, "owner": owner, "lease_until": now + lease_seconds}
        if only_id is not None:
            params["only_id"] = only_id
        with self.engine.begin() as conn:
            if self.is_postgres:
                # Claims are short: taking them one at a time makes the NOT EXISTS check above
                # race-free across processes (each statement sees the previous claim's commit).
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
            row = conn.execute(sql, params).mappings().first()
        return _delivery(row) if row else None

    def finish(self, delivery_id: str, owner: str, outcome: str = "done") -> None:
        """Mark a leased delivery done (outcome is `done` or `ignored`)."""
        self._set(
            delivery_id,
            owner,
            status="done",
            last_error=outcome if outcome != "done" else None,
            lease_until=None,
            done_at=self.clock(),
        )

    def reschedule(self, delivery_id: str, owner: str, delay: float, reason: str) -> None:
        """Put a leased delivery back to pending, due after `delay` seconds."""
        self._set(
            delivery_id,
            owner,
            status="pending",
            next_attempt_at=self.clock() + delay,
            last_error=reason[:2000],
            lease_until=None,
        )

    def park(self, delivery_id: str, owner: str, reason: str) -> None:
        """Give up on a delivery: status failed with the reason, replayable from the CLI."""
        self._set(delivery_id, owner, status="failed", last_error=reason[:2000], lease_until=None)

    def requeue(self, delivery_id: str) -> bool:
        """Make a delivery due now with a fresh attempt count (`uzibot replay`)."""
        with self.engine.begin() as conn:
            res = conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=self.clock(),
                    lease_until=None,
                    lease_owner=None,
                )
            )
            return res.rowcount == 1

    def get(self, delivery_id: str) -> Delivery | None:
        """One delivery by id."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(*_DELIVERY_COLS).where(deliveries.c.id == delivery_id))
                .mappings()
                .first()
            )
        return _delivery(row) if row else None

    def list(self, status: str | None = None, limit: int = 100) -> list[Delivery]:
        """Newest deliveries first, optionally only one status."""
        stmt = select(*_DELIVERY_COLS).order_by(deliveries.c.received_at.desc()).limit(limit)
        if status:
            stmt = stmt.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(stmt).mappings()]

    def counts(self) -> dict[str, int]:
        """Number of deliveries per status."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
            return {str(s): int(n) for s, n in rows}

    def _set(self, delivery_id: str, owner: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
                .values(**values)
            )

    # -- effect journal ------------------------------------------------------
    def effect(self, effect_id: str) -> tuple[str, str | None] | None:
        """(state, result) of a journalled effect, or None when never attempted."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(effects.c.state, effects.c.result).where(effects.c.effect_id == effect_id)
            ).first()
        return (str(row[0]), row[1]) if row else None

    def record_effect(
        self, effect_id: str, state: str, result: str | None, delivery_id: str
    ) -> None:
        """Upsert an effect: `intent` before the Jira call, `done` with its key/id after."""
        values = {
            "effect_id": effect_id,
            "state": state,
            "result": result,
            "delivery_id": delivery_id,
            "updated_at": self.clock(),
        }
        ins = pg_insert(effects) if self.is_postgres else sqlite_insert(effects)
        stmt = ins.values(**values).on_conflict_do_update(
            index_elements=["effect_id"],
            set_={
                "state": state,
                "result": result,
                "delivery_id": delivery_id,
                "updated_at": values["updated_at"],
            },
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def start_checkpointer(self, every_seconds: float = 1.0) -> None:
        """SQLite only: fold the WAL into the database in the background, once a second."""
        if self.engine.dialect.name != "sqlite" or self._checkpointer is not None:
            return
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop,
            args=(every_seconds,),
            name="uzibot-checkpoint",
            daemon=True,
        )
        self._checkpointer.start()

    def _checkpoint_loop(self, every_seconds: float) -> None:
        failures = 0
        while not self._stop.wait(every_seconds):
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                failures = 0
            except Exception as exc:
                failures += 1
                if failures == 3:  # the database is gone or broken: say so once, then stop
                    log.error("WAL checkpoints failing, checkpointer stops: %s", exc)
                    return

    def close(self) -> None:
        """Stop the checkpointer and release the connections."""
        self._stop.set()
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


def _seen_recently(row: NewDelivery, seen: dict[str, float], fresh: dict[str, NewDelivery]) -> bool:
    if row.seen_as is None:
        return False
    other, since = row.seen_as
    return other in fresh or (other in seen and seen[other] >= since)


_DELIVERY_COLS = (
    deliveries.c.id,
    deliveries.c.source,
    deliveries.c.event_name,
    deliveries.c.issue_key,
    deliveries.c.body,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.received_at,
    deliveries.c.next_attempt_at,
    deliveries.c.last_error,
)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        source=row["source"],
        event_name=row["event_name"],
        issue_key=row["issue_key"],
        body=bytes(row["body"]),
        status=row["status"],
        attempts=int(row["attempts"]),
        received_at=float(row["received_at"]),
        next_attempt_at=float(row["next_attempt_at"]),
        last_error=row["last_error"],
    )
