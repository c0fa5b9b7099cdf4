"""PostgreSQL intake writes on the event loop: a few asynchronous connections, a batch each.

A commit on PostgreSQL waits for the server (its WAL flush). Waiting on writer threads cost
the intake most of its throughput: each thread needs the GIL back after every round trip
while the event loop holds it. psycopg's asynchronous connections wait on the loop instead,
so a batch costs its round trips and nothing more, and several batches commit at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.inbox.inserts import NewDelivery, answers, candidates, window_query

UNNEST_INSERT = (
    "INSERT INTO deliveries (id, source, event_name, issue_key, body, status, attempts, "
    "received_at, next_attempt_at) "
    "SELECT i, s, e, k, b, 'pending', 0, %b, %b "
    "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::bytea[]) AS t(i, s, e, k, b) "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)
"""Every batch, whatever its size, in one statement of one text: psycopg converts it once and
prepares it on the server after a few uses, so neither side parses SQL per batch (a VALUES
list per batch size cost the event loop about a tenth of its time in query conversion)."""


def unnest_params(rows: Sequence[NewDelivery], now: float) -> list[Any]:
    """UNNEST_INSERT's parameters: the time twice, then one array per column."""
    return [
        now,
        now,
        [r.id for r in rows],
        [r.source for r in rows],
        [r.event_name for r in rows],
        [r.issue_key for r in rows],
        [r.body for r in rows],
    ]


class AsyncInserter:
    """The connections of one event loop, opened on first use and kept while healthy.

    The writer runs at most `POSTGRES_INTAKE_COMMITS` batches at once, so at most that many
    connections are open.
    """

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._idle: list[Any] = []
        self._open: list[Any] = []

    async def insert(self, rows: Sequence[NewDelivery], now: float) -> list[bool]:
        """Store the rows in one transaction; True where new. Raises (rolled back) on failure.

        A kept connection the server has dropped since (a restart, a failover, an
        idle-session timeout) costs no batch: the batch is sent once more on a new
        connection (the primary key makes a repeat harmless).
        """
        reused = bool(self._idle)
        conn = self._idle.pop() if reused else await self._connect()
        try:
            return await self._insert_on(conn, rows, now)
        except Exception:
            if not (reused and (conn.broken or conn.closed)):
                raise
        return await self._insert_on(await self._connect(), rows, now)

    async def _insert_on(self, conn: Any, rows: Sequence[NewDelivery], now: float) -> list[bool]:
        try:
            return await _insert_batch(conn, rows, now)
        finally:
            self._release(conn)

    def _release(self, conn: Any) -> None:
        """Keep a connection that is idle and healthy; close any other."""
        from psycopg.pq import TransactionStatus

        if conn.broken or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            self._forget(conn)
        else:
            self._idle.append(conn)

    async def _connect(self) -> Any:
        import psycopg  # the postgres extra; only a PostgreSQL store gets here

        # Autocommit: a batch that is one INSERT commits with it, in one round trip.
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        self._open.append(conn)
        return conn

    def _forget(self, conn: Any) -> None:
        if conn in self._open:
            self._open.remove(conn)
        conn.pgconn.finish()

    def close(self) -> None:
        """Close every connection now (synchronous: it works after the loop has ended)."""
        for conn in list(self._open):
            self._forget(conn)
        self._idle.clear()


async def _insert_batch(conn: Any, rows: Sequence[NewDelivery], now: float) -> list[bool]:
    """The asynchronous twin of bot.inbox.inserts.insert_batch: the same answers, one statement.

    The usual batch is one INSERT, which on an autocommit connection is its own transaction:
    one round trip. A batch with Automation rows (a window SELECT first) runs in an explicit
    transaction.
    """
    query = window_query(rows, "%s")
    if query is None:
        async with conn.cursor() as cur:
            await cur.execute(UNNEST_INSERT, unnest_params(candidates(rows, {}), now))
            return answers(rows, {r[0] for r in await cur.fetchall()})
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(*query)
        seen = {r[0]: float(r[1]) for r in await cur.fetchall()}
        await cur.execute(UNNEST_INSERT, unnest_params(candidates(rows, seen), now))
        return answers(rows, {r[0] for r in await cur.fetchall()})
