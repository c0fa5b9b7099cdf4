"""The durable inbox and the effect journal (SQLAlchemy Core on SQLite or PostgreSQL)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.inbox.inserts import NewDelivery, insert_batch, insert_without_waiting, spin_while_locked
from bot.inbox.lease import Lease, LeaseLost, current_lease
from bot.inbox.schema import deliveries, effects

log = logging.getLogger("uzibot.store")
Clock = Callable[[], float]


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
    outcome: str | None = None
    lease_token: str | None = None
    """Set on a delivery returned by `claim`: the fencing token of this claim."""


# Another delivery of the same issue holds a live lease: this one waits (per-issue order).
_ISSUE_BUSY = (
    "EXISTS (SELECT 1 FROM deliveries b WHERE b.issue_key = d.issue_key "
    "AND b.status = 'processing' AND b.lease_until >= :now)"
)
# What a claim takes, in this order: an expired lease first (its worker died), then the
# delivery due longest. Each is one range of one index, read in index order (no sort).
_CLAIM_PICKS = (
    ("d.status = 'processing' AND d.lease_until < :now", "d.lease_until"),
    ("d.status = 'pending' AND d.next_attempt_at <= :now", "d.next_attempt_at"),
)
_RETURNING = (
    "RETURNING id, source, event_name, issue_key, body, status, attempts, "
    "received_at, next_attempt_at, last_error, outcome, lease_token"
)
PRUNE_BATCH = 1000


class Store:
    """All persistence; one instance per process, shared by intake and worker threads."""

    def __init__(self, engine: Engine, clock: Clock = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.is_postgres = engine.dialect.name == "postgresql"
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        self._nowait: Any = None
        """SQLite: the intake's own connection, with a zero busy timeout (never waits)."""
        self._closers: list[Callable[[], None]] = []

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call `closer` when the store closes (the intake's own connections go with it)."""
        self._closers.append(closer)

    def postgres_conninfo(self) -> str:
        """The libpq connection string of this PostgreSQL store (the intake's async writes)."""
        url = self.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

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

        On SQLite this waits (spinning in short steps) while another process writes.
        """
        now = self.clock()
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        raw = self.engine.raw_connection()
        try:
            if self.is_postgres:
                return insert_batch(raw, rows, now, mark)
            return spin_while_locked(raw, lambda: insert_batch(raw, rows, now, mark))
        finally:
            raw.close()

    def add_deliveries_nowait(self, rows: Sequence[NewDelivery]) -> list[bool | Exception] | None:
        """SQLite only: store the rows now if nobody holds the write lock, else None at once.

        True where new, False for a seen id, an Exception for a row SQLite refused (the
        others still commit). The intake calls this on its event loop (bot/inbox/writer.py).
        """
        if self.engine.url.database in (None, "", ":memory:"):
            raw = self.engine.raw_connection()  # one connection, no other process: never busy
            try:
                conn: Any = raw.driver_connection
                return insert_without_waiting(conn, rows, self.clock())
            finally:
                raw.close()
        if self._nowait is None:
            raw = self.engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # kept by the intake for good: its busy timeout differs from the pool's
            conn.execute("PRAGMA busy_timeout=0")
            self._nowait = conn
        return insert_without_waiting(self._nowait, rows, self.clock())

    def claim(
        self, owner: str, lease_seconds: float, only_id: str | None = None
    ) -> Delivery | None:
        """Lease the next due delivery (pending and due, or processing with an expired lease).

        Deliveries of one issue are serialised: none is handed out while another delivery of
        the same issue is leased, so two workers never build the same case at once. Every
        claim gets a new `lease_token`; effects and state changes are fenced on it.
        """
        now = self.clock()
        params: dict[str, Any] = {
            "now": now,
            "owner": owner,
            "token": uuid.uuid4().hex,
            "lease_until": now + lease_seconds,
        }
        if only_id is not None:
            params["only_id"] = only_id
        with self.engine.begin() as conn:
            if self.is_postgres:
                # Claims are short: taking them one at a time makes the busy-issue check
                # race-free across processes (each statement sees the previous claim's commit).
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
            for where, order in _CLAIM_PICKS:
                sql = self._claim_sql(where, order, only_id)
                row = conn.execute(sql, params).mappings().first()
                if row is not None:
                    return _delivery(row)
        return None

    def _claim_sql(self, where: str, order: str, only_id: str | None) -> Any:
        due = f"{where} AND NOT {_ISSUE_BUSY}"
        if only_id is not None:
            due += " AND d.id = :only_id"
        lock = " FOR UPDATE SKIP LOCKED" if self.is_postgres else ""
        # Only constant fragments are interpolated; every value is a bound parameter.
        return text(
            "UPDATE deliveries SET status = 'processing', lease_owner = :owner, "  # noqa: S608
            "lease_token = :token, lease_until = :lease_until, attempts = attempts + 1 "
            f"WHERE id = (SELECT d.id FROM deliveries d WHERE {due} "
            f"ORDER BY {order} LIMIT 1{lock}) {_RETURNING}"
        )

    def claim_plan(self) -> list[str]:
        """The database's plan for the claim's two selects (bench/bench_claim.py prints it)."""
        lines: list[str] = []
        with self.engine.connect() as conn:
            for where, order in _CLAIM_PICKS:
                inner = (
                    f"SELECT d.id FROM deliveries d WHERE {where} AND NOT {_ISSUE_BUSY} "  # noqa: S608
                    f"ORDER BY {order} LIMIT 1"
                )
                prefix = "EXPLAIN " if self.is_postgres else "EXPLAIN QUERY PLAN "
                rows = conn.execute(text(prefix + inner), {"now": self.clock()})
                lines += [" ".join(str(c) for c in r[-1:]) for r in rows]
        return lines

    def renew(self, lease: Lease) -> bool:
        """Heartbeat: extend a held lease; False (and the lease marked lost) once taken over."""
        with self.engine.begin() as conn:
            return self._renew_in(conn, lease)

    def _renew_in(self, conn: Any, lease: Lease) -> bool:
        if lease.lost:
            return False
        until = self.clock() + lease.seconds
        res = conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == lease.delivery_id,
                deliveries.c.lease_token == lease.token,
                deliveries.c.status == "processing",
            )
            .values(lease_until=until)
        )
        if res.rowcount == 1:
            lease.extend(until)
            return True
        lease.mark_lost()
        return False

    def finish(
        self, delivery_id: str, owner: str, outcome: str = "done", token: str | None = None
    ) -> bool:
        """Mark a leased delivery done (`outcome`: `done` or `ignored:<why>`); False if not ours."""
        return self._set(
            delivery_id,
            owner,
            token,
            status="done",
            outcome=outcome,
            last_error=None,
            lease_until=None,
            done_at=self.clock(),
        )

    def reschedule(
        self, delivery_id: str, owner: str, delay: float, reason: str, token: str | None = None
    ) -> bool:
        """Put a leased delivery back to pending, due after `delay` seconds."""
        return self._set(
            delivery_id,
            owner,
            token,
            status="pending",
            next_attempt_at=self.clock() + delay,
            last_error=reason[:2000],
            lease_until=None,
        )

    def park(self, delivery_id: str, owner: str, reason: str, token: str | None = None) -> bool:
        """Give up on a delivery: status failed with the reason, replayable from the CLI."""
        return self._set(
            delivery_id,
            owner,
            token,
            status="failed",
            last_error=reason[:2000],
            lease_until=None,
            done_at=self.clock(),
        )

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
                    lease_token=None,
                    done_at=None,
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

    def list_deliveries(self, status: str | None = None, limit: int = 100) -> list[Delivery]:
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

    def _set(self, delivery_id: str, owner: str, token: str | None, **values: Any) -> bool:
        """Change a leased delivery; only its current holder may (owner, and token if given)."""
        cond = [
            deliveries.c.id == delivery_id,
            deliveries.c.lease_owner == owner,
            deliveries.c.status == "processing",
        ]
        if token is not None:
            cond.append(deliveries.c.lease_token == token)
        with self.engine.begin() as conn:
            res = conn.execute(update(deliveries).where(*cond).values(**values))
        return bool(res.rowcount == 1)

    # -- retention -----------------------------------------------------------
    def prune(self, done_before: float, failed_before: float | None) -> dict[str, int]:
        """Delete done/ignored deliveries finished before `done_before`, parked ones before
        `failed_before` (None keeps them); in batches, so no transaction holds the lock long.

        The effect journal is never pruned here: it is keyed by request, not by delivery, and
        it is what stops a later delivery of the same request from creating a second case or
        posting a reply again.
        """
        removed = {"done": 0, "failed": 0}
        for status, before in (("done", done_before), ("failed", failed_before)):
            if before is None:
                continue
            while True:
                with self.engine.begin() as conn:
                    res = conn.execute(
                        text(
                            "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries "
                            "WHERE status = :s AND done_at < :before LIMIT :n)"
                        ),
                        {"s": status, "before": before, "n": PRUNE_BATCH},
                    )
                removed[status] += res.rowcount
                if res.rowcount < PRUNE_BATCH:
                    break
        return removed

    def purge_failed(self) -> int:
        """Delete every parked delivery (`uzibot deliveries --purge`); return how many."""
        removed = 0
        while True:
            with self.engine.begin() as conn:
                res = conn.execute(
                    text(
                        "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries "
                        "WHERE status = 'failed' LIMIT :n)"
                    ),
                    {"n": PRUNE_BATCH},
                )
            removed += res.rowcount
            if res.rowcount < PRUNE_BATCH:
                return removed

    def checkpoint(self) -> None:
        """SQLite: fold the whole WAL into the database and truncate the file (bounded WAL)."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

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
        """Upsert an effect: `intent` before the Jira call, `done` with its key/id after.

        Fenced: inside a worker's processing (a current lease for this delivery) the same
        transaction first renews the lease by its token. If another claim took the delivery
        over, an `intent` is not written and LeaseLost is raised, so the Jira call never
        happens; a `done` is still written (the effect did happen) and LeaseLost follows.
        """
        lease = current_lease()
        fenced = lease is not None and lease.delivery_id == delivery_id
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
        owned = True
        with self.engine.begin() as conn:
            if fenced:
                assert lease is not None  # for mypy: fenced implies a lease
                owned = self._renew_in(conn, lease)
            if owned or state == "done":
                conn.execute(stmt)
        if not owned:
            raise LeaseLost(f"delivery {delivery_id}: lease taken over; {effect_id} not applied")

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
        while self._closers:
            self._closers.pop()()
        if self._nowait is not None:
            self._nowait.close()
            self._nowait = None
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


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
    deliveries.c.outcome,
    deliveries.c.lease_token,
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
        outcome=row["outcome"],
        lease_token=row["lease_token"],
    )
